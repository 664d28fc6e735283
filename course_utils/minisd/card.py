"""Write the embedded model's card (``assets/models/minisd-cats/README.md``) from measured figures.

    python -m course_utils.minisd.card

It reads what training, evaluation and the benchmark wrote into the model folder
(``training_time.json``, ``eval.json``, ``eval.md``, ``bench.md``) and counts the parameters itself, so the card
never states a figure that was not measured. The text is ``card_template.md`` (and ``card_fast_template.md``
for the few-step student), ``str.format`` templates: ``{cfg.unet_steps:,}`` is a setting of `MiniSDConfig`,
every other name one that `_fields` fills in.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import data as D
from .config import MODEL_DIR, MiniSDConfig

TEMPLATE = Path(__file__).with_name("card_template.md")
FAST_TEMPLATE = Path(__file__).with_name("card_fast_template.md")


def _read(name: str, missing: str) -> str:
    """A file the evaluation or the benchmark wrote into the model folder, or `missing` if there is none."""
    path = MODEL_DIR / name
    return path.read_text() if path.exists() else missing


def _json(name: str) -> dict:
    return json.loads(_read(name, "{}"))


def _params() -> dict[str, int]:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPModel, CLIPTextModel

    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    clip = CLIPModel.from_pretrained(MODEL_DIR / "clip")
    return {"U-Net": n(UNet2DConditionModel.from_pretrained(MODEL_DIR / "unet")),
            "VAE": n(AutoencoderKL.from_pretrained(MODEL_DIR / "vae")),
            "text encoder": n(CLIPTextModel.from_pretrained(MODEL_DIR / "text_encoder")),
            "image tower (for scoring only)": n(clip.vision_model) + n(clip.visual_projection)}


def _fast_table(ev: dict) -> str:
    """The student's adherence at each number of steps beside the 20-step model's (eval.json's "fast")."""
    rows = []
    for steps, r in ev.get("fast", {}).items():
        for name, what in (("seen", "seen"), ("held_out", "held-out")):
            full = ev[f"adherence_{name}_g7.5"]
            rows.append(f"| {steps} | {what} | {r[name]['pixels']['all']:.1f} % | {r[name]['clip']['all']:.1f} % | "
                        f"{full['pixels']['all']:.1f} % | {full['clip']['all']:.1f} % |")
    if not rows:
        return "(run `make eval-model`)"
    return "\n".join(["| student steps | combinations | pixel rules | tiny CLIP | 20-step model, pixel rules | "
                      "20-step model, tiny CLIP |", "|---|---|---|---|---|---|", *rows])


def _fast_section(cfg: MiniSDConfig) -> str:
    """The few-step student (distill.py), with its measured adherence and speed; empty without one."""
    from course_utils.models import student_shipped

    if not student_shipped():
        return ""
    return FAST_TEMPLATE.read_text().format(cfg=cfg, table=_fast_table(_json("eval.json")),
                                            shuffle_percent=100 * cfg.lcm_shuffle)


def _timing_rows(timing: dict) -> str:
    """training_time.json as table rows: stage, minutes, device and threads (and a note where there is one)."""
    return "\n".join(f"| {k} | {v['seconds'] / 60:.1f} min | {v['device']}, {v['threads']} "
                     f"thread{'s' if v['threads'] != 1 else ''}{'; ' + v['note'] if v.get('note') else ''} |"
                     for k, v in timing.items())


def _unet_fields(cfg: MiniSDConfig) -> dict[str, str]:
    """How the card describes the U-Net's levels and its two extra conditioning paths, from the settings."""
    conditioning = ""
    if cfg.unet_pool_heads:
        conditioning = ("\n  The prompt also reaches every ResNet block: an attention"
                        "\n  pooling of the token embeddings is added to the timestep embedding (diffusers'"
                        f"\n  `addition_embed_type=\"text\"`, {cfg.unet_pool_heads} heads, as in DeepFloyd IF).")
    if cfg.unet_time_scale_shift == "scale_shift":
        conditioning += ("\n  Each ResNet block applies that embedding after its group norm, as a scale and a shift"
                         "\n  (`resnet_time_scale_shift=\"scale_shift\"`, ADM's adaptive group norm), not before it as"
                         "\n  Stable Diffusion 1.x does. Neither is in SD 1.x; both are measured under Limitations.")
    if "CrossAttn" in cfg.unet_down[0]:
        levels = (f"convolutions at\n  both, cross-attention at 8 x 8 ({cfg.unet_heads[-1]} heads of width "
                  f"{cfg.unet_channels[-1] // cfg.unet_heads[-1]}) and on the way down at 16 x 16 ({cfg.unet_heads[0]} "
                  f"head{'s' if cfg.unet_heads[0] > 1 else ''} of width {cfg.unet_channels[0] // cfg.unet_heads[0]})")
    else:
        levels = (f"convolutions at\n  16 x 16, convolutions and cross-attention ({cfg.unet_heads[-1]} heads of width"
                  f"\n  {cfg.unet_channels[-1] // cfg.unet_heads[-1]}) at 8 x 8")
    return {"conditioning": conditioning, "levels": levels,
            "snr": f"Min-SNR loss weighting (γ = {cfg.unet_snr_gamma:g}), " if cfg.unet_snr_gamma else "",
            "bf16": ", bfloat16 autocast in training" if cfg.bf16 else ""}


def _data_fields(cfg: MiniSDConfig, tuned: bool) -> dict[str, str | int]:
    """The drawn data, the photos and what is held out of training; `tuned`: the judge stage ran."""
    from . import photos as P

    return {
        "n_fur_colours": len(D.FUR_COLOURS), "fur_colours": ", ".join(D.FUR_COLOURS), "n_patterns": len(D.PATTERNS),
        "n_backgrounds": len(D.BACKGROUNDS), "backgrounds": ", ".join(D.BACKGROUNDS),
        "n_eye_colours": len(D.EYE_COLOURS),
        "fur_drop": (f" (for the U-Net, {cfg.caption_fur_drop:.0%} of the time the fur colour too)"
                     if cfg.caption_fur_drop > 0 else ""),
        "held": ", ".join(f"{a.split(':')[1]} {'+'} {b.split(':')[1]}" for a, b in D.HELD_OUT),
        "held_note": (" (only the judge's image tower, which conditions nothing, sees them: see Metrics)"
                      if tuned else ""),
        "judge_note": (f": its text tower is the pipeline's text encoder, and its image tower was tuned for "
                       f"{cfg.judge_steps} more steps on {cfg.judge_images:,} pictures of every combination, held-out "
                       f"ones included, with the text tower frozen (stage `judge`), so that it reads held-out "
                       f"pictures as well as seen ones (untuned, it read about 83 % of real held-out pictures right, "
                       f"and every seen one)" if tuned else ""),
        "photo_list": ", ".join(P.TRAIN),
        "held_photos": ", ".join("chelsea (MAU)" if n == "chelsea" else n for n in P.HELD_OUT),
        "photo_parts": "encoder and decoder" if cfg.vae_photo_decoder else "encoder (not its decoder)",
    }


def _fields(cfg: MiniSDConfig) -> dict:
    """Every name of card_template.md but `cfg`, from the model folder's measured files and the settings."""
    timing = _json("training_time.json")
    size = sum(p.stat().st_size for p in MODEL_DIR.rglob("*") if p.is_file() and p.suffix == ".safetensors")
    return {
        "param_rows": "\n".join(f"| {k} | {v / 1e6:.2f} M | |" for k, v in _params().items()),
        "size_mib": size / 2**20,
        "vae_scale": json.loads((MODEL_DIR / "vae" / "config.json").read_text())["scaling_factor"],
        "t_rows": _timing_rows(timing),
        "total": sum(v["seconds"] for v in timing.values()) / 60 if timing else 0,
        "ev": _read("eval.md", "(run `make eval-model`)"),
        "bench": _read("bench.md", "(run `make bench`)"),
        "fast": _fast_section(cfg),
        **_unet_fields(cfg), **_data_fields(cfg, tuned="judge" in timing),
    }


def write_card() -> str:
    cfg = MiniSDConfig()
    card = TEMPLATE.read_text().format(cfg=cfg, **_fields(cfg))
    (MODEL_DIR / "README.md").write_text(card)
    return card


if __name__ == "__main__":
    print(write_card())
