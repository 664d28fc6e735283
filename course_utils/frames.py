"""The frames of a diffusion run: a picture noised to several timesteps, latents decoded to pictures, and
a denoising run recorded step by step.

Taught in: chapter 2 (Forward and reverse diffusion) and chapter 4 (the pipeline step by step);
`course_utils.plots` shows them as figures and GIFs.

- `forward_frames` noises a picture to several timesteps in closed form (one fixed noise, so the frames
  blend smoothly);
- `decode_latents` turns latents into pictures with the VAE;
- `record_denoising` runs the pipeline and keeps every step's latents, x̂_0 and decoded pictures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from PIL import Image

from . import checks
from .diffusion import q_sample
from .errors import CourseInputError
from .images import as_pil, to_pil, to_tensor

__all__ = ["DenoisingRun", "decode_latents", "forward_frames", "record_denoising"]


# --------------------------------------------------------------------------------------------
# Frames: the forward process, decoding, and a recorded reverse process
# --------------------------------------------------------------------------------------------


def forward_frames(
    picture,
    timesteps: Sequence[int] | torch.Tensor,
    alphas_cumprod: torch.Tensor,
    seed: int = 0,
    noise: torch.Tensor | None = None,
) -> list[Image.Image]:
    """
    The picture noised to each timestep in closed form, x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε, with ONE noise ε.

    Because every frame shares the same ε, the frames blend smoothly from the picture into that one
    noise pattern: the view a slider over t or an animation needs. (Fresh noise per frame would
    flicker; the distribution of each frame is the same either way.)

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        picture (`PIL.Image.Image`, `np.ndarray` or `torch.Tensor` of shape `(1, 3, H, W)` in [-1, 1]):
            The clean picture x_0.
        timesteps (sequence of `int` or `torch.LongTensor`):
            The timesteps to show, each from 0 to T-1, in any order.
        alphas_cumprod (`torch.Tensor` of shape `(T,)`):
            ᾱ_0 ... ᾱ_{T-1}, e.g. `NoiseSchedule.from_kind("scaled_linear").alphas_cumprod`.
        seed (`int`, defaults to 0):
            Seed of the noise ε (ignored when `noise` is given).
        noise (`torch.Tensor` of shape `(1, 3, H, W)`, *optional*):
            ε itself, to share one noise between several calls.

    Returns:
        `list[PIL.Image.Image]`: one picture per timestep, in the order of `timesteps`, clamped to [-1, 1].

    Raises:
        `CourseInputError`: for a timestep out of range, a noise of the wrong shape, or a bad picture.
    """
    x0 = picture if isinstance(picture, torch.Tensor) else to_tensor(as_pil(picture))
    if x0.ndim == 3:
        x0 = x0.unsqueeze(0)
    if x0.ndim != 4 or x0.shape[0] != 1 or x0.shape[1] != 3:
        raise CourseInputError(
            f"picture must be one RGB picture, a tensor of shape (1, 3, H, W), got shape {tuple(x0.shape)}."
        )
    x0 = x0.float()
    if noise is None:
        seed = checks.whole("seed", seed, 0)
        noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    ts = timesteps.tolist() if isinstance(timesteps, torch.Tensor) else list(timesteps)
    if not ts:
        raise CourseInputError("timesteps is empty: give at least one timestep, e.g. [0, 250, 500, 999].")
    # x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε, for each t (q_sample checks t, the noise's shape and the schedule)
    return [to_pil(q_sample(x0, int(t), noise, alphas_cumprod)) for t in ts]


@torch.no_grad()
def decode_latents(vae, latents: torch.Tensor, batch_size: int = 8) -> list[Image.Image]:
    """
    Latents to pictures with the VAE: x = decoder(z / scaling_factor), then [-1, 1] to pixels.

    The division undoes the scaling the pipeline applies after encoding (Stable Diffusion 1.x
    multiplies by 0.18215 so that latents have unit variance).

    Taught in: chapter 2 (Forward and reverse diffusion); chapter 4 takes the VAE apart.

    Args:
        vae (`diffusers.AutoencoderKL`): e.g. `pipe.vae`; its `config.scaling_factor` is used.
        latents (`torch.Tensor` of shape `(B, C, h, w)` or `(C, h, w)`): scaled latents, any device and dtype.
        batch_size (`int`, defaults to 8): how many latents to decode at once (bounds the memory used).

    Returns:
        `list[PIL.Image.Image]`: B pictures.

    Raises:
        `CourseInputError`: if `latents` is not a 3-D or 4-D tensor with the VAE's number of channels.
    """
    channels = int(vae.config.latent_channels)
    if not isinstance(latents, torch.Tensor) or latents.ndim not in (3, 4):
        got = tuple(latents.shape) if isinstance(latents, torch.Tensor) else type(latents).__name__
        raise CourseInputError(f"latents must be a tensor of shape (B, {channels}, h, w), got {got}.")
    if latents.ndim == 3:
        latents = latents.unsqueeze(0)
    if latents.shape[1] != channels:
        raise CourseInputError(
            f"latents must have {channels} channels (the VAE's latent_channels), got shape {tuple(latents.shape)}."
        )
    batch_size = checks.whole("batch_size", batch_size, 1)
    param = next(vae.parameters())
    out: list[Image.Image] = []
    for chunk in latents.split(batch_size):
        # x = D(z / s)
        z = chunk.to(param.device, param.dtype) / vae.config.scaling_factor
        out.extend(to_pil(p) for p in vae.decode(z).sample.float().cpu())
    return out


@dataclass
class DenoisingRun:
    """
    Everything a recorded denoising run kept, one entry per step (see `record_denoising`).

    Attributes:
        timesteps (`list[int]`): the timestep of each step, noisiest first.
        initial (`torch.Tensor` of shape `(1, C, h, w)`): the pure noise the run started from.
        latents (`list[torch.Tensor]`): the latents *after* each step, each `(1, C, h, w)`, CPU float32.
        pred_x0 (`list[torch.Tensor]`): the model's guess x̂_0 of the clean latents at each step.
        frames (`list[PIL.Image.Image]`): the decoded initial noise, then the decoded x_t after each step
            (so `len(frames) == len(timesteps) + 1`; the last frame is the finished picture).
        x0_frames (`list[PIL.Image.Image]`): the decoded x̂_0 of each step.
        image (`PIL.Image.Image`): the finished picture, as the pipeline returned it.
        params (`dict`): the parameters of the run (prompt, steps, guidance, seed, ...).
    """

    timesteps: list[int]
    initial: torch.Tensor
    latents: list[torch.Tensor]
    pred_x0: list[torch.Tensor]
    frames: list[Image.Image]
    x0_frames: list[Image.Image]
    image: Image.Image
    params: dict = field(default_factory=dict)


def record_denoising(
    prompt: str,
    pipe=None,
    steps: int | None = None,
    guidance: float | None = None,
    seed: int = 0,
    negative_prompt: str | None = None,
) -> DenoisingRun:
    """
    Make one picture from `prompt` and keep every step: the latents, the model's x̂_0, and both decoded.

    It calls `generate.text_to_image` with a step callback, so the picture is the same as the one
    `cu.text_to_image(prompt, seed=seed, ...)` makes. The initial noise is redrawn from the seed
    exactly as the pipeline drew it (one CPU generator per picture).

    Taught in: chapter 2 (Forward and reverse diffusion).

    Args:
        prompt (`str`): what to draw.
        pipe (`StableDiffusionPipeline`, *optional*): the pipeline; by default `cu.load_pipeline()`.
        steps (`int`, *optional*): denoising steps (default: the model's, 20 for the embedded model).
        guidance (`float`, *optional*): classifier-free guidance scale (default: the model's).
        seed (`int`, defaults to 0): the seed of the initial noise.
        negative_prompt (`str`, *optional*): what to steer away from.

    Returns:
        `DenoisingRun`

    Raises:
        `CourseInputError`: for a bad parameter, as `text_to_image` checks them.
    """
    from .generate import text_to_image  # generate imports models; keep `import plots` light

    timesteps: list[int] = []
    latents: list[torch.Tensor] = []
    pred_x0: list[torch.Tensor] = []

    def keep(i: int, t: int, x_t: torch.Tensor, x0: torch.Tensor | None) -> None:
        timesteps.append(int(t))
        latents.append(x_t[:1].clone())
        pred_x0.append(x_t[:1].clone() if x0 is None else x0[:1].clone())

    result = text_to_image(prompt, negative_prompt=negative_prompt, steps=steps, guidance=guidance,
                           seed=seed, pipe=pipe, callback=keep)
    pipe = pipe if pipe is not None else _default_pipe()
    # the pipeline's first latents: randn from a CPU generator seeded with `seed`, times init_noise_sigma
    shape = tuple(latents[0].shape)
    generator = torch.Generator("cpu").manual_seed(int(result.params["seed"]))
    initial = torch.randn(shape, generator=generator) * float(pipe.scheduler.init_noise_sigma)
    frames = decode_latents(pipe.vae, torch.cat([initial, *latents]))
    x0_frames = decode_latents(pipe.vae, torch.cat(pred_x0))
    return DenoisingRun(timesteps=timesteps, initial=initial, latents=latents, pred_x0=pred_x0, frames=frames,
                        x0_frames=x0_frames, image=result.image, params=result.params)


def _default_pipe():
    from .models import load_pipeline

    return load_pipeline(verbose=False)
