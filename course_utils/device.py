"""Which device and number format the course computes with.

Taught in: chapter 0 (welcome: checking your setup) and chapter 6 (compute requirements).

The rule: a CUDA GPU computes in bfloat16 where the card supports it (NVIDIA Ampere, 2020, and
later: as fast as float16, with float32's range, so Stable Diffusion's VAE cannot overflow into a
black picture) and in float16 on older cards; Apple's MPS in float16; the CPU always in float32:
CPUs have no fast half-precision arithmetic.
Set ``COURSE_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) and ``COURSE_DTYPE`` (``float32``,
``float16``, ``bfloat16``) to override the choice.
"""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Iterator

import torch

from .errors import CourseInputError
from .settings import cpu_thread_setting

#: Every number format's names the course understands (chapter 6 counts bytes of int8 and float64 too).
DTYPES = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
          "half": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16, "int8": torch.int8,
          "float64": torch.float64}
#: ... and the ones it computes in.
COMPUTE_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
_COMPUTE_NAMES = sorted(name for name, dt in DTYPES.items() if dt in COMPUTE_DTYPES)


def parse_device(value: str | torch.device, source: str) -> torch.device:
    try:
        dev = torch.device(value)
    except (RuntimeError, TypeError) as e:
        raise CourseInputError(
            f"{source}={value!r} is not a device name: use 'cpu', 'cuda', 'cuda:0' or 'mps'.") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise CourseInputError(
            f"{source}={value!r} asks for a CUDA GPU, but PyTorch sees none on this machine. "
            "Use 'cpu' (the course runs there with its embedded model) or install a CUDA build of PyTorch.")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise CourseInputError(f"{source}={value!r}: this machine has only {torch.cuda.device_count()} "
                               "CUDA device(s), numbered from 0.")
    if dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise CourseInputError(f"{source}={value!r} asks for Apple's MPS, which is not available here. "
                               "Use 'cpu'.")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise CourseInputError(f"{source}={value!r}: the course runs on 'cpu', 'cuda' or 'mps'.")
    return dev


def get_device(device: str | torch.device | None = None) -> torch.device:
    """The device to compute on: `device` if given, else ``$COURSE_DEVICE``, else CUDA, MPS or CPU."""
    if device is not None:
        return parse_device(device, "device")
    if os.environ.get("COURSE_DEVICE"):
        return parse_device(os.environ["COURSE_DEVICE"], "COURSE_DEVICE")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def get_dtype(device: str | torch.device | None = None, dtype: str | torch.dtype | None = None) -> torch.dtype:
    """The number format for `device`: float32 on the CPU, float16/bfloat16 on a GPU.

    A half-precision dtype asked for on the CPU is refused: it would be slow and is not what
    the course's results were checked with.
    """
    dev = get_device(device)
    requested = dtype if dtype is not None else os.environ.get("COURSE_DTYPE") or None
    if isinstance(requested, str):
        key = requested.lower().removeprefix("torch.")
        if DTYPES.get(key) not in COMPUTE_DTYPES:
            raise CourseInputError(
                f"dtype={requested!r} is not a number format the course uses: choose one of {_COMPUTE_NAMES}.")
        requested = DTYPES[key]
    if requested is not None:
        if requested not in COMPUTE_DTYPES:
            raise CourseInputError(f"dtype={requested} is not supported: use float32, float16 or bfloat16.")
        if dev.type == "cpu" and requested != torch.float32:
            raise CourseInputError(
                f"dtype={requested} was asked for on the CPU; the course computes in float32 there "
                "(CPUs have no fast half-precision arithmetic). Leave dtype unset or use 'float32'.")
        return requested
    if dev.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if dev.type == "mps":
        return torch.float16
    return torch.float32


_CPU_FEATURES = {"avx512f": "AVX-512", "avx512_bf16": "AVX-512 BF16", "amx_bf16": "AMX"}


def cpu_description(cpuinfo: str | None = None) -> str:
    """The processor's name and the vector features that change its speed, e.g. "Intel(R) Xeon(R)
    Processor (x86_64; AVX-512, AVX-512 BF16, AMX)". Two CPUs that Python calls by the same name
    (``platform.processor()`` is often empty on Linux) can differ by a third in speed, and bfloat16
    training by more (AMX); `cpuinfo` is /proc/cpuinfo's text, read on Linux when not given."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as f:
                cpuinfo = f.read()
        except OSError:
            cpuinfo = ""
    fields = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    name = fields.get("model name") or platform.processor() or "unknown CPU"
    flags = set(fields.get("flags", "").split())
    found = [label for flag, label in _CPU_FEATURES.items() if flag in flags]
    return f"{name} ({platform.machine()}{'; ' + ', '.join(found) if found else ''})"


def describe(device: str | torch.device | None = None) -> str:
    """One line about the hardware, for a notebook to print (e.g. ``CPU: 2 cores, float32``)."""
    dev = get_device(device)
    dtype = str(get_dtype(dev)).removeprefix("torch.")
    if dev.type == "cuda":
        p = torch.cuda.get_device_properties(dev)
        return f"CUDA GPU {p.name} ({p.total_memory / 2**30:.0f} GiB), {dtype}"
    if dev.type == "mps":
        return f"Apple GPU (MPS) on {platform.machine()}, {dtype}"
    return f"CPU {cpu_description()}: {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, {dtype}"


SMALL_MODEL_PARAMS = 50_000_000  # below this, one CPU thread is faster than several (see below)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[int]:
    """Inside the block, torch computes on `n` CPU threads; the count from before comes back after it.
    The course's one way to change the thread count (`cpu_threads` picks the count for a model)."""
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if n != before:
            torch.set_num_threads(before)


@contextlib.contextmanager
def cpu_threads(module: torch.nn.Module | None = None) -> Iterator[int]:
    """Inside the block, run a small model's CPU work on one thread; big models keep them all.

    Taught in chapter 6 (what it costs). A U-Net call of the embedded model is some hundreds of
    small operations of a few microseconds each. Splitting each one between threads costs a
    hand-over per operation, which on a 2-core machine made a 20-step picture up to twice as slow as
    on a single thread (and much slower still while another program kept the other core busy).
    Real Stable Diffusion does millions of times more work per operation, so it keeps every thread.
    ``COURSE_CPU_THREADS=<n>`` (1 up to the number of cores; anything else raises `CourseSetupError`)
    sets the count for small models instead. Yields the count in force.
    """
    before = torch.get_num_threads()
    on_cpu = module is None or all(p.device.type == "cpu" for p in module.parameters())
    small = module is not None and sum(p.numel() for p in module.parameters()) < SMALL_MODEL_PARAMS
    want = (cpu_thread_setting() or 1) if on_cpu and small else before
    with torch_threads(want):
        yield want
