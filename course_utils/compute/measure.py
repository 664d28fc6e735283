"""Measuring on this machine: the peak memory and the time of a call, the FLOP rate reached, the RAM.

Taught in: chapter 6 (Compute requirements).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from .. import checks
from ..errors import CourseInputError, CourseSetupError
from .memory import GIB

__all__ = ["measure_peak_memory", "measured_flop_rate", "ram_gib", "time_per_call"]


class _LiveTensors(TorchDispatchMode):
    """Adds up the bytes of tensors created inside the mode that are still alive; keeps the peak.

    Each storage counts once (views share their base's storage) and leaves the count when Python
    frees it. Storages that existed before (weights, inputs) are never counted.
    """

    def __init__(self):
        super().__init__()
        self.current = 0
        self.peak = 0
        self._alive: dict[int, int] = {}

    def _freed(self, key: int, nbytes: int) -> None:
        if self._alive.pop(key, None) is not None:
            self.current -= nbytes

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {id(t.untyped_storage()) for t in tree_flatten((args, kwargs))[0]
                  if isinstance(t, torch.Tensor) and t.layout == torch.strided}
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor):
                continue
            try:
                storage = t.untyped_storage()
            except (RuntimeError, NotImplementedError):  # sparse and other storage-less tensors
                continue
            key = id(storage)
            if key in self._alive or key in inputs:  # a view, or an in-place result
                continue
            nbytes = storage.nbytes()
            self._alive[key] = nbytes
            self.current += nbytes
            self.peak = max(self.peak, self.current)
            weakref.finalize(storage, self._freed, key, nbytes)
        return out


def _proc_status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise CourseSetupError(f"/proc/self/status has no {field} line on this system.")


def _check_callable(fn: Any) -> None:
    if not callable(fn):
        raise CourseInputError(f"fn must be a function to call with no arguments, got {type(fn).__name__}.")


def _rss_peak(fn: Callable[[], Any]) -> int:
    """The rise of the process's resident memory while `fn` runs (Linux only)."""
    if not sys.platform.startswith("linux") or not os.path.exists("/proc/self/clear_refs"):
        raise CourseSetupError("method='rss' reads /proc, which only Linux has; use method='tensors'.")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets the peak resident size (VmHWM) to the current one
    except OSError as e:
        raise CourseSetupError(f"Cannot reset the peak memory counter here ({e}); use method='tensors'.") from e
    before = _proc_status("VmRSS")
    fn()
    return max(0, _proc_status("VmHWM") - before)


def measure_peak_memory(fn: Callable[[], Any], method: str = "tensors") -> int:
    """
    Run `fn()` once and return the most memory its tensors held at any one moment, in bytes.

    Two methods, each honest about something different:

    - ``"tensors"`` (default, any system, any device): follows every tensor PyTorch creates inside
      `fn` and adds up the bytes of those alive at the same time. Weights and inputs that existed
      before do not count. It sees tensors only: not the memory an operation uses internally without
      making a tensor (oneDNN scratch space, the tiles of memory-efficient attention), not Python
      objects, not allocator overhead. It works on the **meta device**, which allocates nothing:
      that is how the chapter "measures" Stable Diffusion at 1024 px on a laptop. On the meta
      device PyTorch's attention takes the naive path (it stores the score matrix), so the result
      shows what naive attention would need.
    - ``"rss"`` (Linux only): the rise of the process's resident memory as the operating system
      counts it (peak ``VmHWM`` after resetting it, minus ``VmRSS`` before). It sees everything, but
      only in whole pages, and memory the allocator kept from earlier calls is reused without showing
      up: run it in a fresh process for a first-call figure.

    Python's ``tracemalloc`` is not used: PyTorch allocates outside Python's allocator, so it would
    report almost nothing.

    Taught in: chapter 6 (Compute requirements).

    Args:
        fn (`Callable[[], Any]`): the work to measure, called once with no arguments.
        method (`str`, defaults to ``"tensors"``): ``"tensors"`` or ``"rss"``.

    Returns:
        `int`: peak bytes above what was allocated before `fn` started.

    Example:
        >>> measure_peak_memory(lambda: torch.ones(1024, 1024))  # 4 MiB of float32
        4194304
    """
    _check_callable(fn)
    if method == "tensors":
        mode = _LiveTensors()
        with mode:
            fn()
        return int(mode.peak)
    if method == "rss":
        return _rss_peak(fn)
    raise checks.fail("method", method, "'tensors' or 'rss'", "These are the two ways to measure.")


def time_per_call(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> float:
    """
    The median wall-clock time of `fn()`, in seconds, after `warmup` untimed calls.

    The first call of a model in a process is slower (memory is allocated, kernels are chosen), so
    it is left out; the median ignores a call slowed down by something else on the machine.
    On a GPU, `fn` must wait for its own result (``torch.cuda.synchronize()``), or the time only
    counts the launch.

    Taught in: chapter 6 (Compute requirements).

    Args:
        fn (`Callable[[], Any]`): the work to time, called with no arguments.
        repeats (`int`, defaults to 5): timed calls, 1 to 1000.
        warmup (`int`, defaults to 1): untimed calls first, 0 to 100.

    Returns:
        `float`: median seconds per call.
    """
    _check_callable(fn)
    repeats = checks.whole("repeats", repeats, 1, 1000)
    warmup = checks.whole("warmup", warmup, 0, 100)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measured_flop_rate(fn: Callable[[], Any], flops: float, repeats: int = 3) -> float:
    """
    FLOPs per second this machine reaches on `fn`: `flops` / `time_per_call(fn)`.

    Feed it to `estimate(..., cpu_flop_rate=...)` to scale a measurement on this computer to
    another model or size. Small models reach a lower rate than large ones (more time goes to
    overhead), so measure on something close to what you want to predict.

    Taught in: chapter 6 (Compute requirements).

    Args:
        fn (`Callable[[], Any]`): the work, called with no arguments.
        flops (`float`): its FLOPs, for example from `unet_flops`.
        repeats (`int`, defaults to 3): timed calls.

    Returns:
        `float`: FLOP/s.
    """
    flops = checks.number("flops", flops, 0, lo_open=True)
    return flops / time_per_call(fn, repeats=repeats)


def ram_gib() -> float | None:
    """This computer's memory (RAM) in GiB, or None where the system does not say.

    Taught in: chapter 6 (Compute requirements).
    """
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    except (ValueError, OSError, AttributeError):
        return None
