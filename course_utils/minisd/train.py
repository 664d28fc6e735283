"""Train the embedded model, stage by stage, on a CPU (or a GPU when there is one).

    python -m course_utils.minisd.train                # every stage, resuming where it stopped
    python -m course_utils.minisd.train --stage vae    # one stage

Stages: ``data`` (draw and cache the pictures), ``tokenizer`` (a BPE trained on captions),
``clip`` (text encoder + image tower, contrastive), ``portraits`` (draw close-ups of cats' faces),
``judge`` (the image tower tuned further on every combination and on close-ups, for scoring only),
``vae`` (autoencoder), ``unet`` (the denoiser, with caption dropout for classifier-free guidance),
``vae_photos`` (the autoencoder's encoder trained further on real photos as well), ``unet_portraits``
(optional, off as shipped: the denoiser trained further on close-ups too), ``unet_lcm`` (a few-step student
distilled from the denoiser, see distill.py) and ``export``
(diffusers' folder format, safetensors only). Every long stage writes checkpoints into ``build/minisd``
(``--work-dir``) and a loss log (``*_loss.csv``), and resumes from its last checkpoint when started again.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from .config import MiniSDConfig
from .data_stages import load_data, stage_data, stage_portraits
from .distill import lcm_scheduler, stage_unet_lcm
from .loop import autocast, load_ckpt, save_ckpt, train_device, train_loop, write_timing
from .text_stages import build_clip, load_tokenizer, stage_clip, stage_judge, stage_tokenizer, tokenize
from .unet_stages import build_scheduler, build_unet, encode_all, min_snr_weight, stage_unet, stage_unet_portraits
from .vae_stages import build_vae, grey_ssim_loss, stage_vae, stage_vae_photos

__all__ = [
    "STAGES",
    "autocast",
    "build_clip",
    "build_scheduler",
    "build_unet",
    "build_vae",
    "encode_all",
    "grey_ssim_loss",
    "load_ckpt",
    "load_data",
    "load_tokenizer",
    "main",
    "min_snr_weight",
    "parse_args",
    "save_ckpt",
    "stage_clip",
    "stage_data",
    "stage_export",
    "stage_judge",
    "stage_portraits",
    "stage_tokenizer",
    "stage_unet",
    "stage_unet_lcm",
    "stage_unet_portraits",
    "stage_vae",
    "stage_vae_photos",
    "tokenize",
    "train_device",
    "train_loop",
    "write_timing",
]

STAGES = ("data", "tokenizer", "clip", "portraits", "judge", "vae", "unet", "vae_photos", "unet_portraits",
          "unet_lcm", "export")


# --- stage: export ------------------------------------------------------------------------------
def stage_export(cfg: MiniSDConfig, unet_dir: Path | None = None) -> Path:
    """Assemble the pipeline in diffusers' folder format under assets/models/, safetensors only."""
    from diffusers import AutoencoderKL, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPModel, CLIPTextModel

    tok = load_tokenizer(cfg)
    pipe = StableDiffusionPipeline(
        vae=AutoencoderKL.from_pretrained(cfg.work_dir / "vae_photos"),
        text_encoder=CLIPTextModel.from_pretrained(cfg.work_dir / "clip"),
        tokenizer=tok,
        unet=UNet2DConditionModel.from_pretrained(unet_dir or cfg.work_dir / ("unet_portraits" if cfg.portrait_steps
                                                                            else "unet")),
        scheduler=build_scheduler(cfg, "ddim"),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(cfg.out_dir, safe_serialization=True)
    _strip_local_paths(cfg.out_dir)
    # The image tower, for scoring pictures against prompts (CLIP score). Only the vision half and
    # the two projections are needed beside the pipeline's text encoder, but the whole CLIP model
    # is kept so that `CLIPModel.from_pretrained` works as usual.
    judge = cfg.work_dir / "judge"
    clip = CLIPModel.from_pretrained(judge if (judge / "config.json").exists() else cfg.work_dir / "clip")
    text = pipe.text_encoder.state_dict()
    if any(not torch.equal(w, text[k]) for k, w in clip.text_model.state_dict().items()):
        raise RuntimeError(f"{judge} was tuned from another CLIP than {cfg.work_dir / 'clip'}: delete it and run "
                           "the stage judge again (python -m course_utils.minisd.train --stage judge --stage export)")
    clip.save_pretrained(cfg.out_dir / "clip", safe_serialization=True)
    lcm = cfg.work_dir / "unet_lcm"
    if (lcm / "config.json").exists():  # the few-step student and its scheduler, beside the 20-step model
        UNet2DConditionModel.from_pretrained(lcm).save_pretrained(cfg.out_dir / "unet_lcm", safe_serialization=True)
        lcm_scheduler(cfg).save_pretrained(cfg.out_dir / "scheduler_lcm")
        _strip_local_paths(cfg.out_dir)
    timing = cfg.work_dir / "timing.json"
    if timing.exists():
        (cfg.out_dir / "training_time.json").write_text(timing.read_text())
    return cfg.out_dir


def _strip_local_paths(folder: Path) -> None:
    """Drop the training machine's folder names (``_name_or_path``) from the exported configs: a shipped
    model should not carry the path it was built in."""
    for config in folder.glob("*/config.json"):
        data = json.loads(config.read_text())
        if data.pop("_name_or_path", None) is not None:
            config.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


# Options that set a MiniSDConfig field when given: option -> field. Those in _IF_NONZERO are ignored when 0 (as
# the defaults), those in _AT_LEAST_0 must not be negative.
_FIELDS = {"work_dir": "work_dir", "out_dir": "out_dir", "unet_steps": "unet_steps", "vae_steps": "vae_steps",
           "vae_batch": "vae_batch", "vae_photo_steps": "vae_photo_steps", "portrait_steps": "portrait_steps",
           "lcm_steps": "lcm_steps", "vae_photo_decoder": "vae_photo_decoder", "vae_photo_ssim": "vae_photo_ssim",
           "vae_anchor": "vae_anchor_weight", "vae_keep_decoder": "vae_keep_decoder", "snr_gamma": "unet_snr_gamma",
           "fur_drop": "caption_fur_drop", "pool_heads": "unet_pool_heads", "time_scale_shift": "unet_time_scale_shift",
           "bf16": "bf16", "snapshot": "unet_snapshot"}
_IF_NONZERO = ("unet_steps", "vae_steps", "vae_batch", "vae_photo_steps", "portrait_steps")
_AT_LEAST_0 = ("lcm_steps", "vae_photo_ssim", "vae_anchor", "vae_keep_decoder")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", choices=STAGES, action="append", help="run only these stages")
    p.add_argument("--work-dir", type=Path,
                   help="data cache, checkpoints and loss logs (default build/minisd); a variant trained in its own "
                        "folder leaves the main run alone. Stages found there already are not trained again, so "
                        "copies of tokenizer/, clip/, vae/ and data.npz let a U-Net variant reuse them")
    p.add_argument("--out-dir", type=Path,
                   help="where the export stage writes the model (default assets/models/minisd-cats, the shipped one)")
    p.add_argument("--unet-steps", type=int, help="override the number of U-Net steps")
    p.add_argument("--vae-steps", type=int, help="override the number of VAE steps")
    p.add_argument("--vae-batch", type=int, help="override the VAE's batch size")
    p.add_argument("--vae-photo-steps", type=int, help="override the number of steps of the vae_photos stage")
    _recipe_options(p)
    return p


def _recipe_options(p: argparse.ArgumentParser) -> None:
    """The options that change what is trained (the shipped recipe is every default)."""
    p.add_argument("--vae-photo-decoder", action=argparse.BooleanOptionalAction,
                   help="train the decoder too in the vae_photos stage (default: off, as shipped; see "
                        "the model card for what it measured)")
    p.add_argument("--vae-photo-ssim", type=float, help="weight of 1 - grey-level SSIM in the vae_photos loss")
    p.add_argument("--vae-anchor", type=float, help="weight: drawn cats keep their first-stage latents")
    p.add_argument("--vae-keep-decoder", type=float,
                   help="weight: the U-Net's own latents decode as the first stage's decoder drew them")
    p.add_argument("--portrait-steps", type=int, help="override the number of steps of the unet_portraits stage")
    p.add_argument("--lcm-steps", type=int, help="steps of the unet_lcm stage (0: no few-step student)")
    p.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    p.add_argument("--snr-gamma", type=float, help="Min-SNR loss weighting for the U-Net (e.g. 5; default 0: off)")
    p.add_argument("--fur-drop", type=float,
                   help="chance to leave the fur colour out of a U-Net caption (default 0.04, as shipped; see "
                        "the model card)")
    p.add_argument("--pool-heads", type=int,
                   help="a pooling of the prompt added to the U-Net's timestep embedding, with this many heads "
                        "(default 4, as shipped; 0: off, as in Stable Diffusion 1.x; see the model card)")
    p.add_argument("--time-scale-shift", choices=("default", "scale_shift"),
                   help="how the U-Net's ResNet blocks take the timestep embedding (default scale_shift, as shipped; "
                        "'default' is Stable Diffusion 1.x's; see the model card)")
    p.add_argument("--cross-attention-16", action=argparse.BooleanOptionalAction,
                   help="cross-attention at the 16x16 level's down block as well as at 8x8 (default: on, as shipped; "
                        "--no-cross-attention-16 gives it to the 8x8 level only; see the model card)")
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction,
                   help="train in bfloat16 autocast where the hardware supports it (default: on, as the shipped "
                        "model was trained; --no-bf16 trains in float32)")
    p.add_argument("--init-unet", type=Path,
                   help="start the U-Net from these weights (a diffusers unet folder, e.g. the shipped model's) "
                        "to train it further; use a fresh --work-dir or delete unet* in it")
    p.add_argument("--snapshot", action=argparse.BooleanOptionalAction,
                   help="at every checkpoint, also save the U-Net's moving average so far as <stage>_snapshot/ "
                        "(default: off)")
    p.add_argument("--from-snapshot", action="store_true",
                   help="export the U-Net's latest checkpoint snapshot (needs --snapshot while training)")


