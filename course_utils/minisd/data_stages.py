"""The training pictures: the stages ``data`` (full-body cats) and ``portraits`` (close-ups of their faces)
draw them in several processes and cache them in the work folder; `load_data` reads them back and
`batch_to_tensor` makes a training batch of them."""

from __future__ import annotations

import json
import os
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import data as D
from .config import MiniSDConfig
from .loop import write_timing


def batch_to_tensor(imgs_u8: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float (N, 3, H, W) in [-1, 1]."""
    return torch.from_numpy(imgs_u8).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def _render_chunk(args):
    seed, n, close_ups = args
    return D.make_dataset(n, seed=seed, close_ups=close_ups)


def _draw_and_cache(cfg: MiniSDConfig, name: str, n: int, first_seed: int, close_ups: bool, desc: str) -> Path:
    """Draw `n` pictures in 8 processes and cache them with their specs in ``<work_dir>/<name>.npz``."""
    path = cfg.work_dir / f"{name}.npz"
    if path.exists():
        return path
    t0 = time.perf_counter()
    chunks = 8
    per = n // chunks
    with Pool(min(chunks, os.cpu_count() or 1)) as pool:
        parts = list(tqdm(pool.imap(_render_chunk, [(first_seed + i, per, close_ups) for i in range(chunks)]),
                          total=chunks, desc=desc))
    images = np.concatenate([p[0] for p in parts])
    specs = [s for p in parts for s in p[1]]
    np.savez(path, images=images, specs=json.dumps([s.as_dict() for s in specs]))
    write_timing(cfg, name, time.perf_counter() - t0)
    return path


# --- stage: data --------------------------------------------------------------------------------
def stage_data(cfg: MiniSDConfig) -> Path:
    return _draw_and_cache(cfg, "data", cfg.n_images, cfg.seed * 100, close_ups=False, desc="drawing cats")


def load_data(cfg: MiniSDConfig, name: str = "data"):
    z = np.load(cfg.work_dir / f"{name}.npz")
    specs = [D.CatSpec(**d) for d in json.loads(str(z["specs"]))]
    return z["images"], specs


# --- stage: portraits ---------------------------------------------------------------------------
def stage_portraits(cfg: MiniSDConfig) -> Path:
    """Close-ups of cats' faces (training combinations only): for the judge, the autoencoder's photo stage
    and the optional close-up stage of the U-Net."""
    return _draw_and_cache(cfg, "portraits", cfg.n_portraits, cfg.seed * 100 + 50, close_ups=True,
                           desc="drawing close-ups")
