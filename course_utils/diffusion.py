"""Forward noising and the DDPM and DDIM reverse steps, written from scratch.

Each line of math carries its equation. The notation is that of Ho et al. 2020 (DDPM) and
Song et al. 2021 (DDIM), with timesteps counted from 0 as in diffusers:

    β_t              variance of the noise added by forward step t          (`betas[t]`)
    α_t = 1 - β_t
    ᾱ_t = Π_{s≤t} α_s                                                       (`alphas_cumprod[t]`)
    x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε,  ε ~ N(0, I)                               (the closed form)

When sampling skips timesteps (50 inference steps for 1000 training steps), the step goes from t to
an earlier `prev_t`, and α_t and β_t stand for the whole jump: α_t = ᾱ_t / ᾱ_{prev_t}, β_t = 1 - α_t.
A negative `prev_t` means "past the last step": ᾱ_{prev_t} = 1 (the clean picture).

Every function checks what it is given, matches diffusers' `DDPMScheduler` and `DDIMScheduler` to
rounding (the course's tests check this in float64), and works on tensors of any shape (B, ...),
usually (B, C, H, W). Timesteps `t` are a Python int or a LongTensor of shape (B,), one per picture.

Taught in: chapter 2 (Forward and reverse diffusion).
"""

from __future__ import annotations

import numpy as np
import torch

from course_utils import checks
from course_utils.errors import CourseInputError

__all__ = [
    "ddim_step",
    "ddpm_mean_from_eps",
    "outline_step",
    "p_sample",
    "posterior_mean_variance",
    "predict_x0",
    "q_sample",
    "q_step",
    "timesteps_for",
]

TIMESTEP_SPACINGS = ("leading", "trailing", "linspace")


# --------------------------------------------------------------------------------------------
# The one check of a step's arguments, and indexing helpers
# --------------------------------------------------------------------------------------------

_SCHEDULES = ("alphas_cumprod", "betas")
_NOT_GIVEN = object()


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return type(value).__name__


def _validate(t, prev_t=_NOT_GIVEN, optional=(), **arguments):
    """
    Check a step's arguments; return t (and prev_t, when given) as int64 tensors on the pictures' device.

    `arguments` are the pictures by name, the first one x (a floating-point tensor of shape (B, ...))
    and the others of x's shape (those named in `optional` may be None), and the schedule
    (`alphas_cumprod` or `betas`, 1-D floating-point). t is a timestep of the schedule; prev_t is
    one too, or negative (past the last step), and comes before t.
    """
    pictures = [(name, value) for name, value in arguments.items() if name not in _SCHEDULES]
    [(schedule_name, schedule)] = [(name, value) for name, value in arguments.items() if name in _SCHEDULES]
    x_name, x = pictures[0]
    for name, value in pictures:
        if value is None and name in optional:
            continue
        if not isinstance(value, torch.Tensor) or not value.is_floating_point() or value.ndim < 1:
            raise CourseInputError(
                f"{name} must be a floating-point tensor of shape (B, ...), e.g. (B, C, H, W), got {_describe(value)}."
            )
        if value.shape != x.shape:
            raise CourseInputError(
                f"{name} must have the same shape as {x_name}, {tuple(x.shape)}, got {tuple(value.shape)}."
            )
    if not isinstance(schedule, torch.Tensor) or schedule.ndim != 1 or not schedule.is_floating_point():
        raise CourseInputError(
            f"{schedule_name} must be a 1-D floating-point tensor with one value per training timestep, got "
            f"{_describe(schedule)}. Take it from a NoiseSchedule, e.g. "
            f"NoiseSchedule.from_kind('linear').{schedule_name}."
        )
    t = _timestep("t", t, x, schedule.shape[0])
    if prev_t is _NOT_GIVEN:
        return t
    prev_t = _timestep("prev_t", prev_t, x, schedule.shape[0], allow_negative=True)
    later = (prev_t >= t).reshape(-1)
    if bool(later.any()):
        i = later.nonzero()[0].item()
        t_i, prev_i = (v.reshape(-1)[i].item() for v in torch.broadcast_tensors(t, prev_t))
        raise CourseInputError(
            f"prev_t must be smaller than t (a reverse step goes back in time), got prev_t={prev_i} with t={t_i}."
        )
    return t, prev_t


def _timestep(name: str, t, x: torch.Tensor, num_train_timesteps: int, allow_negative: bool = False):
    """`t` (an int, or an integer tensor of shape () or (B,)) as an int64 tensor on x's device."""
    if not isinstance(t, torch.Tensor):
        if not checks.is_whole(t):
            raise CourseInputError(f"{name} must be an int or an integer tensor of shape (B,), got {t!r}.")
        t = torch.tensor(int(t))
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool or t.ndim > 1:
        raise CourseInputError(f"{name} must be an int or an integer tensor of shape (B,), got {_describe(t)}.")
    if t.ndim == 1 and t.shape[0] != x.shape[0]:
        raise CourseInputError(
            f"{name} must hold one timestep per picture: shape ({x.shape[0]},) for a batch of "
            f"{x.shape[0]}, got shape {tuple(t.shape)}."
        )
    t = t.to(device=x.device, dtype=torch.long)
    bad = (t >= num_train_timesteps) if allow_negative else (t < 0) | (t >= num_train_timesteps)
    if bool(bad.any()):
        low = "any negative number (for past the last step)" if allow_negative else "0"
        raise CourseInputError(
            f"{name} must be a timestep from {low} to {num_train_timesteps - 1} (num_train_timesteps - 1), "
            f"got {(t[bad][0] if t.ndim else t).item()}."
        )
    return t


