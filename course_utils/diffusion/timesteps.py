"""Which timesteps a sampler visits, chosen as diffusers' `set_timesteps` chooses them.

Taught in: chapter 2 (Forward and reverse diffusion).
"""

from __future__ import annotations

import numpy as np
import torch

from course_utils import checks

__all__ = ["TIMESTEP_SPACINGS", "timesteps_for"]

TIMESTEP_SPACINGS = ("leading", "trailing", "linspace")


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
