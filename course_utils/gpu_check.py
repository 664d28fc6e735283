"""``make gpu-check``: what Stable Diffusion costs on this GPU, measured in a few minutes.

Taught in: chapter 6 (compute requirements), whose estimates this puts next to measurements.

The U-Nets of Stable Diffusion 1.5 (512 x 512) and SDXL (1024 x 1024) are built from the configs in
`assets/configs` with random weights: nothing is downloaded, and the speed and memory of a network do
not depend on the values of its weights. For each, one guided denoising step (a batch of 2: the
prompt and the empty prompt) is timed in half precision

* with PyTorch's scaled-dot-product attention (SDPA, diffusers' default) and with the naive
  attention that writes out the full score matrix,
* eager and under ``torch.compile`` (its first call, the compilation, timed on its own),

and reported as U-Net iterations per second, seconds per picture (30 steps plus one VAE decode) and
peak GPU memory. Then every notebook that holds a cell for a real model runs with the course's
Stable-Diffusion-1.5-shaped test model on the GPU. The table is written to
``outputs/gpu-check.md`` (a new name if one is there).

``python -m course_utils.gpu_check --dry`` runs the same code on a CPU with narrow networks at tiny
sizes, compiling with the eager backend: the tests use it to check the script, not the speed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from .paths import REPO_ROOT

STEPS = 30  # denoising steps per picture, with guidance (a batch of 2 per step)


@dataclass(frozen=True)
class Case:
    """One network at one picture size."""

    model: str  # a key of `compute.MODELS` with a U-Net and a VAE config
    side: int  # picture side in pixels
    text_len: int = 77


CASES = (Case("sd15", 512), Case("sdxl", 1024))
DRY_CASES = (Case("sd15", 64), Case("sdxl", 64))

#: Narrow versions of the two U-Nets and VAEs for the dry run: the same blocks, a few channels.
_DRY_UNET = {"sd15": dict(block_out_channels=[32, 64, 64, 64], layers_per_block=1, cross_attention_dim=64),
             "sdxl": dict(block_out_channels=[32, 64, 64], layers_per_block=1, attention_head_dim=[2, 4, 4],
                          transformer_layers_per_block=[1, 1, 1], cross_attention_dim=64,
                          addition_time_embed_dim=8, projection_class_embeddings_input_dim=64 + 6 * 8)}
_DRY_VAE = dict(block_out_channels=[16, 16, 32, 32], layers_per_block=1, norm_num_groups=16)


@dataclass
class Row:
    """One measurement: a case, an attention kind, eager or compiled."""

    model: str
    side: int
    dtype: str
    attention: str
    compiled: bool
    ms_per_step: float
    compile_seconds: float | None
    seconds_per_picture: float
    peak_gib: float | None

    @property
    def steps_per_second(self) -> float:
        return 1000 / self.ms_per_step


def _config(model: str, component: str, dry: bool) -> dict:
    from .compute import read_config

    cfg = {k: v for k, v in read_config(model, component).items() if not k.startswith("_")}
    if dry:
        cfg.update(_DRY_UNET[model] if component == "unet" else _DRY_VAE)
    return cfg


def build(model: str, component: str, device: torch.device, dtype: torch.dtype, dry: bool = False):
    """The U-Net or VAE of `model` with random weights, on `device` in `dtype`."""
    from diffusers import AutoencoderKL, UNet2DConditionModel

    cls = UNet2DConditionModel if component == "unet" else AutoencoderKL
    with torch.device(device):
        net = cls.from_config(_config(model, component, dry))
    return net.to(dtype).eval().requires_grad_(False)


def unet_inputs(unet, latent_side: int, text_len: int, batch: int = 2) -> tuple[tuple, dict]:
    """Random inputs shaped like a guided pipeline's call to `unet` (SDXL's extra inputs included)."""
    cfg, device, dtype = unet.config, unet.device, unet.dtype
    sample = torch.randn(batch, cfg.in_channels, latent_side, latent_side, device=device, dtype=dtype)
    kwargs = {"encoder_hidden_states": torch.randn(batch, text_len, cfg.cross_attention_dim, device=device,
                                                   dtype=dtype)}
    if cfg.addition_embed_type == "text_time":
        n_time = 6  # original size, crop corner, target size
        text_dim = cfg.projection_class_embeddings_input_dim - n_time * cfg.addition_time_embed_dim
        kwargs["added_cond_kwargs"] = {"text_embeds": torch.randn(batch, text_dim, device=device, dtype=dtype),
                                       "time_ids": torch.randn(batch, n_time, device=device, dtype=dtype)}
    return (sample, torch.full((batch,), 500, device=device)), kwargs


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # the GPU works behind the CPU's back: wait for it before reading a clock


def time_calls(fn, device: torch.device, repeats: int, warmup: int) -> float:
    """Median seconds of one call of `fn` after `warmup` calls, waiting for the GPU after each
    (chapter 6's `compute.time_per_call`)."""
    from .compute import time_per_call

    return time_per_call(lambda: (fn(), _sync(device)), repeats=repeats, warmup=warmup)


def measure(case: Case, attention: str, compiled: bool, device: torch.device, dtype: torch.dtype,
            dry: bool = False, repeats: int = 10) -> Row:
    """Time one guided U-Net step and one VAE decode of `case`; see the module's docstring."""
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    unet = build(case.model, "unet", device, dtype, dry)
    unet.set_attn_processor(AttnProcessor2_0() if attention == "SDPA" else AttnProcessor())
    factor = 8
    args, kwargs = unet_inputs(unet, case.side // factor, case.text_len)
    run = unet
    compile_seconds = None
    with torch.inference_mode():
        if compiled:
            run = torch.compile(unet, backend="eager" if dry else "inductor")
            t0 = time.perf_counter()
            run(*args, **kwargs)
            _sync(device)
            compile_seconds = time.perf_counter() - t0
        step = time_calls(lambda: run(*args, **kwargs), device, repeats, warmup=2)
        vae = build(case.model, "vae", device, dtype, dry)
        latent = torch.randn(1, vae.config.latent_channels, case.side // factor, case.side // factor,
                             device=device, dtype=dtype)
        decode = time_calls(lambda: vae.decode(latent), device, max(2, repeats // 3), warmup=1)
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    return Row(case.model, case.side, str(dtype).removeprefix("torch."), attention, compiled, 1000 * step,
               compile_seconds, STEPS * step + decode, peak)


def table(rows: list[Row], header: str) -> str:
    """The measurements as a Markdown document."""
    lines = [header, "", "| model | picture | dtype | attention | compiled | U-Net steps/s | ms per step | "
             "s per picture (30 steps + decode) | compile (first call) | peak GPU memory |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.model} | {r.side} x {r.side} | {r.dtype} | {r.attention} | {'yes' if r.compiled else 'no'} "
                     f"| {r.steps_per_second:.1f} | {r.ms_per_step:.1f} | {r.seconds_per_picture:.2f} | "
                     f"{'-' if r.compile_seconds is None else f'{r.compile_seconds:.0f} s'} | "
                     f"{'-' if r.peak_gib is None else f'{r.peak_gib:.1f} GiB'} |")
    return "\n".join(lines) + "\n"


def machine_line(device: torch.device) -> str:
    import diffusers

    from .device import cpu_description

    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU {cpu_description()}"
    return (f"{where}; torch {torch.__version__}, diffusers {diffusers.__version__}, "
            f"CUDA {torch.version.cuda or '-'}; {datetime.date.today().isoformat()}")


def run_notebooks(device: torch.device) -> int:
    """Run every notebook that holds a real-model cell, with the Stable-Diffusion-1.5-shaped test model."""
    from .minisd import real_shaped

    notebooks = sorted(str(p) for p in (REPO_ROOT / "notebooks").rglob("*.ipynb")
                       if "real_model_ready" in p.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        model = real_shaped.build(Path(tmp) / "real-shaped")
        env = {**os.environ, "COURSE_MODEL": str(model), "COURSE_OUTPUT_DIR": tmp,
               "COURSE_DEVICE": str(device), "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
        return subprocess.call([sys.executable, "-m", "pytest", "-q", "--nbval-lax", "--nbval-current-env",
                                "-p", "no:cacheprovider", *notebooks], env=env, cwd=REPO_ROOT)


def main(argv: list[str] | None = None) -> Path:
    from .saving import save_file

    parser = argparse.ArgumentParser(prog="make gpu-check", description=__doc__.splitlines()[0])
    parser.add_argument("--dry", action="store_true", help="narrow networks at tiny sizes on the CPU (tests)")
    parser.add_argument("--no-notebooks", action="store_true", help="skip running the notebooks")
    parser.add_argument("--out", type=Path, default=None, help="where to write the table (a .md file)")
    args = parser.parse_args(argv)

    if args.dry:
        device, dtype, cases, repeats = torch.device("cpu"), torch.float32, DRY_CASES, 2
    else:
        if not torch.cuda.is_available():
            raise SystemExit("make gpu-check needs a CUDA GPU, and PyTorch sees none here. On a CPU, "
                             "`python -m course_utils.gpu_check --dry` checks the script itself, and chapter 6 "
                             "estimates what a GPU would take.")
        device = torch.device("cuda")
        dtype = torch.float16
        cases, repeats = CASES, 10
    rows = []
    for case in cases:
        for attention, compiled in (("SDPA", False), ("naive", False), ("SDPA", True)):
            row = measure(case, attention, compiled, device, dtype, dry=args.dry, repeats=repeats)
            rows.append(row)
            print(f"{case.model} {case.side} px, {attention}{', compiled' if compiled else ''}: "
                  f"{row.steps_per_second:.1f} steps/s, {row.seconds_per_picture:.2f} s per picture", flush=True)
    header = (f"# GPU check{' (dry run: narrow networks, tiny sizes, CPU)' if args.dry else ''}\n\n"
              f"{machine_line(device)}. Guided steps (batch 2), random weights built from `assets/configs`; "
              f"medians of {repeats} calls.")
    report = table(rows, header)
    if not (args.dry or args.no_notebooks):
        code = run_notebooks(device)
        report += f"\nEvery notebook with a real-model cell, on this GPU with the test model: " \
                  f"{'passed' if code == 0 else f'FAILED (pytest exit code {code})'}.\n"
    from .paths import output_dir

    path = save_file(args.out or output_dir() / "gpu-check.md", lambda tmp: Path(tmp).write_text(report),
                     what="report", label="--out")
    print(report)
    print(f"written to {path}")
    return path


if __name__ == "__main__":
    main()