def _per_sample(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Shape a 0-dim or (B,) tensor so that it broadcasts over x of shape (B, ...): (B, 1, ..., 1)."""
    if values.ndim == 0:
        return values
    return values.reshape(values.shape[0], *([1] * (x.ndim - 1)))


def _gather(values: torch.Tensor, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """values[t], on x's device, in the schedule's dtype, shaped to broadcast over x."""
    return _per_sample(values.to(x.device)[t], x)


def _gather_prev(values: torch.Tensor, prev_t: torch.Tensor, x: torch.Tensor, final) -> torch.Tensor:
    """ᾱ_{prev_t}, or `final` where prev_t < 0, shaped to broadcast over x."""
    values = values.to(x.device)
    final = torch.as_tensor(final, dtype=values.dtype, device=x.device)
    # ᾱ_prev = ᾱ[prev_t] if prev_t ≥ 0 else final
    return _per_sample(torch.where(prev_t >= 0, values[prev_t.clamp(min=0)], final), x)


def _draw_noise(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """z ~ N(0, I) shaped like x, drawn as diffusers' `randn_tensor` draws it (on the generator's device)."""
    device = generator.device if generator is not None else x.device
    return torch.randn(x.shape, generator=generator, device=device, dtype=x.dtype).to(x.device)

# --------------------------------------------------------------------------------------------
# The forward process
# --------------------------------------------------------------------------------------------


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
    t = _validate(t, x0=x0, noise=noise, alphas_cumprod=alphas_cumprod)
    # ᾱ_t
    alpha_bar = _gather(alphas_cumprod, t, x0)
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
    t = _validate(t, x_prev=x_prev, noise=noise, betas=betas)
    # β_t
    beta = _gather(betas, t, x_prev)
    # x_t = √(1-β_t) x_{t-1} + √β_t ε                               (DDPM eq. 2)
    return (1 - beta).sqrt().to(x_prev.dtype) * x_prev + beta.sqrt().to(x_prev.dtype) * noise


# --------------------------------------------------------------------------------------------
# Reading the clean picture and the posterior off a noisy one
# --------------------------------------------------------------------------------------------


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
    t = _validate(t, x_t=x_t, eps=eps, alphas_cumprod=alphas_cumprod)
    # ᾱ_t
    alpha_bar = _gather(alphas_cumprod, t, x_t)
    # x̂_0 = (x_t - √(1-ᾱ_t) ε̂) / √ᾱ_t                              (DDPM eq. 4 solved for x_0)
    return (x_t - (1 - alpha_bar).sqrt().to(x_t.dtype) * eps) / alpha_bar.sqrt().to(x_t.dtype)


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
    t, prev_t = _validate(t, prev_t, x_t=x_t, x0=x0, alphas_cumprod=alphas_cumprod)
    # ᾱ_t, and ᾱ_prev = ᾱ_{prev_t} (1 past the last step)
    alpha_bar = _gather(alphas_cumprod, t, x_t)
    alpha_bar_prev = _gather_prev(alphas_cumprod, prev_t, x_t, 1.0)
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
        t = _validate(t, x_t=x_t, eps=eps, alphas_cumprod=alphas_cumprod)
        prev_t = t - 1
    else:
        t, prev_t = _validate(t, prev_t, x_t=x_t, eps=eps, alphas_cumprod=alphas_cumprod)
    # ᾱ_t, and ᾱ_prev = ᾱ_{t-1} (1 at t = 0)
    alpha_bar = _gather(alphas_cumprod, t, x_t)
    alpha_bar_prev = _gather_prev(alphas_cumprod, prev_t, x_t, 1.0)
    # α_t = ᾱ_t / ᾱ_{t-1},  β_t = 1 - α_t
    alpha = alpha_bar / alpha_bar_prev
    beta = 1 - alpha
    # μ = (x_t - β_t / √(1-ᾱ_t) · ε̂) / √α_t                        (DDPM eq. 11)
    eps_coef = (beta / (1 - alpha_bar).sqrt()).to(x_t.dtype)
    return (x_t - eps_coef * eps) / alpha.sqrt().to(x_t.dtype)


# --------------------------------------------------------------------------------------------
# Reverse steps
# --------------------------------------------------------------------------------------------


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
    t_ = _validate(t, x_t=x_t, eps=eps, noise=noise, alphas_cumprod=alphas_cumprod, optional=("noise",))

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
    nonzero = _per_sample(t_ > 0, x_t)
    if not bool(nonzero.any()):
        return mean, pred_x0
    z = _draw_noise(x_t, generator) if noise is None else noise
    x_prev = mean + torch.where(nonzero, sigma.to(x_t.dtype) * z, torch.zeros_like(z))
    return x_prev, pred_x0


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
    t, prev_t = _validate(t, prev_t, x_t=x_t, eps=eps, noise=noise, alphas_cumprod=alphas_cumprod, optional=("noise",))
    final_value = torch.as_tensor(alphas_cumprod[0] if final_alpha_cumprod is None else final_alpha_cumprod)
    if final_value.numel() != 1 or not 0.0 < float(final_value) <= 1.0:
        hint = "Use None for ᾱ_0 or 1.0 for the clean picture."
        raise checks.fail("final_alpha_cumprod", final_alpha_cumprod, "one number in (0, 1]", hint)

    # 1. ᾱ_t and ᾱ_prev (final_alpha_cumprod past the last step)
    alpha_bar = _gather(alphas_cumprod, t, x_t)
    alpha_bar_prev = _gather_prev(alphas_cumprod, prev_t, x_t, final_value.reshape(()))

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
        z = _draw_noise(x_t, generator) if noise is None else noise
        x_prev = x_prev + sigma.to(x_t.dtype) * z
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
    t = _validate(t, x_t=x_t, eps=eps, alphas_cumprod=alphas_cumprod)
    alpha_bar = _gather(alphas_cumprod, t, x_t)
    alpha_bar_prev = _gather_prev(alphas_cumprod, t - 1, x_t, 1.0)
    # α_t = ᾱ_t / ᾱ_{t-1}
    alpha = alpha_bar / alpha_bar_prev
    # x_{t-1} = (x_t - √(1-α_t) ε̂) / √α_t        (the outline's formula, not DDPM's)
    return (x_t - (1 - alpha).sqrt().to(x_t.dtype) * eps) / alpha.sqrt().to(x_t.dtype)


# --------------------------------------------------------------------------------------------
# Which timesteps a sampler visits
# --------------------------------------------------------------------------------------------


def timesteps_for(
    num_inference_steps: int, num_train_timesteps: int = 1000, spacing: str = "leading", steps_offset: int = 0
) -> torch.Tensor:
    """
    The timesteps a sampler visits, noisiest first, exactly as diffusers' `set_timesteps` picks them.

    - "leading": 0, k, 2k, ... with k = T // n, plus `steps_offset`; for T=1000, n=50: 980, 960, ..., 0.
      Stable Diffusion 1.x uses it with `steps_offset=1` (981, ..., 1).
    - "trailing": counts down from T-1 in steps of T/n, rounded; for n=50: 999, 979, ..., 19. It
      starts at the noisiest timestep, which matters when n is small.
    - "linspace": n evenly spaced timesteps from 0 to T-1, rounded; for n=50: 999, 979, ..., 0.

    diffusers adds `steps_offset` only for "leading", and so does this function. For "trailing",
    diffusers 0.42 returns one timestep too many (a final -1) for some n, such as 61 or 103; this
    function returns the n correct ones.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        num_inference_steps (`int`):
            n, the number of sampling steps, from 1 to `num_train_timesteps`.
        num_train_timesteps (`int`, defaults to 1000):
            T, the number of training timesteps.
        spacing (`str`, defaults to "leading"):
            "leading", "trailing" or "linspace" (diffusers' `timestep_spacing`).
        steps_offset (`int`, defaults to 0):
            Added to every "leading" timestep; at least 0 and small enough to stay below T.

    Returns:
        `torch.LongTensor` of shape `(num_inference_steps,)`, decreasing.

    Raises:
        `CourseInputError`: if an argument is outside its range.
    """
    num_train_timesteps = checks.whole("num_train_timesteps", num_train_timesteps, 1)
    hint = f"num_train_timesteps is {num_train_timesteps}."
    n = checks.whole("num_inference_steps", num_inference_steps, 1, num_train_timesteps, hint=hint)
    checks.one_of("spacing", spacing, TIMESTEP_SPACINGS)

    if spacing == "leading":
        step_ratio = num_train_timesteps // n
        max_offset = num_train_timesteps - 1 - (n - 1) * step_ratio
        hint = f"The last of {n} leading steps out of {num_train_timesteps} must stay below {num_train_timesteps}."
        steps_offset = checks.whole("steps_offset", steps_offset, 0, max_offset, hint=hint)
        # t_i = i · (T // n) + offset,  i = n-1, ..., 0
        timesteps = np.arange(0, n)[::-1] * step_ratio + int(steps_offset)
    elif spacing == "trailing":
        step_ratio = num_train_timesteps / n
        # t_i = round(T - i · T/n) - 1,  i = 0, ..., n-1
        # (diffusers' float `arange` sometimes yields an extra -1 at the end, e.g. for n = 61; keep n.)
        timesteps = np.round(np.arange(num_train_timesteps, 0, -step_ratio)[:n]).astype(np.int64) - 1
    else:
        # t_i = round(i · (T-1)/(n-1)),  i = n-1, ..., 0
        timesteps = np.linspace(0, num_train_timesteps - 1, n).round()[::-1]
    return torch.from_numpy(np.ascontiguousarray(timesteps, dtype=np.int64))
