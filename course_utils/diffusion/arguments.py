"""The one check of a chapter-2 step's arguments: the pictures, the schedule and the timesteps.

Every public function of `course_utils.diffusion` calls `validate` first, so that a wrong shape, dtype
or timestep gets the same message whichever step was called; the maths after it trusts its inputs.

Taught in: chapter 2 (Forward and reverse diffusion).
"""

from __future__ import annotations

import torch

from course_utils import checks
from course_utils.errors import CourseInputError

__all__ = ["validate"]

_SCHEDULES = ("alphas_cumprod", "betas")
_NOT_GIVEN = object()


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return type(value).__name__


def validate(t, prev_t=_NOT_GIVEN, optional=(), **arguments):
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
