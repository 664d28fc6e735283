"""DDIM's reverse step: a jump through the predicted clean picture, deterministic when η = 0.

Taught in: chapter 2 (Forward and reverse diffusion).
"""

from __future__ import annotations

import torch

from course_utils import checks

from .arguments import validate
from .tensors import draw_noise, gather, gather_prev

__all__ = ["ddim_step"]


def ddim_step(
    x_t: torch.Tensor,
    eps: torch.Tensor,
    t: int | torch.Tensor,
    prev_t: int | torch.Tensor,
    alphas_cumprod: torch.Tensor,
    eta: float = 0.0,
    noise: torch.Tensor | None = None,
    final_alpha_cumprod: float | torch.Tensor | None = None,
    clip_sample: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """
    One DDIM step (Song et al. 2021, eq. 12): jump from x_t to x_prev through the predicted clean picture.

        x_prev = √ᾱ_prev x̂_0 + √(1-ᾱ_prev-σ_t²) ε̂ + σ_t z
        σ_t    = η √((1-ᾱ_prev)/(1-ᾱ_t)) √(1-ᾱ_t/ᾱ_prev)

    With η = 0 the step is deterministic (DDIM); with η = 1, σ_t² equals DDPM's β̃ and the step samples
    like DDPM. It equals diffusers' `DDIMScheduler.step(eps, t, x_t, eta=eta, variance_noise=noise)`,
    whose own prev_t is t - num_train_timesteps // num_inference_steps.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        x_t (`torch.Tensor` of shape `(B, C, H, W)`, or any `(B, ...)`):
            The noisy pictures at timestep t.
        eps (`torch.Tensor`, same shape as `x_t`):
            ε̂, the noise the model predicts for `x_t`.
        t (`int` or `torch.LongTensor` of shape `(B,)`):
            The current timestep, from 0 to T-1.
        prev_t (`int` or `torch.LongTensor` of shape `(B,)`):
            The timestep to jump to, smaller than t; a negative value uses `final_alpha_cumprod`.
        alphas_cumprod (`torch.Tensor` of shape `(T,)`):
            ᾱ_0 ... ᾱ_{T-1}.
        eta (`float`, defaults to 0.0):
            η, from 0 (deterministic DDIM) to 1 (as noisy as DDPM).
        noise (`torch.Tensor`, same shape as `x_t`, *optional*):
            z ~ N(0, I), used only when η > 0. If `None`, it is drawn with `generator`.
        final_alpha_cumprod (`float` or 0-dim `torch.Tensor`, *optional*):
            ᾱ_prev for the step past the last timestep, in (0, 1]. Defaults to ᾱ_0 (diffusers'
            `set_alpha_to_one=False`, Stable Diffusion's setting); 1.0 is `set_alpha_to_one=True`.
        clip_sample (`bool`, defaults to `False`):
            Clamp x̂_0 to [-1, 1] (diffusers' `clip_sample=True`); the direction term keeps ε̂ as predicted.
        generator (`torch.Generator`, *optional*):
            The random generator used when η > 0 and `noise` is `None`.

    Returns:
        `tuple(torch.Tensor, torch.Tensor)`, each the shape and dtype of `x_t`: x_prev and x̂_0.

    Raises:
        `CourseInputError`: if a shape, a dtype or a timestep is wrong, prev_t is not before t, eta is
        outside [0, 1], or final_alpha_cumprod is outside (0, 1].
    """
    checks.number("eta", eta, 0.0, 1.0, hint="0 is deterministic DDIM, 1 is as noisy as DDPM.")
    t, prev_t = validate(t, prev_t, x_t=x_t, eps=eps, noise=noise, alphas_cumprod=alphas_cumprod, optional=("noise",))
    final_value = torch.as_tensor(alphas_cumprod[0] if final_alpha_cumprod is None else final_alpha_cumprod)
    if final_value.numel() != 1 or not 0.0 < float(final_value) <= 1.0:
        hint = "Use None for ᾱ_0 or 1.0 for the clean picture."
        raise checks.fail("final_alpha_cumprod", final_alpha_cumprod, "one number in (0, 1]", hint)

    # 1. ᾱ_t and ᾱ_prev (final_alpha_cumprod past the last step)
    alpha_bar = gather(alphas_cumprod, t, x_t)
    alpha_bar_prev = gather_prev(alphas_cumprod, prev_t, x_t, final_value.reshape(()))

    # 2. x̂_0 = (x_t - √(1-ᾱ_t) ε̂) / √ᾱ_t                           (DDIM eq. 12, "predicted x_0")
    pred_x0 = (x_t - (1 - alpha_bar).sqrt().to(x_t.dtype) * eps) / alpha_bar.sqrt().to(x_t.dtype)
    if clip_sample:
        # x̂_0 ← clamp(x̂_0, -1, 1)
        pred_x0 = pred_x0.clamp(-1.0, 1.0)

    # 3. σ_t = η √((1-ᾱ_prev)/(1-ᾱ_t)) √(1-ᾱ_t/ᾱ_prev)               (DDIM eq. 16)
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar)).sqrt() * (1 - alpha_bar / alpha_bar_prev).sqrt()

    # 4. direction pointing to x_t: √(1-ᾱ_prev-σ_t²) ε̂
    direction = (1 - alpha_bar_prev - sigma**2).sqrt().to(x_t.dtype) * eps

    # 5. x_prev = √ᾱ_prev x̂_0 + direction + σ_t z                    (DDIM eq. 12)
    x_prev = alpha_bar_prev.sqrt().to(x_t.dtype) * pred_x0 + direction
    if eta > 0:
        z = draw_noise(x_t, generator) if noise is None else noise
        x_prev = x_prev + sigma.to(x_t.dtype) * z
    return x_prev, pred_x0
