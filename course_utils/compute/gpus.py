"""GPUs: each card's peak half-precision rate and memory, the share of it pipelines reach, and time bounds.

Taught in: chapter 6 (Compute requirements).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import checks

__all__ = ["DEFAULT_CPU_FLOP_RATE", "GPU", "GPUS", "GPU_OVERHEAD_GIB", "TYPICAL_GPU_UTILISATION", "check_gpu",
           "lower_bound_seconds"]


@dataclass(frozen=True)
class GPU:
    """A graphics card's peak half-precision rate and memory, from its maker's specification."""

    key: str
    name: str
    fp16_tflops: float  # dense (no sparsity) FP16 tensor-core TFLOP/s, the card's fastest mode
    memory_gib: float
    source: str


#: Peak rates are *dense*: NVIDIA's "with sparsity" figures are twice these and need 2:4-sparse
#: weights, which Stable Diffusion does not have. They are each card's fastest FP16 mode, so that
#: `lower_bound_seconds` is a true lower bound. On GeForce cards that mode accumulates in FP16; with
#: FP32 accumulation (what PyTorch asks for in matrix products) they run at half the rate.
GPUS: dict[str, GPU] = {
    "t4": GPU("t4", "NVIDIA T4", 65.0, 16,
              "NVIDIA T4 datasheet: mixed precision (FP16/FP32) 65 TFLOPS; Turing has no sparsity mode."),
    "rtx3060": GPU("rtx3060", "NVIDIA GeForce RTX 3060 12 GB", 51.0, 12,
                   "NVIDIA quotes 101 tensor TFLOPS for the RTX 3060, a sparse FP16 figure; dense is half "
                   "(28 SMs × 4 tensor cores × 256 FLOP/clock × 1.78 GHz = 51). FP32 accumulation: 25.5."),
    "rtx4090": GPU("rtx4090", "NVIDIA GeForce RTX 4090", 330.3, 24,
                   "NVIDIA Ada Lovelace whitepaper: FP16 tensor TFLOPS with FP16 accumulate 330.3 dense "
                   "(660.6 sparse); with FP32 accumulate 165.2."),
    "a100-40gb": GPU("a100-40gb", "NVIDIA A100 40 GB", 312.0, 40,
                     "NVIDIA A100 datasheet: FP16/BF16 tensor core 312 TFLOPS (624 with sparsity)."),
    "a100-80gb": GPU("a100-80gb", "NVIDIA A100 80 GB", 312.0, 80,
                     "NVIDIA A100 datasheet: FP16/BF16 tensor core 312 TFLOPS (624 with sparsity)."),
    "h100-sxm": GPU("h100-sxm", "NVIDIA H100 SXM", 989.4, 80,
                    "NVIDIA H100 datasheet: FP16/BF16 tensor core 1,979 TFLOPS with sparsity, 989.4 dense."),
}

#: Share of the peak rate a Stable Diffusion pipeline reaches in practice: a middle value of what
#: was measured. SD 1.5, 512 px, guidance (1.61 TFLOP per step), diffusers with PyTorch 2.1 SDPA on
#: an A100 80 GB SXM: 31 steps/s = 50 TFLOP/s, 16 % of 312; compiled and channels-last: 47 steps/s,
#: 24 % (github.com/fal-ai/stable-diffusion-benchmarks). Small cards that throttle (a T4 at 70 W)
#: reach under 10 %. Attention, normalisations and memory traffic keep every pipeline far below peak.
TYPICAL_GPU_UTILISATION = 0.2

#: FLOP/s assumed for "cpu" when no measurement is given: the course's reference machine (2 cores)
#: ran SD 1.5's U-Net at 512 px (0.80 TFLOP) in about 3.9 s, about 0.2 TFLOP/s. Yours may differ
#: several times either way: measure it with `measured_flop_rate`.
DEFAULT_CPU_FLOP_RATE = 2.0e11

#: Memory a CUDA program uses before any model is loaded (context, cuBLAS/cuDNN workspaces): a round
#: assumption, often 0.3 to 1 GiB.
GPU_OVERHEAD_GIB = 0.5


def check_gpu(gpu: Any, name: str = "gpu", hint: str = "") -> GPU:
    """`gpu` as a `GPU`: one already, or a key of `GPUS` (any case, spaces around allowed)."""
    if isinstance(gpu, GPU):
        return gpu
    key = gpu.strip().lower() if isinstance(gpu, str) else None
    if key not in GPUS:  # not a key, so `one_of` raises
        hint = hint or "These are the cards in the course's GPU table (GPUS)."
        checks.one_of(name, gpu if key is None else key, GPUS, hint=hint)
    return GPUS[key]


def lower_bound_seconds(flops: float, gpu: str | GPU) -> float:
    """
    The fewest seconds a GPU could need for `flops`: flops / its peak rate.

    A lower bound, never a forecast: it assumes every tensor core works on every clock tick, and
    real pipelines reach a fifth of that or less (see `TYPICAL_GPU_UTILISATION`).

    Taught in: chapter 6 (Compute requirements).

    Args:
        flops (`float`): floating-point operations, > 0.
        gpu (`str` or `GPU`): a key of `GPUS` (``"t4"``, ``"rtx3060"``, ``"rtx4090"``, ``"a100-40gb"``,
            ``"a100-80gb"``, ``"h100-sxm"``) or a `GPU`.

    Returns:
        `float`: seconds.
    """
    flops = checks.number("flops", flops, 0, lo_open=True)
    return flops / (check_gpu(gpu).fp16_tflops * 1e12)
