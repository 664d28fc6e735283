"""The forward process: noising a picture, in one jump or one step at a time, and reading x_0 back.

`q_sample` is the closed form x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε, `q_step` one step of the chain it sums up,
and `predict_x0` the closed form solved for x_0, which every reverse step starts from.

Taught in: chapter 2 (Forward and reverse diffusion).
"""

from __future__ import annotations

import torch

from .arguments import validate
from .tensors import gather

__all__ = ["predict_x0", "q_sample", "q_step"]


def q_sample(
    x0: torch.Tensor, t: int | torch.Tensor, noise: torch.Tensor, alphas_cumprod: torch.Tensor
) -> torch.Tensor:
    """
    Noise clean pictures to timestep t in one jump: x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε (DDPM eq. 4).

    This is how training makes its noisy inputs; it equals diffusers' `scheduler.add_noise(x0, noise, t)`.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        x0 (`torch.Tensor` of shape `(B, C, H, W)`, or any `(B, ...)`):
            The clean pictures (or latents), usually scaled to [-1, 1].
        t (`int` or `torch.LongTensor` of shape `(B,)`):
            The timestep, one for all pictures or one per picture, from 0 to T-1.
        noise (`torch.Tensor`, same shape as `x0`):
            ε ~ N(0, I), e.g. `torch.randn(x0.shape, generator=g)`.
        alphas_cumprod (`torch.Tensor` of shape `(T,)`):
            ᾱ_0 ... ᾱ_{T-1}, e.g. `NoiseSchedule.from_kind("linear").alphas_cumprod`.

    Returns:
        `torch.Tensor`, same shape and dtype as `x0`: x_t.

    Raises:
        `CourseInputError`: if a shape, a dtype or a timestep is wrong.
    """
    t = validate(t, x0=x0, noise=noise, alphas_cumprod=alphas_cumprod)
    # ᾱ_t
    alpha_bar = gather(alphas_cumprod, t, x0)
    # x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε                                   (DDPM eq. 4)
    return alpha_bar.sqrt().to(x0.dtype) * x0 + (1 - alpha_bar).sqrt().to(x0.dtype) * noise


def q_step(
    x_prev: torch.Tensor, t: int | torch.Tensor, noise: torch.Tensor, betas: torch.Tensor
) -> torch.Tensor:
    """
    One forward step, from x_{t-1} to x_t: x_t = √(1-β_t) x_{t-1} + √β_t ε (DDPM eq. 2).

    Apply it to the clean picture with t = 0, to the result with t = 1, and so on up to t = k: the
    result has the same distribution as `q_sample(x0, k, ...)`, because the noises of the steps add
    up to one Gaussian of variance 1 - ᾱ_k. Chapter 2 checks this numerically.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        x_prev (`torch.Tensor` of shape `(B, C, H, W)`, or any `(B, ...)`):
            x_{t-1}, the pictures one step less noisy (the clean pictures when t = 0).
        t (`int` or `torch.LongTensor` of shape `(B,)`):
            The timestep this step arrives at, from 0 to T-1.
        noise (`torch.Tensor`, same shape as `x_prev`):
            Fresh ε ~ N(0, I) for this step.
        betas (`torch.Tensor` of shape `(T,)`):
            β_0 ... β_{T-1}, e.g. `NoiseSchedule.from_kind("linear").betas`.

    Returns:
        `torch.Tensor`, same shape and dtype as `x_prev`: x_t.

    Raises:
        `CourseInputError`: if a shape, a dtype or a timestep is wrong.
    """
    t = validate(t, x_prev=x_prev, noise=noise, betas=betas)
    # β_t
    beta = gather(betas, t, x_prev)
    # x_t = √(1-β_t) x_{t-1} + √β_t ε                               (DDPM eq. 2)
    return (1 - beta).sqrt().to(x_prev.dtype) * x_prev + beta.sqrt().to(x_prev.dtype) * noise


def predict_x0(
    x_t: torch.Tensor, eps: torch.Tensor, t: int | torch.Tensor, alphas_cumprod: torch.Tensor
) -> torch.Tensor:
    """
    The clean picture implied by a noise prediction: x̂_0 = (x_t - √(1-ᾱ_t) ε̂) / √ᾱ_t.

    It is the closed form x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε solved for x_0; diffusers returns it as
    `pred_original_sample`.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        x_t (`torch.Tensor` of shape `(B, C, H, W)`, or any `(B, ...)`):
            The noisy pictures at timestep t.
        eps (`torch.Tensor`, same shape as `x_t`):
            ε̂, the noise the model predicts (or the true noise).
        t (`int` or `torch.LongTensor` of shape `(B,)`):
            The timestep of `x_t`, from 0 to T-1.
        alphas_cumprod (`torch.Tensor` of shape `(T,)`):
            ᾱ_0 ... ᾱ_{T-1}.

    Returns:
        `torch.Tensor`, same shape and dtype as `x_t`: x̂_0.

    Raises:
        `CourseInputError`: if a shape, a dtype or a timestep is wrong.
    """
    t = validate(t, x_t=x_t, eps=eps, alphas_cumprod=alphas_cumprod)
    # ᾱ_t
    alpha_bar = gather(alphas_cumprod, t, x_t)
    # x̂_0 = (x_t - √(1-ᾱ_t) ε̂) / √ᾱ_t                              (DDPM eq. 4 solved for x_0)
    return (x_t - (1 - alpha_bar).sqrt().to(x_t.dtype) * eps) / alpha_bar.sqrt().to(x_t.dtype)
