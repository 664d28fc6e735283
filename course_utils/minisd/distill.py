"""A few-step version of the embedded model: latent consistency distillation (LCM), guidance folded in.

    python -m course_utils.minisd.train --stage unet_lcm     # after the unet stage; about 6 min on 2 cores

The 20-step model (the *teacher*) takes 20 denoising steps, each a U-Net call on the prompt and on the
empty prompt (classifier-free guidance). A consistency model (Song et al. 2023) learns to jump from any
point of a denoising trajectory straight to its end, x₀; latent consistency models (Luo et al. 2023, LCM)
distil one from a latent diffusion model, with the guided teacher's trajectories, so that the student
needs no guidance at all and 1-4 steps.

One training step, as in diffusers' ``train_lcm_distill_sd_wds.py``:

1. noise a training latent to a timestep tₙ₊ₖ of a 50-step DDIM grid (k = 20 training timesteps);
2. the teacher takes one guided DDIM step from there to tₙ (ε = ε_u + g·(ε_c − ε_u), g = 6 as shipped);
   for half the batch the caption is another training picture's, so that the path leads from this noisy
   latent to what the words ask (with matching captions only, the student followed combinations it had never
   seen much less often than its teacher);
3. the student's estimate of x₀ at tₙ₊ₖ must match a *target* network's estimate at tₙ. The target is an
   exponential moving average of the student (decay 0.95): the student learns to agree with itself one
   step further along the teacher's path, and so, step by step, along the whole path.

The estimate is f(x, t) = c_skip(t)·x + c_out(t)·x̂₀(x, t), with x̂₀ from the predicted noise (chapter 2's
``predict_x0``; the noising and the teacher's step are chapter 2's ``q_sample`` and ``ddim_step`` too) and
diffusers' ``LCMScheduler`` boundary scalings, so that f(x, 0) = x. The student keeps the teacher's
architecture and ε-prediction: diffusers' ``LCMScheduler`` runs it in a plain ``StableDiffusionPipeline``
with ``guidance_scale=1``. Taught in: chapter 7 (why a distilled model needs so few steps).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from course_utils.diffusion import ddim_step, predict_x0, q_sample

from . import data as D
from .config import MiniSDConfig
from .data_stages import load_data
from .loop import autocast, train_device, train_loop, write_timing
from .text_stages import load_tokenizer, tokenize
from .unet_stages import build_scheduler, encode_all


def lcm_scheduler(cfg: MiniSDConfig):
    """diffusers' LCMScheduler on the teacher's noise schedule and the distillation's 50-step grid."""
    from diffusers import LCMScheduler

    return LCMScheduler(num_train_timesteps=cfg.num_train_timesteps, beta_start=cfg.beta_start,
                        beta_end=cfg.beta_end, beta_schedule=cfg.beta_schedule, clip_sample=False,
                        prediction_type="epsilon", original_inference_steps=cfg.lcm_grid,
                        set_alpha_to_one=True, steps_offset=1, timestep_scaling=10.0)


def boundary_scalings(t: torch.Tensor, sigma_data: float = 0.5, scaling: float = 10.0):
    """c_skip(t) and c_out(t) of LCMScheduler: f(x, t) = c_skip·x + c_out·x̂₀, with f(x, 0) = x."""
    s = t.float() * scaling
    return sigma_data ** 2 / (s ** 2 + sigma_data ** 2), s / (s ** 2 + sigma_data ** 2) ** 0.5


def _consistency_loss(cfg: MiniSDConfig, student, teacher, target, text_encoder, tok, lat: torch.Tensor, specs,
                      dev):
    """The distillation's loss function: the student's jump to x0 from t_{n+k} against the target's from where
    one guided DDIM step of the teacher leads (pseudo-Huber distance, as in LCM, c = 0.001)."""
    abar = build_scheduler(cfg, "ddpm").alphas_cumprod.to(dev)
    k = cfg.num_train_timesteps // cfg.lcm_grid
    grid = torch.arange(1, cfg.lcm_grid + 1, device=dev) * k - 1  # 19, 39, ..., 999 (LCMScheduler's grid)
    with torch.no_grad():
        empty = text_encoder(tokenize(tok, [""]).to(dev)).last_hidden_state

    def jump(x, eps, t):  # f(x, t) = c_skip·x + c_out·x̂₀, x̂₀ from the predicted noise
        c_skip, c_out = (v.view(-1, 1, 1, 1) for v in boundary_scalings(t))
        return c_skip * x + c_out * predict_x0(x, eps, t, abar)

    def loss_fn(rng, gen):
        cond, x0, noise, n = _lcm_batch(cfg, text_encoder, tok, lat, specs, dev, rng, gen)
        t_start, t_end = grid[n], grid[n - 1]
        x_start = q_sample(x0, t_start, noise, abar)  # chapter 2's closed-form noising
        with autocast(cfg, dev):
            eps = student(x_start, t_start, cond).sample.float()
        pred = jump(x_start, eps, t_start)  # the student's jump to x0 from t_{n+k}
        with torch.no_grad(), autocast(cfg, dev):
            # one guided DDIM step of the teacher, t_{n+k} -> t_n
            both = teacher(torch.cat([x_start, x_start]), torch.cat([t_start, t_start]),
                           torch.cat([cond, empty.expand(len(x0), -1, -1)])).sample.float()
            eps_c, eps_u = both.chunk(2)
            x_end, _ = ddim_step(x_start, eps_u + cfg.lcm_guidance * (eps_c - eps_u), t_start, t_end, abar)
            want = jump(x_end, target(x_end, t_end, cond).sample.float(), t_end)  # the target's jump from there
        return (torch.sqrt((pred - want) ** 2 + 1e-6) - 1e-3).mean()

    return loss_fn


