"""A model with Stable Diffusion 1.5's interface and almost none of its size, for testing the real path.

Built from `assets/configs/sd15` in a few seconds, offline, with random weights: the same PNDM
scheduler, a 77-token prompt read by a 768-wide text encoder, a VAE that shrinks each side 8-fold
into 4 latent channels, and a U-Net with SD 1.5's block layout and cross-attention width, only
narrow (1.2 M parameters). It draws noise, not cats, but every shape, default and code path the notebooks meet on a
GPU with the real model is there: a notebook constant that only fits the embedded model (64 pixels,
32 tokens, DDIM, its judge) fails with it. ``make test`` runs every notebook a second time with
``COURSE_MODEL`` pointing at it; ``python -m course_utils.minisd.real_shaped FOLDER`` builds it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from ..models import EMBEDDED_DIR, quiet_libraries
from ..paths import ASSETS

CONFIGS = ASSETS / "configs" / "sd15"
RESOLUTION = 128  # pixels per side: 16 x 16 latents, as fast as the embedded model's

#: Stable Diffusion 1.5's scheduler, as its model repository configures it.
SD15_SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
                      set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1, prediction_type="epsilon",
                      clip_sample=False)


def _config(name: str, **narrow) -> dict:
    config = {k: v for k, v in json.loads((CONFIGS / f"{name}.json").read_text()).items() if not k.startswith("_")}
    return {**config, **narrow}


def build(folder: str | Path, resolution: int = RESOLUTION, seed: int = 0) -> Path:
    """Write the model to `folder` (diffusers' layout, safetensors) and return the folder."""
    quiet_libraries()
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder = Path(folder)
    torch.manual_seed(seed)
    # the embedded model's vocabulary (the real one is 49,408 words, 150 MB of embeddings at 768 wide)
    tokenizer = CLIPTokenizer.from_pretrained(EMBEDDED_DIR / "tokenizer", model_max_length=77)
    text = _config("text_encoder")
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=text["hidden_size"], intermediate_size=2 * text["hidden_size"],
        num_hidden_layers=1, num_attention_heads=text["num_attention_heads"],
        max_position_embeddings=text["max_position_embeddings"], hidden_act=text["hidden_act"],
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, projection_dim=text.get("projection_dim", 768)))
    # narrow enough that a 30-step picture takes about a second on one CPU thread (the cost is the number
    # of small operations, which SD 1.5's block layout fixes, more than their width)
    vae = AutoencoderKL(**_config("vae", block_out_channels=[16, 16, 32, 32], layers_per_block=1, norm_num_groups=16,
                                  sample_size=resolution))
    unet = UNet2DConditionModel(**_config("unet", block_out_channels=[32, 32, 32, 32], layers_per_block=1,
                                          sample_size=resolution // 8))
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=PNDMScheduler.from_config(SD15_SCHEDULER), safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


if __name__ == "__main__":
    out = build(sys.argv[1] if len(sys.argv) > 1 else "build/real-shaped")
    print(f"built a Stable-Diffusion-1.5-shaped model with random weights in {out}")
