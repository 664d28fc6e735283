"""What a diffusion model costs: parameters, FLOPs, memory and time, counted without downloading it.

Taught in: chapter 6 (Compute requirements).

Everything here starts from the models' published ``config.json`` files, copied to
``assets/configs/`` (see the README there). A config is enough to build the network on PyTorch's
*meta* device: every layer and every tensor shape exists, but no number is stored, so the 2.6
billion parameters of Stable Diffusion XL's U-Net take no memory and a forward pass takes no time.
On that empty shell we can

- count parameters (`count_parameters`, `parameter_table`),
- count the floating-point operations of one U-Net call with PyTorch's own
  `torch.utils.flop_counter.FlopCounterMode` (`unet_flops`, `vae_decode_flops`),
- measure which tensors are alive at the same moment (`measure_peak_memory` works on meta tensors too).

Three facts the chapter builds on, each checked by ``tests/test_compute.py``:

- Stable Diffusion 1.5's U-Net has 859.5 M parameters and costs 0.80 TFLOP per call at 64×64
  latents (512×512 pixels); classifier-free guidance runs it on a batch of 2, so 1.61 TFLOP per step.
- Activations (the feature maps) grow with the pixel count: twice the side, four times the memory.
- Naive self-attention stores a tokens × tokens score matrix, and tokens grow with the pixel
  count, so its memory grows with the *square* of the pixel count: twice the side, sixteen times
  the memory. Nothing grows exponentially.

The package reads in the chapter's order:

    configs        the models, built from their configs on the meta device
    parameters     counting parameters
    flops          counting FLOPs
    memory         weights, feature maps and attention scores
    measure        peak memory, time and FLOP rate measured on this machine
    gpus           the GPU table: peak rates, memory, a lower bound on time
    estimates      "will it run on my computer?": memory and time of a whole call
    torch_compile  what compiling the embedded model measured
"""

from .configs import CONFIG_DIR, EMBEDDED_DIR, MODELS, ModelSpec, available_models, build_on_meta, read_config
from .estimates import estimate
from .flops import unet_flops, vae_decode_flops
from .gpus import DEFAULT_CPU_FLOP_RATE, GPU, GPU_OVERHEAD_GIB, GPUS, TYPICAL_GPU_UTILISATION, lower_bound_seconds
from .measure import measure_peak_memory, measured_flop_rate, ram_gib, time_per_call
from .memory import GIB, activation_memory, attention_levels, attention_memory, weight_memory
from .parameters import count_parameters, parameter_table
from .torch_compile import CompileFigures, compile_figures

__all__ = [
    "CONFIG_DIR",
    "DEFAULT_CPU_FLOP_RATE",
    "EMBEDDED_DIR",
    "GIB",
    "GPU",
    "GPUS",
    "GPU_OVERHEAD_GIB",
    "MODELS",
    "TYPICAL_GPU_UTILISATION",
    "CompileFigures",
    "ModelSpec",
    "activation_memory",
    "attention_levels",
    "attention_memory",
    "available_models",
    "build_on_meta",
    "compile_figures",
    "count_parameters",
    "estimate",
    "lower_bound_seconds",
    "measure_peak_memory",
    "measured_flop_rate",
    "parameter_table",
    "ram_gib",
    "read_config",
    "time_per_call",
    "unet_flops",
    "vae_decode_flops",
    "weight_memory",
]