def _lcm_batch(cfg: MiniSDConfig, text_encoder, tok, lat: torch.Tensor, specs, dev, rng, gen):
    """Captions (a share of them another picture's), latents, noise and grid indices n for one step."""
    idx = rng.integers(0, len(specs), cfg.lcm_batch)
    # a share of captions describe another picture: the teacher's path then leads from this noisy latent
    # to that caption, and the student learns to follow the words more than the noise it starts from
    cap_idx = idx
    if cfg.lcm_shuffle:
        cap_idx = np.where(rng.random(len(idx)) < cfg.lcm_shuffle, rng.integers(0, len(specs), len(idx)), idx)
    caps = [D.caption(specs[i], rng, drop_p=cfg.caption_attr_drop, fur_drop_p=cfg.caption_fur_drop)
            for i in cap_idx]
    with torch.no_grad(), autocast(cfg, dev):
        cond = text_encoder(tokenize(tok, caps).to(dev)).last_hidden_state.float()
    m, s = lat[idx, 0], lat[idx, 1]
    x0 = (m + s * torch.randn(m.shape, generator=gen)).to(dev)
    noise = torch.randn(x0.shape, generator=gen).to(dev)
    n = torch.randint(1, cfg.lcm_grid, (len(idx),), generator=gen).to(dev)  # t_{n+k} above t_n >= 19
    return cond, x0, noise, n


def stage_unet_lcm(cfg: MiniSDConfig) -> Path | None:
    """Distil the `unet` stage's U-Net into a few-step student (``<work_dir>/unet_lcm``)."""
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextModel

    if not cfg.lcm_steps:
        return None
    out = cfg.work_dir / "unet_lcm"
    if (out / "config.json").exists():
        return out
    dev = train_device()
    tok = load_tokenizer(cfg)
    text_encoder = CLIPTextModel.from_pretrained(cfg.work_dir / "clip").to(dev).eval()
    images, specs = load_data(cfg)
    vae = None  # the teacher's training latents in the shipped autoencoder, encoded once and cached
    if not (cfg.work_dir / "latents_vae_photos.pt").exists():
        from diffusers import AutoencoderKL

        vae = AutoencoderKL.from_pretrained(cfg.work_dir / "vae_photos").to(dev).eval()
    lat = encode_all(cfg, vae, images, dev, name="latents_vae_photos")
    teacher = UNet2DConditionModel.from_pretrained(cfg.work_dir / "unet").to(dev).eval().requires_grad_(False)
    student = copy.deepcopy(teacher).requires_grad_(True)
    target = copy.deepcopy(teacher)

    def target_step(step: int) -> None:  # the target: an exponential moving average of the student
        with torch.no_grad():
            for pt, p in zip(target.parameters(), student.parameters()):
                pt.lerp_(p, 1 - cfg.lcm_target_decay)

    opt = torch.optim.AdamW(student.parameters(), lr=cfg.lcm_lr, weight_decay=0.0)
    loss_fn = _consistency_loss(cfg, student, teacher, target, text_encoder, tok, lat, specs, dev)
    _, elapsed = train_loop(cfg, "unet_lcm", student, opt, loss_fn, steps=cfg.lcm_steps, lr=cfg.lcm_lr, warmup=100,
                            seeds=(cfg.seed + 21, cfg.seed + 21), state={"target": target}, after_step=target_step)
    target.eval().cpu().save_pretrained(out, safe_serialization=True)
    write_timing(cfg, "unet_lcm", elapsed())
    return out
