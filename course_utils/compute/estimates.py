"""Will it run on my computer? Memory and time of a text-to-image call, from FLOPs and sizes.

Taught in: chapter 6 (Compute requirements): the practical path's "will it run on my computer?"
"""

from __future__ import annotations

import torch

from .. import checks
from .configs import MODELS, build_on_meta, check_model, check_sides, components, vae_factor
from .flops import text_encoder_flops, unet_flops, vae_decode_flops
from .gpus import DEFAULT_CPU_FLOP_RATE, GPU, GPU_OVERHEAD_GIB, TYPICAL_GPU_UTILISATION, check_gpu
from .measure import ram_gib
from .memory import GIB, activation_memory, weight_memory
from .parameters import count_parameters

__all__ = ["estimate"]


def _flops(key: str, hw: tuple[int, int], steps: int, batch: int, guidance: bool) -> tuple[float, float]:
    """FLOPs of one step and of the whole call: steps × U-Net, the prompt(s) once, the VAE decoder once."""
    f = vae_factor(key)
    per_step = unet_flops(key, (hw[0] // f, hw[1] // f), batch=batch * (2 if guidance else 1))
    text = text_encoder_flops(key) * (2 if guidance else 1)
    vae = vae_decode_flops(key, hw, batch=batch)
    return per_step, steps * per_step + text + vae


def _memory(key: str, hw: tuple[int, int], batch: int, guidance: bool, gpu: GPU | None) -> dict:
    """Weights + the larger activation phase (+ CUDA's own share on a GPU), and the device's memory."""
    on_cpu = gpu is None
    dtype_bytes = 4 if on_cpu else 2
    params = sum(count_parameters(build_on_meta(key, c)) for c in components(key))
    weights = weight_memory(params, torch.float32 if on_cpu else torch.float16)
    unet_act = activation_memory(key, hw, batch * (2 if guidance else 1), dtype_bytes)
    vae_act = activation_memory(key, hw, batch, dtype_bytes)["vae_decode"]
    activations = max(unet_act["unet_feature_maps"], vae_act)
    memory = (weights + activations) / GIB + (0 if on_cpu else GPU_OVERHEAD_GIB)
    device_memory = ram_gib() if on_cpu else gpu.memory_gib
    return {"weights_gib": weights / GIB, "activations_gib": activations / GIB,
            "attention_naive_gib": 2 * unet_act["attention_scores"] / GIB, "memory_gib": memory,
            "device_memory_gib": device_memory, "fits": None if device_memory is None else memory <= device_memory}


def _time(total: float, gpu: GPU | None, cpu_flop_rate: float | None) -> tuple[dict, list[str]]:
    """Seconds of `total` FLOPs on the CPU (at its rate) or on a GPU (its bound and typical time), with notes."""
    if gpu is None:
        rate = DEFAULT_CPU_FLOP_RATE if cpu_flop_rate is None else cpu_flop_rate
        notes = [f"CPU time assumes {rate / 1e12:.2f} TFLOP/s "
                 + ("(your measurement)." if cpu_flop_rate is not None else
                    "(the course's 2-core reference machine); measure yours with measured_flop_rate."),
                 "The CPU computes in float32: weights take twice the float16 memory."]
        return {"seconds_lower_bound": None, "seconds_typical": total / rate, "utilisation": None}, notes
    lower = total / (gpu.fp16_tflops * 1e12)
    notes = [f"Lower bound: {gpu.name} at its peak {gpu.fp16_tflops:g} TFLOP/s; typical: "
             f"{TYPICAL_GPU_UTILISATION:.0%} of that, as measured for Stable Diffusion pipelines."]
    return {"seconds_lower_bound": lower, "seconds_typical": lower / TYPICAL_GPU_UTILISATION,
            "utilisation": TYPICAL_GPU_UTILISATION}, notes


def _more_notes(key: str, guidance: bool, fits: bool | None) -> list[str]:
    notes = []
    if guidance:
        notes.append("Guidance runs the U-Net on the prompt and on the empty prompt: twice the work per step.")
    if key == "sdxl":
        notes.append("SDXL's VAE overflows in float16 and is usually run in float32, which adds memory and time.")
    if fits is False:
        notes.append("It does not fit: try a smaller picture, batch 1, or model offloading.")
    return notes


def estimate(model_key: str, resolution: int | tuple[int, int] | None, steps: int, device_or_gpu: str | GPU,
             guidance: bool = True, batch: int = 1, cpu_flop_rate: float | None = None) -> dict:
    """
    Will it run on my computer? Memory and time of a text-to-image call, from FLOPs and sizes.

    - Memory: the weights of every part in the device's number format (float16 on a GPU, float32 on
      the CPU, as `course_utils.device` chooses), plus the larger of the U-Net's and the VAE
      decoder's activations (`activation_memory`; memory-efficient attention, PyTorch 2's default),
      plus `GPU_OVERHEAD_GIB` on a GPU. ``attention_naive_gib`` adds what naive attention would need
      on top (scores and softmax, two score matrices).
    - Time: FLOPs of `steps` U-Net calls (batch × 2 with guidance), the text encoders and the VAE
      decoder. On a GPU, ``seconds_lower_bound`` divides them by the peak rate and
      ``seconds_typical`` by `TYPICAL_GPU_UTILISATION` × peak. On the CPU there is no meaningful
      peak: ``seconds_typical`` divides by `cpu_flop_rate` (a measurement, or
      `DEFAULT_CPU_FLOP_RATE`) and ``seconds_lower_bound`` is None.

    Taught in: chapter 6 (Compute requirements): the practical path's "will it run on my computer?"

    Args:
        model_key (`str`): ``"sd15"``, ``"sd21"``, ``"sdxl"`` or ``"embedded"``.
        resolution (`int` or `(int, int)`, *optional*): picture side (or height and width) in pixels,
            a multiple of 8 from 64 to 4096. None: the model's own (512, 768, 1024, 64).
        steps (`int`): denoising steps, 1 to 1000.
        device_or_gpu (`str` or `GPU`): ``"cpu"`` or a key of `GPUS`.
        guidance (`bool`, defaults to True): classifier-free guidance doubles the U-Net's batch.
        batch (`int`, defaults to 1): pictures per call, 1 to 64.
        cpu_flop_rate (`float`, *optional*): measured FLOP/s of this CPU (`measured_flop_rate`).

    Returns:
        `dict` with ``model``, ``device``, ``resolution`` (height, width), ``steps``, ``guidance``,
        ``batch``, ``dtype``, ``flops_per_step``, ``flops_total``, ``weights_gib``,
        ``activations_gib``, ``attention_naive_gib``, ``memory_gib``, ``device_memory_gib`` (None
        when unknown), ``fits`` (bool or None), ``seconds_lower_bound`` (None on the CPU),
        ``seconds_typical``, ``utilisation`` and ``notes`` (sentences that explain the numbers).

    Raises:
        `CourseInputError`: for an unknown model or GPU, a resolution that is not a multiple of 8 or
        out of range, steps < 1, or a batch out of range.
    """
    key = check_model(model_key)
    hw = check_sides("resolution", MODELS[key].resolution if resolution is None else resolution, 64, 4096, 8)
    steps = checks.whole("steps", steps, 1, 1000, hint="A picture needs at least one denoising step.")
    batch = checks.whole("batch", batch, 1, 64)
    if not isinstance(guidance, bool):
        raise checks.fail("guidance", guidance, "True or False")
    on_cpu = isinstance(device_or_gpu, str) and device_or_gpu.strip().lower() == "cpu"
    gpu = None if on_cpu else check_gpu(device_or_gpu, "device_or_gpu", "Or 'cpu', this computer's processor.")
    if cpu_flop_rate is not None:
        cpu_flop_rate = checks.number("cpu_flop_rate", cpu_flop_rate, 0, lo_open=True,
                                      hint="It is FLOP/s, as measured_flop_rate returns.")

    per_step, total = _flops(key, hw, steps, batch, guidance)
    memory = _memory(key, hw, batch, guidance, gpu)
    seconds, notes = _time(total, gpu, cpu_flop_rate)
    return {
        "model": key, "device": "cpu" if on_cpu else gpu.key, "resolution": hw, "steps": steps,
        "guidance": guidance, "batch": batch, "dtype": "float32" if on_cpu else "float16",
        "flops_per_step": per_step, "flops_total": total, **memory, **seconds,
        "notes": notes + _more_notes(key, guidance, memory["fits"]),
    }
