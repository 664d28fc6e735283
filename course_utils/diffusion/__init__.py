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

The package reads in the chapter's order:

    forward         q_sample, q_step and predict_x0: the forward process and x_0 read back
    ddpm            the posterior, DDPM's mean from ε̂, the DDPM step (and the tutorials' wrong one)
    ddim            the DDIM step
    timesteps       timesteps_for: which timesteps a sampler visits
    arguments       the one check of a step's arguments
    tensors         schedule values at t and noise, shaped to broadcast over the pictures
"""

from .ddim import ddim_step
from .ddpm import ddpm_mean_from_eps, outline_step, p_sample, posterior_mean_variance
from .forward import predict_x0, q_sample, q_step
from .timesteps import TIMESTEP_SPACINGS as TIMESTEP_SPACINGS  # the spacings timesteps_for accepts
from .timesteps import timesteps_for

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
