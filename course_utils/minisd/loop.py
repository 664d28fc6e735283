"""The training loop every stage of the embedded model shares, and what it stands on: the device, bfloat16
autocast, checkpoints, the learning-rate schedule, the loss log and the stage timings (``timing.json``)."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .config import MiniSDConfig


def train_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast(cfg: MiniSDConfig, dev: torch.device):
    """bfloat16 autocast for training where the hardware computes in bfloat16 (a GPU, or a CPU with
    AVX-512 BF16 / AMX: about 20 % faster here); float32 elsewhere. The weights stay float32 and the
    shipped model runs in float32 (it was trained in bfloat16 autocast)."""
    on = cfg.bf16 and (dev.type == "cuda" or torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return torch.autocast(dev.type, dtype=torch.bfloat16, enabled=on)


def save_ckpt(path: Path, **state) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: an interrupted save never leaves a broken checkpoint


def load_ckpt(path: Path):
    return torch.load(path, map_location="cpu", weights_only=True) if path.exists() else None


class _LossLog:
    def __init__(self, path: Path, resume: bool):
        self.f = open(path, "a" if resume else "w")
        if not resume:
            self.f.write("step,loss,seconds\n")
        self.t0 = time.perf_counter()

    def write(self, step: int, loss: float, seconds_before: float) -> None:
        self.f.write(f"{step},{loss:.6f},{seconds_before + time.perf_counter() - self.t0:.1f}\n")
        self.f.flush()


def _lr(step: int, total: int, base: float, warmup: int = 200) -> float:
    """Linear warm-up, then cosine decay to 10 % of the base rate."""
    if step < warmup:
        return base * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def train_loop(cfg: MiniSDConfig, name: str, model: torch.nn.Module, opt: torch.optim.Optimizer,
               loss_fn: Callable[[np.random.Generator, torch.Generator], torch.Tensor], *, steps: int, lr: float,
               warmup: int = 200, seeds: tuple[int, int] = (0, 0), state: dict | None = None,
               after_step: Callable[[int], None] | None = None, on_checkpoint: Callable[[], None] | None = None):
    """The training loop every stage shares: `steps` optimiser steps of ``loss_fn(rng, gen)``.

    Resumes from ``<name>.ckpt`` (the model, the optimiser and every object in `state`, e.g. an EMA), sets the
    learning rate by `_lr`, clips the gradient norm to 1, calls ``after_step(step)`` after each update, logs
    the loss every 25 steps to ``<name>_loss.csv`` and checkpoints every ``cfg.checkpoint_every`` steps
    (then calls `on_checkpoint`). `rng` (NumPy) and `gen` (torch) are seeded `seeds`; a checkpoint keeps
    their states, so a resumed run draws what an uninterrupted one would (one written before it did is resumed
    with ``seeds + start``, start being its step). Returns `gen` and a function giving the seconds trained so
    far (those before a resume included), for `write_timing`; the model is left in eval mode."""
    state = {"model": model, "opt": opt, **(state or {})}
    ck_path = cfg.work_dir / f"{name}.ckpt"
    ck = load_ckpt(ck_path)
    start, seconds = (ck["step"], ck["seconds"]) if ck else (0, 0.0)
    for key, obj in state.items() if ck else ():
        obj.load_state_dict(ck[key])
    log = _LossLog(cfg.work_dir / f"{name}_loss.csv", resume=ck is not None)
    elapsed = lambda: seconds + time.perf_counter() - log.t0  # noqa: E731
    rng, gen = np.random.default_rng(seeds[0] + start), torch.Generator().manual_seed(seeds[1] + start)
    if ck and "rng" in ck:
        rng.bit_generator.state = ck["rng"]
        gen.set_state(ck["gen"])
    params = [p for group in opt.param_groups for p in group["params"]]
    model.train()
    running = None
    bar = tqdm(range(start, steps), initial=start, total=steps, desc=name)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = _lr(step, steps, lr, warmup=warmup)
        loss = loss_fn(rng, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if after_step is not None:
            after_step(step)
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 25 == 0:
            log.write(step, loss.item(), seconds)
            bar.set_postfix(loss=f"{running:.4f}")
        if (step + 1) % cfg.checkpoint_every == 0:
            save_ckpt(ck_path, step=step + 1, seconds=elapsed(), rng=rng.bit_generator.state, gen=gen.get_state(),
                       **{k: v.state_dict() for k, v in state.items()})
            if on_checkpoint is not None:
                on_checkpoint()
    log.f.close()
    model.eval()
    return gen, elapsed


def write_timing(cfg: MiniSDConfig, stage: str, seconds: float) -> None:
    path = cfg.work_dir / "timing.json"
    t = json.loads(path.read_text()) if path.exists() else {}
    t[stage] = {"seconds": round(seconds, 1), "device": str(train_device()), "threads": torch.get_num_threads()}
    path.write_text(json.dumps(t, indent=1))
