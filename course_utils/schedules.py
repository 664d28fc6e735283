"""Noise schedules, written from scratch: how much noise each of the T forward steps adds.

A schedule is a list of T numbers β_0 ... β_{T-1} between 0 and 1: step t keeps √(1-β_t) of the
picture and adds noise of variance β_t. Everything else follows from the betas:

    α_t = 1 - β_t                  the share of the signal's variance one step keeps
    ᾱ_t = Π_{s≤t} α_s              the share left after t+1 steps (the "alpha bar")
    SNR(t) = ᾱ_t / (1 - ᾱ_t)       signal-to-noise ratio of x_t

Timesteps count from 0, as in diffusers: ᾱ_0 = α_0 is the picture after the first noising step.
All arithmetic runs in float64, so that the course's checks against diffusers compare the math
and not the rounding.

Taught in: chapter 2 (Forward and reverse diffusion).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import torch

from course_utils import checks
from course_utils.errors import CourseInputError

__all__ = [
    "SCHEDULE_KINDS",
    "NoiseSchedule",
    "alphas_cumprod",
    "cosine_betas",
    "linear_betas",
    "make_betas",
    "scaled_linear_betas",
    "snr",
]

# The names `make_betas` accepts, and the function behind each one.
SCHEDULE_KINDS = ("linear", "scaled_linear", "cosine")
_ALIASES = {"squaredcos_cap_v2": "cosine"}  # diffusers' name for the cosine schedule


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _validate_range(num_train_timesteps, beta_start, beta_end) -> tuple[int, float, float]:
    """T, β_0 and β_{T-1} of a linear schedule, checked."""
    num_train_timesteps = checks.whole(
        "num_train_timesteps", num_train_timesteps, 1, hint="Stable Diffusion and DDPM use 1000."
    )
    hint = "Typical values: beta_start=1e-4, beta_end=0.02 (DDPM)."
    beta_start = checks.number("beta_start", beta_start, 0.0, 1.0, lo_open=True, hi_open=True, hint=hint)
    beta_end = checks.number("beta_end", beta_end, 0.0, 1.0, lo_open=True, hi_open=True, hint=hint)
    if beta_start > beta_end:
        hint = "The noise added per step should grow (or stay the same) with t."
        raise checks.fail("beta_start", beta_start, f"at most beta_end={beta_end!r}", hint)
    return num_train_timesteps, beta_start, beta_end


# --------------------------------------------------------------------------------------------
# The three schedules
# --------------------------------------------------------------------------------------------


def linear_betas(
    num_train_timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02
) -> torch.Tensor:
    """
    The linear schedule of DDPM (Ho et al. 2020): β grows in equal steps from `beta_start` to `beta_end`.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        num_train_timesteps (`int`, defaults to 1000):
            The number of forward steps T (at least 1).
        beta_start (`float`, defaults to 1e-4):
            β_0, strictly between 0 and 1.
        beta_end (`float`, defaults to 0.02):
            β_{T-1}, strictly between 0 and 1 and not smaller than `beta_start`.

    Returns:
        `torch.Tensor` of shape `(num_train_timesteps,)`, float64: the betas.

    Raises:
        `CourseInputError`: if an argument is outside its range.
    """
    num_train_timesteps, beta_start, beta_end = _validate_range(num_train_timesteps, beta_start, beta_end)
    # β_t = β_start + t/(T-1) · (β_end - β_start)
    return torch.linspace(beta_start, beta_end, num_train_timesteps, dtype=torch.float64)


def scaled_linear_betas(
    num_train_timesteps: int = 1000, beta_start: float = 0.00085, beta_end: float = 0.012
) -> torch.Tensor:
    """
    Stable Diffusion's schedule ("scaled_linear"): √β, not β, grows in equal steps.

    Compared with the linear schedule it adds more noise early and less late, which suits the
    latent space of Stable Diffusion's autoencoder.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        num_train_timesteps (`int`, defaults to 1000):
            The number of forward steps T (at least 1).
        beta_start (`float`, defaults to 0.00085):
            β_0, strictly between 0 and 1.
        beta_end (`float`, defaults to 0.012):
            β_{T-1}, strictly between 0 and 1 and not smaller than `beta_start`.

    Returns:
        `torch.Tensor` of shape `(num_train_timesteps,)`, float64: the betas.

    Raises:
        `CourseInputError`: if an argument is outside its range.
    """
    num_train_timesteps, beta_start, beta_end = _validate_range(num_train_timesteps, beta_start, beta_end)
    # √β_t = √β_start + t/(T-1) · (√β_end - √β_start)
    sqrt_betas = torch.linspace(beta_start**0.5, beta_end**0.5, num_train_timesteps, dtype=torch.float64)
    # β_t = (√β_t)²
    return sqrt_betas**2


def cosine_betas(num_train_timesteps: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """
    The cosine schedule of Nichol & Dhariwal 2021 ("Improved DDPM"), diffusers' "squaredcos_cap_v2".

    It defines ᾱ directly, ᾱ(t) = f(t)/f(0) with f(t) = cos²((t/T + s)/(1 + s) · π/2), so that ᾱ falls
    slowly at both ends and the last steps are not wasted on pure noise. The betas follow from
    β_t = 1 - ᾱ(t+1)/ᾱ(t), capped at `max_beta` because β near 1 at the very end is unstable.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        num_train_timesteps (`int`, defaults to 1000):
            The number of forward steps T (at least 1).
        s (`float`, defaults to 0.008):
            The small offset that keeps β_0 from being too small; at least 0.
        max_beta (`float`, defaults to 0.999):
            The cap on each β, strictly between 0 and 1.

    Returns:
        `torch.Tensor` of shape `(num_train_timesteps,)`, float64: the betas.

    Raises:
        `CourseInputError`: if an argument is outside its range.
    """
    num_train_timesteps = checks.whole(
        "num_train_timesteps", num_train_timesteps, 1, hint="Stable Diffusion and DDPM use 1000."
    )
    checks.number("s", s, 0.0, hint="Nichol & Dhariwal use s=0.008.")
    checks.number("max_beta", max_beta, 0.0, 1.0, lo_open=True, hi_open=True, hint="The usual cap is 0.999.")
    steps = torch.arange(num_train_timesteps + 1, dtype=torch.float64) / num_train_timesteps
    # f(t) = cos²((t/T + s)/(1 + s) · π/2)
    f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    # β_t = min(1 - f(t+1)/f(t), max_beta)          (the f(0) of ᾱ = f/f(0) cancels)
    return torch.clamp(1 - f[1:] / f[:-1], max=max_beta)


_SCHEDULE_FUNCTIONS = {
    "linear": linear_betas,
    "scaled_linear": scaled_linear_betas,
    "cosine": cosine_betas,
}


def make_betas(kind: str, num_train_timesteps: int = 1000, **kw) -> torch.Tensor:
    """
    The betas of a named schedule, with the same names as diffusers' `beta_schedule`.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        kind (`str`):
            One of "linear", "scaled_linear" or "cosine" ("squaredcos_cap_v2" is accepted for "cosine").
        num_train_timesteps (`int`, defaults to 1000):
            The number of forward steps T.
        **kw:
            The schedule's own settings: `beta_start` and `beta_end` for the linear ones, `s` and
            `max_beta` for the cosine one.

    Returns:
        `torch.Tensor` of shape `(num_train_timesteps,)`, float64: the betas.

    Raises:
        `CourseInputError`: for an unknown kind, a setting the schedule does not have, or a value out
        of range.

    Example:
        >>> make_betas("scaled_linear")[:2]
        tensor([0.0008, 0.0009], dtype=torch.float64)
    """
    name = _ALIASES.get(checks.one_of("kind", kind, (*SCHEDULE_KINDS, *_ALIASES)), kind)
    fn = _SCHEDULE_FUNCTIONS[name]
    known = [p for p in inspect.signature(fn).parameters if p != "num_train_timesteps"]
    unknown = sorted(set(kw) - set(known))
    if unknown:
        raise CourseInputError(
            f"the {name!r} schedule has no setting {unknown[0]!r}; its settings are {', '.join(known)}."
        )
    return fn(num_train_timesteps, **kw)


# --------------------------------------------------------------------------------------------
# What follows from the betas
# --------------------------------------------------------------------------------------------


def _check_betas(betas) -> torch.Tensor:
    if not isinstance(betas, torch.Tensor) or betas.ndim != 1 or betas.numel() == 0:
        shape = tuple(betas.shape) if isinstance(betas, torch.Tensor) else type(betas).__name__
        raise CourseInputError(
            f"betas must be a 1-D tensor with one β per timestep, got {shape}. Make one with make_betas()."
        )
    if not bool(((betas > 0) & (betas <= 1)).all()):
        low, high = betas.min().item(), betas.max().item()
        raise CourseInputError(f"every β must lie in (0, 1], got values from {low:.3g} to {high:.3g}.")
    return betas


def alphas_cumprod(betas: torch.Tensor) -> torch.Tensor:
    """
    ᾱ_t = Π_{s≤t} (1 - β_s): how much of the picture's variance survives t+1 forward steps.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        betas (`torch.Tensor` of shape `(T,)`):
            The betas, each in (0, 1].

    Returns:
        `torch.Tensor` of shape `(T,)`, in float64 (or the betas' dtype if wider): ᾱ_0 ... ᾱ_{T-1}.

    Raises:
        `CourseInputError`: if `betas` is not a 1-D tensor of values in (0, 1].
    """
    betas = _check_betas(betas)
    dtype = torch.promote_types(betas.dtype, torch.float64)
    # α_t = 1 - β_t
    alphas = 1.0 - betas.to(dtype)
    # ᾱ_t = Π α_s
    return torch.cumprod(alphas, dim=0)


def snr(alphas_cumprod: torch.Tensor) -> torch.Tensor:
    """
    The signal-to-noise ratio of x_t, SNR(t) = ᾱ_t / (1 - ᾱ_t).

    x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε mixes signal of variance ᾱ_t with noise of variance 1 - ᾱ_t; the
    ratio falls from thousands at t = 0 to nearly 0 at t = T-1. Plotted on a log scale, it shows
    the difference between schedules better than the betas do.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        alphas_cumprod (`torch.Tensor` of shape `(T,)`):
            ᾱ_0 ... ᾱ_{T-1}, each in (0, 1).

    Returns:
        `torch.Tensor` of shape `(T,)`: SNR(0) ... SNR(T-1), in the dtype of `alphas_cumprod`.

    Raises:
        `CourseInputError`: if `alphas_cumprod` is not a 1-D tensor.
    """
    if not isinstance(alphas_cumprod, torch.Tensor) or alphas_cumprod.ndim != 1:
        shape = (
            tuple(alphas_cumprod.shape)
            if isinstance(alphas_cumprod, torch.Tensor)
            else type(alphas_cumprod).__name__
        )
        raise CourseInputError(f"alphas_cumprod must be a 1-D tensor of ᾱ_t, got {shape}.")
    # SNR(t) = ᾱ_t / (1 - ᾱ_t)
    return alphas_cumprod / (1.0 - alphas_cumprod)


# --------------------------------------------------------------------------------------------
# Everything in one object
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """
    A noise schedule and what follows from it, in one frozen object.

    Taught in: chapter 2 (Forward and reverse diffusion).

    Attributes:
        betas (`torch.Tensor` of shape `(T,)`): β_t, the variance of the noise added by step t.
        alphas (`torch.Tensor` of shape `(T,)`): α_t = 1 - β_t.
        alphas_cumprod (`torch.Tensor` of shape `(T,)`): ᾱ_t = Π_{s≤t} α_s.

    Example:
        >>> sched = NoiseSchedule.from_kind("scaled_linear")
        >>> sched.num_train_timesteps, round(sched.alphas_cumprod[-1].item(), 5)
        (1000, 0.00466)
    """

    betas: torch.Tensor  # β_t, noise variance added by forward step t
    alphas: torch.Tensor  # α_t = 1 - β_t
    alphas_cumprod: torch.Tensor  # ᾱ_t = Π_{s≤t} α_s

    @classmethod
    def from_betas(cls, betas: torch.Tensor, dtype: torch.dtype = torch.float64) -> NoiseSchedule:
        """
        Build a schedule from its betas, computing ᾱ in float64 and storing the result in `dtype`.

        Args:
            betas (`torch.Tensor` of shape `(T,)`): the betas, each in (0, 1].
            dtype (`torch.dtype`, defaults to `torch.float64`): the dtype of the stored tensors.

        Returns:
            `NoiseSchedule`
        """
        betas = _check_betas(betas).to(torch.float64)
        # α_t = 1 - β_t
        alphas = 1.0 - betas
        # ᾱ_t = Π α_s
        alphas_bar = torch.cumprod(alphas, dim=0)
        return cls(betas=betas.to(dtype), alphas=alphas.to(dtype), alphas_cumprod=alphas_bar.to(dtype))

    @classmethod
    def from_kind(
        cls, kind: str, num_train_timesteps: int = 1000, dtype: torch.dtype = torch.float64, **kw
    ) -> NoiseSchedule:
        """
        Build a named schedule; the names and settings are those of `make_betas`.

        Args:
            kind (`str`): "linear", "scaled_linear", "cosine" or "squaredcos_cap_v2".
            num_train_timesteps (`int`, defaults to 1000): the number of forward steps T.
            dtype (`torch.dtype`, defaults to `torch.float64`): the dtype of the stored tensors
                (the arithmetic runs in float64 whatever this is).
            **kw: the schedule's settings, e.g. `beta_start=0.00085, beta_end=0.012`.

        Returns:
            `NoiseSchedule`

        Raises:
            `CourseInputError`: as `make_betas` does.
        """
        return cls.from_betas(make_betas(kind, num_train_timesteps, **kw), dtype=dtype)

    @classmethod
    def from_scheduler(cls, scheduler, dtype: torch.dtype = torch.float64) -> NoiseSchedule:
        """
        Read the betas of a diffusers scheduler (e.g. `pipe.scheduler`) and rebuild its schedule in float64.

        diffusers keeps its betas and ᾱ in float32; recomputing ᾱ from the betas in float64 changes
        it by less than 1e-6.

        Args:
            scheduler: any diffusers scheduler with a `betas` tensor (`DDPMScheduler`, `DDIMScheduler`, ...).
            dtype (`torch.dtype`, defaults to `torch.float64`): the dtype of the stored tensors.

        Returns:
            `NoiseSchedule`

        Raises:
            `CourseInputError`: if `scheduler` has no `betas` tensor.
        """
        betas = getattr(scheduler, "betas", None)
        if not isinstance(betas, torch.Tensor):
            raise CourseInputError(
                "scheduler must be a diffusers scheduler with a `betas` tensor, got "
                f"{type(scheduler).__name__}. Pass e.g. pipe.scheduler or DDPMScheduler()."
            )
        return cls.from_betas(betas.detach().cpu(), dtype=dtype)

    @property
    def num_train_timesteps(self) -> int:
        """T, the number of forward steps."""
        return self.betas.shape[0]

    @property
    def snr(self) -> torch.Tensor:
        """SNR(t) = ᾱ_t / (1 - ᾱ_t), shape `(T,)`."""
        return snr(self.alphas_cumprod)