def parse_args(argv=None) -> tuple[MiniSDConfig, argparse.Namespace]:
    """The command line as a config (defaults: `MiniSDConfig`) and the remaining choices (stages, ...)."""
    p = _parser()
    a = p.parse_args(argv)
    cfg = MiniSDConfig()
    for opt, field in _FIELDS.items():
        value = getattr(a, opt)
        if value is None or (opt in _IF_NONZERO and not value):
            continue
        if opt in _AT_LEAST_0 and value < 0:
            p.error(f"--{opt.replace('_', '-')} must be at least 0, not {value}")
        if opt == "fur_drop" and not 0 <= value < 1:
            p.error(f"--fur-drop must be at least 0 and below 1, not {value}")
        setattr(cfg, field, value)
    if a.cross_attention_16 is not None:
        cfg.unet_down = ("CrossAttnDownBlock2D" if a.cross_attention_16 else "DownBlock2D", "CrossAttnDownBlock2D")
    return cfg, a


def main(argv=None) -> None:
    cfg, a = parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    cfg.work_dir.mkdir(parents=True, exist_ok=True)
    fns = {"data": stage_data, "tokenizer": stage_tokenizer, "clip": stage_clip, "portraits": stage_portraits,
           "judge": stage_judge, "vae": stage_vae, "unet": stage_unet, "vae_photos": stage_vae_photos,
           "unet_portraits": stage_unet_portraits, "unet_lcm": stage_unet_lcm, "export": stage_export}
    if a.init_unet:
        fns["unet"] = lambda c: stage_unet(c, init_from=a.init_unet)
    if a.from_snapshot:
        fns["export"] = lambda c: stage_export(
            c, unet_dir=c.work_dir / ("unet_portraits_snapshot" if c.portrait_steps else "unet_snapshot"))
    for s in a.stage or STAGES:
        t0 = time.perf_counter()
        print(f"[minisd] stage {s} ...", flush=True)
        path = fns[s](cfg)
        print(f"[minisd] stage {s} done in {time.perf_counter() - t0:.0f} s -> {path}", flush=True)


if __name__ == "__main__":
    main()
