"""Schedule values read at the timesteps, and noise, shaped to broadcast over a batch of pictures.

A schedule holds one value per training timestep; `gather` picks ᾱ_t (or β_t) for each picture and
shapes it (B, 1, ..., 1), `gather_prev` does the same for ᾱ_{prev_t} with a value for "past the last
step", and `draw_noise` draws z ~ N(0, I) as diffusers draws it.

Taught in: chapter 2 (Forward and reverse diffusion).
"""

from __future__ import annotations

import torch

__all__ = ["draw_noise", "gather", "gather_prev", "per_sample"]


def per_sample(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Shape a 0-dim or (B,) tensor so that it broadcasts over x of shape (B, ...): (B, 1, ..., 1)."""
    if values.ndim == 0:
        return values
    return values.reshape(values.shape[0], *([1] * (x.ndim - 1)))


def gather(values: torch.Tensor, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """values[t], on x's device, in the schedule's dtype, shaped to broadcast over x."""
    return per_sample(values.to(x.device)[t], x)


def gather_prev(values: torch.Tensor, prev_t: torch.Tensor, x: torch.Tensor, final) -> torch.Tensor:
    """ᾱ_{prev_t}, or `final` where prev_t < 0, shaped to broadcast over x."""
    values = values.to(x.device)
    final = torch.as_tensor(final, dtype=values.dtype, device=x.device)
    # ᾱ_prev = ᾱ[prev_t] if prev_t ≥ 0 else final
    return per_sample(torch.where(prev_t >= 0, values[prev_t.clamp(min=0)], final), x)


def draw_noise(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """z ~ N(0, I) shaped like x, drawn as diffusers' `randn_tensor` draws it (on the generator's device)."""
    device = generator.device if generator is not None else x.device
    return torch.randn(x.shape, generator=generator, device=device, dtype=x.dtype).to(x.device)
