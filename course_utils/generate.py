"""Text-to-image and image-to-image calls that check their inputs and remember how they were made.

Taught in: chapter 4 (the pipeline), chapter 5 (image-to-image) and chapter 7 (the parameters).

Every parameter is checked before any work starts, and a bad one raises `CourseInputError`
naming the parameter, its value and the allowed range. Noise comes from a seeded CPU
``torch.Generator``, so the same seed and parameters remake the same picture, byte for byte, on the
same machine with the same library versions and the same number of CPU threads. What changes the
order of the arithmetic changes the rounding: measured with the embedded model, 1 against 2 threads,
and a picture made alone against the same picture in a batch of 4, differ by at most one level of 255
in a pixel. Another GPU, or a CPU against a GPU, can differ visibly.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import random
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image, PngImagePlugin

from . import checks
from .device import cpu_threads
from .errors import CourseInputError, CourseSetupError, CourseWarning
from .images import fit_square, image_grid, load_image
from .layout import enlarge
from .models import as_image_to_image, load_pipeline, model_defaults, model_info, picture_size
from .saving import portable_text, save_image

MAX_SEED = 2**63 - 1
MAX_IMAGES = 16
MAX_SIDE = 2048  # the largest height, width or image-to-image size, in pixels

# callback(step_index, timestep, latents, predicted_x0): latents after the step, x̂0 from before it
StepCallback = Callable[[int, int, torch.Tensor, torch.Tensor | None], None]


@dataclass
class GenerationResult:
    """Pictures and every parameter that made them (``params``), with the time it took."""

    images: list[Image.Image]
    params: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def image(self) -> Image.Image:
        """The first picture."""
        return self.images[0]

    def grid(self, cols: int | None = None, scale: int = 1) -> Image.Image:
        return enlarge(image_grid(self.images, cols=cols), scale)

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save the first picture as PNG, with the parameters written into its text metadata.

        Taught in: chapter 4. An earlier file of that name is kept unless ``overwrite=True``: the
        picture then gets the next free name (``cat-2.png`` ...). Returns the path really written.
        The metadata holds no absolute path of this computer (a local model shows as
        ``assets/models/...``).
        """
        meta = PngImagePlugin.PngInfo()
        for k, v in self.params.items():
            meta.add_text(k, portable_text(v))
        return save_image(self.image, path, overwrite=overwrite, pnginfo=meta)

    def _repr_png_(self):  # shown by Jupyter as a picture
        g = self.grid()
        scale = max(1, 256 // max(1, g.height))
        return self.grid(scale=scale)._repr_png_()


# --- checks ---------------------------------------------------------------------------------------
def _check_prompt(name: str, prompt, tokenizer=None) -> str:
    if not isinstance(prompt, str):
        raise CourseInputError(f"{name} must be text (a str), not {type(prompt).__name__}: {prompt!r}.")
    if len(prompt) > 2000:
        raise CourseInputError(f"{name} is {len(prompt)} characters long; keep it under 2000 "
                               "(the text encoder reads only the first tokens anyway).")
    return prompt


def _short_repr(value, limit: int = 80) -> str:
    r = repr(value)
    return r if len(r) <= limit else r[:limit - 3] + "..."


def _check_pipe(pipe, allow_none: bool = True) -> None:
    """Refuse anything that is not a loaded diffusers pipeline (a model name, a path ...)."""
    if pipe is None and allow_none:
        return
    if isinstance(pipe, str | Path) or not callable(pipe) or not all(
            hasattr(pipe, a) for a in ("unet", "scheduler", "vae_scale_factor")):
        model = repr(str(pipe)) if isinstance(pipe, str | Path) else '"embedded"'
        raise CourseInputError(
            f"pipe={_short_repr(pipe)} is not a loaded pipeline: pass one made by cu.load_pipeline() "
            f"(pipe = cu.load_pipeline()), or leave pipe out and name the model with model={model}.")


def _check_callback(callback) -> None:
    if callback is not None and not callable(callback):
        raise CourseInputError(
            f"callback={_short_repr(callback)} is not a function: pass a function called after each step as "
            "callback(i, t, latents, predicted_x0), or leave callback out.")


def _refuse_diffusers_names(num_inference_steps, guidance_scale) -> None:
    """The course's calls name these `steps` and `guidance`; diffusers' names are refused clearly."""
    for name, ours, value in (("num_inference_steps", "steps", num_inference_steps),
                              ("guidance_scale", "guidance", guidance_scale)):
        if value is not None:
            raise CourseInputError(
                f"{name}={_short_repr(value)} is the diffusers pipeline's name; the course's functions call it "
                f"{ours}: write {ours}={_short_repr(value)} instead.")


def _side_multiple(pipe) -> int:
    """Picture sides must be multiples of 8 (diffusers' check) and of the VAE's factor."""
    return math.lcm(8, int(pipe.vae_scale_factor))


def _check_side(name: str, value, pipe) -> int:
    multiple = _side_multiple(pipe)
    v = checks.whole(name, value, multiple, MAX_SIDE, floats_ok=True)
    if v % multiple:
        lower = v // multiple * multiple
        nearest = " or ".join(str(x) for x in (lower, lower + multiple) if multiple <= x <= MAX_SIDE)
        raise CourseInputError(
            f"{name}={v} must be a multiple of {multiple} (the pipeline needs sides divisible by 8, and the "
            f"VAE shrinks each side {int(pipe.vae_scale_factor)}-fold): the nearest valid sizes are {nearest}.")
    return v


def _check_size(size, pipe) -> int | tuple[int, int]:
    """Check image-to-image's `size` (a side, or (width, height)) before any picture is resized."""
    if isinstance(size, tuple | list):
        if len(size) != 2:
            raise CourseInputError(
                f"size={_short_repr(size)} must be one number (the side of a square) or a (width, height) "
                f"pair, e.g. size=512 or size=(512, 384).")
        return _check_side("size[0] (width)", size[0], pipe), _check_side("size[1] (height)", size[1], pipe)
    return _check_side("size", size, pipe)


#: Warn before a CPU call estimated to take longer than this (seconds).
SLOW_CPU_SECONDS = 30.0


@functools.lru_cache(maxsize=64)
def _unet_call_flops(config_json: str, latent_h: int, latent_w: int) -> float:
    from diffusers import UNet2DConditionModel

    from .compute import unet_flops

    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(json.loads(config_json))
    return unet_flops(unet, (latent_h, latent_w))


def estimate_cpu_seconds(pipe, height: int, width: int, steps: int, unet_batch: int) -> float:
    """Seconds a CPU needs at least for `steps` U-Net calls at this size: the U-Net's FLOPs (counted
    on the meta device, chapter 6) at `compute.DEFAULT_CPU_FLOP_RATE`, the rate chapter 6 measured
    for Stable Diffusion on the course's 2-core machine. Small models run below that rate, so the
    real time is longer."""
    from .compute import DEFAULT_CPU_FLOP_RATE

    f = int(pipe.vae_scale_factor)
    config = json.dumps(dict(pipe.unet.config), sort_keys=True, default=str)
    return steps * unet_batch * _unet_call_flops(config, height // f, width // f) / DEFAULT_CPU_FLOP_RATE


def warn_about_size(pipe, height: int, width: int, steps: int, unet_batch: int, native: int) -> None:
    """Warn (`CourseWarning`) for a size far from the model's own, or one that takes long on a CPU."""
    if max(height, width) >= 2 * native or 2 * min(height, width) <= native:
        warnings.warn(CourseWarning(
            f"{width} x {height} pixels is far from the {native} x {native} this model was trained on. A model "
            f"draws its subject at the scale it learnt: much larger, it repeats or cuts it (a grid of cats); much "
            f"smaller, it loses it. Leave height and width out to draw at {native} x {native}."), stacklevel=3)
    if pipe.device.type == "cpu" and height * width > native * native:
        seconds = estimate_cpu_seconds(pipe, height, width, steps, unet_batch)
        if seconds > SLOW_CPU_SECONDS:
            took = f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{seconds:.0f} seconds"
            warnings.warn(CourseWarning(
                f"{width} x {height} pixels with {steps} steps will take at least about {took} on this CPU "
                f"(the U-Net's work, {steps} x {unet_batch} calls, at chapter 6's CPU rate of "
                f"{0.2:g} TFLOP/s). Interrupt the kernel (■) to stop it; a smaller picture or fewer steps is "
                "faster."), stacklevel=3)


def check_inputs(pipe, *, prompt, steps, guidance, seed, height, width, negative_prompt=None, num_images=1,
                 eta=0.0, strength=None) -> dict:
    """Check every parameter of a generation call; return them cleaned up (ints, floats).

    Raises `CourseInputError` naming the first bad parameter, its value and the allowed range.
    """
    _check_pipe(pipe, allow_none=False)
    prompt = _check_prompt("prompt", prompt)
    if negative_prompt is not None:
        negative_prompt = _check_prompt("negative_prompt", negative_prompt)
    # with `steps_offset`, the schedule of T steps would start at t = T, one past the last trained step
    T = int(pipe.scheduler.config.num_train_timesteps) - int(getattr(pipe.scheduler.config, "steps_offset", 0) or 0)
    steps = checks.whole("steps", steps, 1, T, floats_ok=True)
    guidance = checks.number("guidance", guidance, 0.0, 50.0)
    if seed is None:
        seed = random.SystemRandom().randrange(0, 2**31)
    seed = checks.whole("seed", seed, 0, MAX_SEED, floats_ok=True)
    height = _check_side("height", height, pipe)
    width = _check_side("width", width, pipe)
    num_images = checks.whole("num_images", num_images, 1, MAX_IMAGES, floats_ok=True)
    eta = checks.number("eta", eta, 0.0, 1.0)
    out = dict(prompt=prompt, negative_prompt=negative_prompt, steps=steps, guidance=guidance, seed=seed,
               height=height, width=width, num_images=num_images, eta=eta)
    if strength is not None:
        out["strength"] = check_strength(strength, steps)
    return out


def check_strength(strength, steps: int | None = None) -> float:
    """Check an image-to-image strength: in (0, 1], and with `steps`, at least one denoising step.

    Image-to-image runs ``int(steps x strength)`` steps (chapter 5), so a strength too small for the
    number of steps would run none. Returns the strength as a float; raises `CourseInputError`.
    """
    strength = checks.number("strength", strength, 0.0, 1.0, lo_open=True)
    if steps is not None and int(steps * strength) < 1:
        raise CourseInputError(
            f"strength={strength} with steps={steps} runs int(steps x strength) = "
            f"{int(steps * strength)} denoising steps; it must be at least 1: raise steps to "
            f"{math.ceil(1 / strength)} or strength to {1 / steps:.2f}.")
    return strength


# --- the calls ----------------------------------------------------------------------------------------
def x0_from_output(scheduler, model_output, timestep, sample) -> torch.Tensor | None:
    """x̂₀ read off the model's output, for schedulers that do not return it (PNDM, SD 1.5's default):
    the closed form x_t = √ᾱ x₀ + √(1-ᾱ) ε solved for x₀ (chapter 2's `predict_x0`), or its
    v-prediction twin x̂₀ = √ᾱ x_t − √(1-ᾱ) v."""
    alphas = getattr(scheduler, "alphas_cumprod", None)
    kind = getattr(scheduler.config, "prediction_type", "epsilon")
    if alphas is None or kind not in ("epsilon", "v_prediction") or model_output.shape != sample.shape:
        return None
    t = int(timestep)
    if not 0 <= t < len(alphas):
        return None
    a = alphas[t].to(sample.device, torch.float32)
    x_t, out = sample.float(), model_output.float()
    if kind == "v_prediction":
        return a.sqrt() * x_t - (1 - a).sqrt() * out
    from .diffusion import predict_x0

    return predict_x0(x_t, out, torch.full((x_t.shape[0],), t), alphas.float().cpu().to(x_t.device))


@contextlib.contextmanager
def _capture_x0(scheduler):
    """While inside the block, count the scheduler's steps (one per U-Net call of the loop: PNDM,
    SD 1.5's default, runs one more than asked) and record each step's predicted x̂₀: the scheduler's
    ``pred_original_sample`` where it returns one (DDIM, DDPM, Euler), else computed from the model's
    output (`x0_from_output`)."""
    box: dict = {"x0": None, "steps": 0}
    original = scheduler.step

    # wraps: the pipeline reads step's signature to decide whether to pass `eta` and `generator`
    # (LCMScheduler's fresh noise, DDIM's eta > 0); without it neither would reach the scheduler
    @functools.wraps(original)
    def step(model_output, timestep, sample, *args, **kwargs):
        out = original(model_output, timestep, sample, *args, **kwargs)
        if isinstance(out, tuple):  # return_dict=False: (prev_sample, pred_original_sample, ...)
            x0 = out[1] if len(out) > 1 else None
        else:
            x0 = getattr(out, "pred_original_sample", None)
        box["x0"] = x0 if x0 is not None else x0_from_output(scheduler, model_output, timestep, sample)
        box["steps"] += 1
        return out

    scheduler.step = step
    try:
        yield box
    finally:
        del scheduler.step  # the instance attribute goes; the class's method is back


def _generators(seed: int, n: int) -> list[torch.Generator]:
    # one CPU generator per picture: picture i of a batch starts from the noise of seed + i
    return [torch.Generator("cpu").manual_seed(seed + i) for i in range(n)]


def _run(pipe, task: str, call_kwargs: dict, params: dict, callback: StepCallback | None) -> GenerationResult:
    kwargs = dict(call_kwargs)
    box: dict = {}
    if callback is not None:
        def on_step_end(p, i, t, tensors):
            callback(i, int(t), tensors["latents"].detach().float().cpu(),
                     None if box["x0"] is None else box["x0"].detach().float().cpu())
            return tensors

        kwargs.update(callback_on_step_end=on_step_end, callback_on_step_end_tensor_inputs=["latents"])
    t0 = time.perf_counter()
    try:
        with _capture_x0(pipe.scheduler) as box, torch.inference_mode(), cpu_threads(pipe.unet):
            images = pipe(**kwargs).images
    except torch.OutOfMemoryError as e:
        raise CourseSetupError(
            "The device ran out of memory while generating. Nothing was lost: try fewer pictures "
            "(num_images) or a smaller height/width (fewer steps do not save memory), or close other "
            "notebooks; on a GPU `pipe.enable_attention_slicing()` also helps.") from e
    seconds = time.perf_counter() - t0
    info = model_info(pipe)
    params = dict(params, denoising_steps_run=box["steps"])  # counted: PNDM runs one more than asked
    params = dict(task=task, **params, model=info.key, model_source=info.source,
                  scheduler=type(pipe.scheduler).__name__, device=str(pipe.device),
                  dtype=str(pipe.unet.dtype).removeprefix("torch."), torch=torch.__version__,
                  diffusers=__import__("diffusers").__version__)
    return GenerationResult(images=list(images), params=params, seconds=seconds)


def text_to_image(prompt: str, *, negative_prompt: str | None = None, steps: int | None = None,
                  guidance: float | None = None, seed: int | None = 0, height: int | None = None,
                  width: int | None = None, num_images: int = 1, eta: float = 0.0, pipe=None,
                  model: str = "auto", callback: StepCallback | None = None,
                  num_inference_steps=None, guidance_scale=None) -> GenerationResult:
    """Make pictures from a prompt, reproducibly.

    Parameters
    ----------
    prompt : what to draw. ``negative_prompt``: what to steer away from (replaces the empty prompt
        of classifier-free guidance).
    steps : denoising steps (>= 1; default: the model's, 20 for the embedded model).
    guidance : classifier-free guidance scale (>= 0; 0 and 1 both switch guidance off).
    seed : the seed of the initial noise (0 .. 2**63-1); ``None`` draws one and records it.
    height, width : picture size in pixels, multiples of 8 (default: the model's).
    num_images : 1 to 16; picture i starts from the noise of ``seed + i``, so a single picture made with
        that seed matches it (to within one level of 255: a batch rounds a little differently).
    callback : called after each step as ``callback(i, t, latents, predicted_x0)`` (CPU tensors,
        shape (num_images, 4, height/f, width/f)).

    num_inference_steps, guidance_scale : diffusers' names, refused with a message: use ``steps`` and
        ``guidance``.

    Returns a `GenerationResult` (``.images``, ``.image``, ``.params``, ``.seconds``). ``params``
    holds ``denoising_steps_run``, the denoising steps counted as they ran: `steps` with DDIM, one
    more with PNDM (Stable Diffusion 1.5's scheduler spends an extra U-Net call on its first step).
    """
    _refuse_diffusers_names(num_inference_steps, guidance_scale)
    _check_pipe(pipe)
    _check_callback(callback)
    pipe = pipe if pipe is not None else load_pipeline(model, "text-to-image", verbose=False)
    default_steps, default_guidance = model_defaults(pipe)
    steps = steps if steps is not None else default_steps
    guidance = guidance if guidance is not None else default_guidance
    size = picture_size(pipe)
    p = check_inputs(pipe, prompt=prompt, negative_prompt=negative_prompt, steps=steps, guidance=guidance,
                     seed=seed, height=size if height is None else height, width=size if width is None else width,
                     num_images=num_images, eta=eta)
    call = dict(prompt=[p["prompt"]] * p["num_images"],
                negative_prompt=None if p["negative_prompt"] is None else [p["negative_prompt"]] * p["num_images"],
                num_inference_steps=p["steps"], guidance_scale=p["guidance"], height=p["height"],
                width=p["width"], eta=p["eta"], generator=_generators(p["seed"], p["num_images"]))
    warn_about_size(pipe, p["height"], p["width"], p["steps"], p["num_images"] * (2 if p["guidance"] > 1 else 1), size)
    return _run(pipe, "text-to-image", call, p, callback)


def image_to_image(image, prompt: str, *, strength: float = 0.6, negative_prompt: str | None = None,
                   steps: int | None = None, guidance: float | None = None, seed: int | None = 0,
                   size: int | tuple[int, int] | None = None, num_images: int = 1, eta: float = 0.0,
                   pipe=None, model: str = "auto", callback: StepCallback | None = None,
                   num_inference_steps=None, guidance_scale=None) -> GenerationResult:
    """Redraw `image` (a path, PIL image or array) following `prompt`.

    ``strength`` in (0, 1] sets how much noise is added to the picture first: the pipeline runs only
    ``int(steps x strength)`` denoising steps, and ``strength=1`` ignores the picture entirely.
    The picture is centre-cropped to a square and resized to the model's resolution unless
    ``size`` (an int or (width, height), multiples of 8 up to 2048) says otherwise; it is checked
    before the picture is resized. Other parameters as in `text_to_image`.
    """
    _refuse_diffusers_names(num_inference_steps, guidance_scale)
    _check_pipe(pipe)
    _check_callback(callback)
    if strength is None:
        raise CourseInputError(
            "strength=None: strength must be a number in (0, 1], how much of the picture is redrawn "
            "(e.g. strength=0.6, the default; 1 ignores the picture).")
    strength = checks.number("strength", strength, 0.0, 1.0, lo_open=True)
    pipe = as_image_to_image(pipe if pipe is not None else load_pipeline(model, "image-to-image", verbose=False))
    default_steps, default_guidance = model_defaults(pipe)
    steps = steps if steps is not None else default_steps
    guidance = guidance if guidance is not None else default_guidance
    res = picture_size(pipe)
    size = _check_size(res if size is None else size, pipe)  # before any resize: size=40000 is refused here
    img = load_image(image)
    img = fit_square(img, size) if isinstance(size, int) else load_image(img, size=size)
    p = check_inputs(pipe, prompt=prompt, negative_prompt=negative_prompt, steps=steps, guidance=guidance,
                     seed=seed, height=img.height, width=img.width, num_images=num_images, eta=eta, strength=strength)
    call = dict(image=img, prompt=[p["prompt"]] * p["num_images"],
                negative_prompt=None if p["negative_prompt"] is None else [p["negative_prompt"]] * p["num_images"],
                strength=p["strength"], num_inference_steps=p["steps"], guidance_scale=p["guidance"],
                eta=p["eta"], generator=_generators(p["seed"], p["num_images"]))
    warn_about_size(pipe, img.height, img.width, max(1, int(p["steps"] * p["strength"])),
                    p["num_images"] * (2 if p["guidance"] > 1 else 1), res)
    return _run(pipe, "image-to-image", call, p, callback)
