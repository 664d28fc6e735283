"""DDPM's reverse process: the posterior q(x_{prev_t} | x_t, x_0), its mean written with ε̂, and the step.

`outline_step` is the update many tutorials print, kept here so that chapter 2 can set it against
DDPM's in numbers.

Taught in: chapter 2 (Forward and reverse diffusion).
"""

from __future__ import annotations

import torch

from .arguments import validate
from .forward import predict_x0
from .tensors import draw_noise, gather, gather_prev, per_sample

__all__ = ["ddpm_mean_from_eps", "outline_step", "p_sample", "posterior_mean_variance"]


def posterior_mean_variance(
    x0: torch.Tensor,
    x_t: torch.Tensor,
    t: int | torch.Tensor,
    prev_t: int | torch.Tensor,
    alphas_cumprod: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Mean and variance of q(x_{prev_t} | x_t, x_0), the Gaussian a reverse step samples from (DDPM eq. 6-7).

        μ̃ = (√ᾱ_prev β_t / (1-ᾱ_t)) x_0 + (√α_t (1-ᾱ_prev) / (1-ᾱ_t)) x_t
        β̃ = (1-ᾱ_prev) / (1-ᾱ_t) · β_t

    with α_t = ᾱ_t / ᾱ_prev and β_t = 1 - α_t, so that the same formula serves a step that skips
    timesteps (prev_t < t - 1), as diffusers' `DDPMScheduler` does with fewer inference steps.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        x0 (`torch.Tensor` of shape `(B, C, H, W)`, or any `(B, ...)`):
            The clean pictures, or the model's estimate x̂_0 of them.
        x_t (`torch.Tensor`, same shape as `x0`):
            The noisy pictures at timestep t.
        t (`int` or `torch.LongTensor` of shape `(B,)`):
            The current timestep, from 0 to T-1.
        prev_t (`int` or `torch.LongTensor` of shape `(B,)`):
            The timestep to step back to, smaller than t; a negative value means the clean picture
            (ᾱ_prev = 1).
        alphas_cumprod (`torch.Tensor` of shape `(T,)`):
            ᾱ_0 ... ᾱ_{T-1}.

    Returns:
        `tuple(torch.Tensor, torch.Tensor)`: the mean μ̃, same shape and dtype as `x_t`, and the
        variance β̃, in the dtype of `alphas_cumprod`, of shape `(B, 1, ..., 1)` (or 0-dim for an int t).

    Raises:
        `CourseInputError`: if a shape, a dtype or a timestep is wrong, or prev_t is not before t.
    """
    t, prev_t = validate(t, prev_t, x_t=x_t, x0=x0, alphas_cumprod=alphas_cumprod)
    # ᾱ_t, and ᾱ_prev = ᾱ_{prev_t} (1 past the last step)
    alpha_bar = gather(alphas_cumprod, t, x_t)
    alpha_bar_prev = gather_prev(alphas_cumprod, prev_t, x_t, 1.0)
    # α_t = ᾱ_t / ᾱ_prev,  β_t = 1 - α_t
    alpha = alpha_bar / alpha_bar_prev
    beta = 1 - alpha
    # μ̃ = (√ᾱ_prev β_t / (1-ᾱ_t)) x_0 + (√α_t (1-ᾱ_prev) / (1-ᾱ_t)) x_t          (DDPM eq. 7)
    coef_x0 = alpha_bar_prev.sqrt() * beta / (1 - alpha_bar)
    coef_xt = alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar)
    mean = coef_x0.to(x_t.dtype) * x0 + coef_xt.to(x_t.dtype) * x_t
    # β̃ = (1-ᾱ_prev) / (1-ᾱ_t) · β_t                                               (DDPM eq. 7)
    variance = (1 - alpha_bar_prev) / (1 - alpha_bar) * beta
    return mean, variance


def ddpm_mean_from_eps(
    x_t: torch.Tensor,
    eps: torch.Tensor,
    t: int | torch.Tensor,
    alphas_cumprod: torch.Tensor,
    prev_t: int | torch.Tensor | None = None,
) -> torch.Tensor:
    """
    DDPM's reverse-step mean written with the predicted noise (DDPM eq. 11):

        μ = (x_t - β_t / √(1-ᾱ_t) · ε̂) / √α_t

    It is the posterior mean μ̃ of `posterior_mean_variance` with x_0 replaced by
    x̂_0 = (x_t - √(1-ᾱ_t) ε̂)/√ᾱ_t: the same number reached by a shorter road.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        x_t (`torch.Tensor` of shape `(B, C, H, W)`, or any `(B, ...)`):
            The noisy pictures at timestep t.
        eps (`torch.Tensor`, same shape as `x_t`):
            ε̂, the noise the model predicts.
        t (`int` or `torch.LongTensor` of shape `(B,)`):
            The current timestep, from 0 to T-1.
        alphas_cumprod (`torch.Tensor` of shape `(T,)`):
            ᾱ_0 ... ᾱ_{T-1}.
        prev_t (`int` or `torch.LongTensor` of shape `(B,)`, *optional*):
            The timestep to step back to; by default t - 1 (consecutive steps, α_t = 1 - β_t as in the
            paper). With a skip, α_t = ᾱ_t / ᾱ_{prev_t} and the formula still holds.

    Returns:
        `torch.Tensor`, same shape and dtype as `x_t`: the mean μ.

    Raises:
        `CourseInputError`: if a shape, a dtype or a timestep is wrong, or prev_t is not before t.
    """
    if prev_t is None:
        t = validate(t, x_t=x_t, eps=eps, alphas_cumprod=alphas_cumprod)
        prev_t = t - 1
    else:
        t, prev_t = validate(t, prev_t, x_t=x_t, eps=eps, alphas_cumprod=alphas_cumprod)
    # ᾱ_t, and ᾱ_prev = ᾱ_{t-1} (1 at t = 0)
    alpha_bar = gather(alphas_cumprod, t, x_t)
    alpha_bar_prev = gather_prev(alphas_cumprod, prev_t, x_t, 1.0)
    # α_t = ᾱ_t / ᾱ_{t-1},  β_t = 1 - α_t
    alpha = alpha_bar / alpha_bar_prev
    beta = 1 - alpha
    # μ = (x_t - β_t / √(1-ᾱ_t) · ε̂) / √α_t                        (DDPM eq. 11)
    eps_coef = (beta / (1 - alpha_bar).sqrt()).to(x_t.dtype)
    return (x_t - eps_coef * eps) / alpha.sqrt().to(x_t.dtype)


def p_sample(
    x_t: torch.Tensor,
    eps: torch.Tensor,
    t: int | torch.Tensor,
    prev_t: int | torch.Tensor,
    alphas_cumprod: torch.Tensor,
    noise: torch.Tensor | None = None,
    clip_sample: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """
    One DDPM reverse step (Ho et al. 2020, Algorithm 2): x_prev = μ̃(x_t, x̂_0) + σ_t z.

    σ_t² = β̃, the posterior variance ("fixed_small" in diffusers, kept above 1e-20), and no noise is
    added at the last step (t = 0). Given the same noise it equals diffusers'
    `DDPMScheduler.step(eps, t, x_t)` with `variance_type="fixed_small"`, `prediction_type="epsilon"`;
    given a `torch.Generator` seeded the same, it draws the same noise as `step(..., generator=g)`.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        x_t (`torch.Tensor` of shape `(B, C, H, W)`, or any `(B, ...)`):
            The noisy pictures at timestep t.
        eps (`torch.Tensor`, same shape as `x_t`):
            ε̂, the noise the model predicts for `x_t`.
        t (`int` or `torch.LongTensor` of shape `(B,)`):
            The current timestep, from 0 to T-1.
        prev_t (`int` or `torch.LongTensor` of shape `(B,)`):
            The timestep to step back to: t - 1 with all T steps, the next inference timestep otherwise,
            and a negative number after the last one.
        alphas_cumprod (`torch.Tensor` of shape `(T,)`):
            ᾱ_0 ... ᾱ_{T-1}.
        noise (`torch.Tensor`, same shape as `x_t`, *optional*):
            z ~ N(0, I) for this step. If `None`, it is drawn with `generator`.
        clip_sample (`bool`, defaults to `False`):
            Clamp x̂_0 to [-1, 1] before using it (diffusers' `clip_sample=True`).
        generator (`torch.Generator`, *optional*):
            The random generator used when `noise` is `None`.

    Returns:
        `tuple(torch.Tensor, torch.Tensor)`, each the shape and dtype of `x_t`: x_prev and x̂_0.

    Raises:
        `CourseInputError`: if a shape, a dtype or a timestep is wrong, or prev_t is not before t.
    """
    t_ = validate(t, x_t=x_t, eps=eps, noise=noise, alphas_cumprod=alphas_cumprod, optional=("noise",))

    # 1. x̂_0 = (x_t - √(1-ᾱ_t) ε̂) / √ᾱ_t
    pred_x0 = predict_x0(x_t, eps, t_, alphas_cumprod)
    if clip_sample:
        # x̂_0 ← clamp(x̂_0, -1, 1)
        pred_x0 = pred_x0.clamp(-1.0, 1.0)

    # 2. μ̃ = (√ᾱ_prev β_t/(1-ᾱ_t)) x̂_0 + (√α_t (1-ᾱ_prev)/(1-ᾱ_t)) x_t,  β̃ = (1-ᾱ_prev)/(1-ᾱ_t) β_t  (eq. 7)
    mean, variance = posterior_mean_variance(pred_x0, x_t, t_, prev_t, alphas_cumprod)

    # 3. σ_t = √max(β̃, 1e-20)
    sigma = variance.clamp(min=1e-20).sqrt()

    # 4. x_prev = μ̃ + σ_t z, with no noise where t = 0
    nonzero = per_sample(t_ > 0, x_t)
    if not bool(nonzero.any()):
        return mean, pred_x0
    z = draw_noise(x_t, generator) if noise is None else noise
    x_prev = mean + torch.where(nonzero, sigma.to(x_t.dtype) * z, torch.zeros_like(z))
    return x_prev, pred_x0


def outline_step(
    x_t: torch.Tensor, eps: torch.Tensor, t: int | torch.Tensor, alphas_cumprod: torch.Tensor
) -> torch.Tensor:
    """
    The update printed in many tutorials, x_{t-1} = (x_t - √(1-α_t) ε̂) / √α_t. It is NOT DDPM's update.

    It is kept only so that chapter 2 can show the difference in numbers. Two things are wrong:
    it scales the noise by √(1-α_t) = √β_t where DDPM's mean has β_t / √(1-ᾱ_t), so it subtracts
    √((1-ᾱ_t)/β_t) times too much predicted noise (equal only at t = 0; about 7 times too much at
    t = 999 of the linear schedule); and it adds no σ_t z noise, so it is not a DDPM sample either
    (DDIM is the deterministic sampler that works). Use `p_sample` or `ddim_step` instead.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        x_t (`torch.Tensor` of shape `(B, C, H, W)`, or any `(B, ...)`):
            The noisy pictures at timestep t.
        eps (`torch.Tensor`, same shape as `x_t`):
            ε̂, the predicted noise.
        t (`int` or `torch.LongTensor` of shape `(B,)`):
            The current timestep, from 0 to T-1.
        alphas_cumprod (`torch.Tensor` of shape `(T,)`):
            ᾱ_0 ... ᾱ_{T-1}.

    Returns:
        `torch.Tensor`, same shape and dtype as `x_t`: the (wrong) x_{t-1}.

    Raises:
        `CourseInputError`: if a shape, a dtype or a timestep is wrong.
    """
    t = validate(t, x_t=x_t, eps=eps, alphas_cumprod=alphas_cumprod)
    alpha_bar = gather(alphas_cumprod, t, x_t)
    alpha_bar_prev = gather_prev(alphas_cumprod, t - 1, x_t, 1.0)
    # α_t = ᾱ_t / ᾱ_{t-1}
    alpha = alpha_bar / alpha_bar_prev
    # x_{t-1} = (x_t - √(1-α_t) ε̂) / √α_t        (the outline's formula, not DDPM's)
    return (x_t - (1 - alpha).sqrt().to(x_t.dtype) * eps) / alpha.sqrt().to(x_t.dtype)
