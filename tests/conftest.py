"""Shared fixtures: small Stable-Diffusion-shaped pipelines built from configs (random weights).

Nothing here touches the network: the tests run with HF_HUB_OFFLINE=1.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before huggingface_hub is imported anywhere
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# What the tests (and notebooks collected in the same run) save goes to a temporary folder, not outputs/.
# `make test` sets it for the whole run; a plain `pytest tests` gets its own folder, removed at the end.
if not os.environ.get("COURSE_OUTPUT_DIR"):
    _outputs = tempfile.mkdtemp(prefix="course-test-outputs-")
    os.environ["COURSE_OUTPUT_DIR"] = _outputs
    atexit.register(shutil.rmtree, _outputs, ignore_errors=True)

import pytest  # noqa: E402
import torch  # noqa: E402


def build_tiny_pipeline():
    """A random-weight pipeline with the structure of Stable Diffusion, small enough for unit tests."""
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    letters = "abcdefghijklmnopqrstuvwxyz0123456789,.-!?'"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in letters:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    tok = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16)
    torch.manual_seed(0)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                                        num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=16,
                                        bos_token_id=0, eos_token_id=1, pad_token_id=1))
    vae = AutoencoderKL(block_out_channels=(16, 16), down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4, norm_num_groups=8,
                        layers_per_block=1, sample_size=16)
    unet = UNet2DConditionModel(sample_size=8, in_channels=4, out_channels=4, layers_per_block=1,
                                block_out_channels=(16, 32), norm_num_groups=8, cross_attention_dim=32,
                                attention_head_dim=8, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"))
    sched = DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                          clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    return StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tok, unet=unet, scheduler=sched,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A folder in diffusers' format holding a tiny random pipeline (safetensors only)."""
    path = tmp_path_factory.mktemp("tiny-sd")
    build_tiny_pipeline().save_pretrained(path, safe_serialization=True)
    return path


@pytest.fixture(scope="module")
def tiny_pipe():
    """The tiny pipeline built in memory, without progress bars; one per test module."""
    pipe = build_tiny_pipeline()
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def pipe(tiny_model_dir):
    """The tiny pipeline loaded the course's way (`load_pipeline` on its folder, on the CPU); one per test module."""
    from course_utils import models

    models.clear_cache()
    return models.load_pipeline(str(tiny_model_dir), device="cpu", verbose=False)
