"""Prompts with a known answer, and prompt adherence measured against the guidance scale.

Taught in: chapter 7 (the parameters: guidance scale, steps, seed, strength), technical path.

The embedded model was trained on drawn cats whose fur colour, background colour and style are
known, so a prompt written from those attributes has a known answer: the pixel rules
(`minisd.metrics.classify_pixels`) and the CLIP judge (`minisd.metrics.ClipJudge`) can read the
attributes back off a picture and say whether it follows the prompt.

* `attribute_prompts` writes ``n`` such prompts, balanced over the four styles, with their answers.
* `adherence_sweep` draws every prompt at several guidance scales, with the same seeds at every
  scale, and measures for each scale the share of pictures whose attributes read as asked.

The measurement only means something for the embedded model, whose training pictures these
attributes describe; for a Stable Diffusion model, score pictures with a general CLIP instead.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real

import numpy as np
import torch
from PIL import Image

from . import checks
from .device import cpu_threads
from .errors import CourseInputError
from .minisd import data as D
from .minisd import metrics as M

__all__ = ["AdherenceSweep", "AttributePrompt", "FastRace", "adherence_sweep", "attribute_prompts",
           "fast_vs_full_race"]

MAX_PROMPTS = 96
MAX_BATCH = 64
JUDGES = ("pixels", "clip")
RATE_KEYS = (*M.ATTRIBUTES, "all")


@dataclass(frozen=True)
class AttributePrompt:
    """A prompt written from the data's attributes, and what a picture that follows it shows.

    Attributes:
        prompt: the text, e.g. ``"a grey cat in manga style on a pink background"``.
        fur, background, style: the attributes asked for (fur is a colour name).
        truth: what `metrics.classify_pixels` should read off a faithful picture: ``fur`` is a
            tone (``dark``, ``mid``, ``light``) in manga style, where the fur has no hue; plus
            ``fur_name``, the colour asked for, which the CLIP judge needs.
    """

    prompt: str
    fur: str
    background: str
    style: str
    truth: dict = field(compare=False)


def attribute_prompts(n: int = 12, seed: int = 0, held_out: bool = False) -> list[AttributePrompt]:
    """``n`` prompts built from the training data's attributes, balanced over the four styles.

    Prompt ``i`` asks for style ``STYLES[i % 4]`` (photo, cartoon, manga, pixel) and a fur colour and
    background drawn at random (deterministic for `seed`). With ``held_out=False`` every prompt is a
    combination the model saw in training; with ``held_out=True`` every prompt combines a pair that
    training left out (`data.HELD_OUT`), which tests whether the model composes what it learnt.

    Args:
        n (`int`, defaults to 12): how many prompts, 1 to 96.
        seed (`int`, defaults to 0): the seed of the random choices, >= 0.
        held_out (`bool`, defaults to False): training combinations only, or held-out ones only.

    Returns:
        `list[AttributePrompt]`, in order.

    Raises:
        `CourseInputError`: for a bad ``n``, ``seed`` or ``held_out``.
    """
    n = checks.whole("n", n, 1, MAX_PROMPTS, hint="e.g. n=12 (three prompts per style).")
    seed = checks.whole("seed", seed, 0, 2**63 - 1, hint="e.g. seed=0.")
    if not isinstance(held_out, bool):
        raise CourseInputError(f"held_out={held_out!r} must be True or False.")
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        style = D.STYLES[i % len(D.STYLES)]
        # (every style has held-out combinations: three held-out pairs are fur + background)
        spec = D.random_spec(rng, held_out=held_out, pattern="solid", style=style)
        truth = {**M.expected(spec), "fur_name": spec.fur}
        out.append(AttributePrompt(D.prompt_for(spec.fur, spec.background, spec.style), spec.fur,
                                   spec.background, spec.style, truth))
    return out


@dataclass
class AdherenceSweep:
    """Pictures of the same prompts and seeds at several guidance scales, and how well they adhere.

    Attributes:
        guidances: the guidance scales, in the order asked.
        prompts: the `AttributePrompt` list; picture ``i`` of every scale used seed ``seed + i``.
        images: guidance -> list of PIL pictures, one per prompt.
        pixels: guidance -> share of pictures (0 to 1) whose ``fur``, ``background``, ``style`` and
            ``all`` three the pixel rules read as asked.
        clip: the same as read by the CLIP judge, or ``None`` when no judge was given.
        seconds: guidance -> seconds spent drawing the pictures of that scale.
        steps, seed: the settings used.
    """

    guidances: tuple[float, ...]
    prompts: list[AttributePrompt]
    images: dict[float, list[Image.Image]]
    pixels: dict[float, dict[str, float]]
    clip: dict[float, dict[str, float]] | None
    seconds: dict[float, float]
    steps: int
    seed: int

    def rate(self, judge: str = "pixels", attribute: str = "all") -> np.ndarray:
        """Adherence at each guidance scale (in `guidances` order), as a share from 0 to 1.

        Args:
            judge: ``"pixels"`` (the pixel rules) or ``"clip"`` (the CLIP judge).
            attribute: ``"fur"``, ``"background"``, ``"style"`` or ``"all"`` (all three at once).
        """
        if judge not in JUDGES:
            raise CourseInputError(f"judge={judge!r} must be one of {JUDGES}.")
        if attribute not in RATE_KEYS:
            raise CourseInputError(f"attribute={attribute!r} must be one of {RATE_KEYS}.")
        table = self.pixels if judge == "pixels" else self.clip
        if table is None:
            raise CourseInputError("this sweep was made without a CLIP judge: pass judge=ClipJudge.load() "
                                   "to adherence_sweep, or use judge='pixels'.")
        return np.array([table[g][attribute] for g in self.guidances])


def _check_guidances(guidances) -> tuple[float, ...]:
    if isinstance(guidances, str | bytes) or not isinstance(guidances, Sequence) or not guidances:
        raise CourseInputError(f"guidances={guidances!r} must be a non-empty list of numbers, e.g. [1, 3, 7.5].")
    out = []
    for g in guidances:
        if isinstance(g, bool) or not isinstance(g, Real) or not math.isfinite(g) or not 0 <= g <= 50:
            raise CourseInputError(f"guidance {g!r} in guidances must be a number from 0 to 50.")
        out.append(float(g))
    if len(set(out)) != len(out):
        raise CourseInputError(f"guidances={list(guidances)} repeats a value: give each scale once.")
    return tuple(out)


def adherence_sweep(pipe, prompts: Sequence[AttributePrompt], guidances: Sequence[float], *, steps: int = 20,
                    seed: int = 0, judge=None, batch_size: int = 12) -> AdherenceSweep:
    """Draw every prompt at every guidance scale and measure how many pictures follow their prompt.

    Picture ``i`` is drawn from seed ``seed + i`` at every scale, so the scales are compared on the same
    starting noise and only the guidance differs. The prompts of one scale are drawn in batches of
    ``batch_size`` (with guidance above 1 the U-Net sees twice that many latents per call).

    Args:
        pipe: a text-to-image pipeline (``cu.load_pipeline()``), ideally the embedded model.
        prompts: `AttributePrompt` objects, e.g. ``attribute_prompts(12)``.
        guidances: the guidance scales, each from 0 to 50 (diffusers switches guidance off at 1 or
            below: 0 then draws the same pictures as 1).
        steps: denoising steps per picture, 1 to the scheduler's training timesteps.
        seed: the seed of picture 0, >= 0.
        judge: a `metrics.ClipJudge` (or anything with its ``classify``) to score with CLIP as well,
            or ``None`` for the pixel rules only.
        batch_size: pictures per pipeline call, 1 to 64.

    Returns:
        `AdherenceSweep`.

    Raises:
        `CourseInputError`: for a bad argument, before any picture is drawn.
    """
    if not all(hasattr(pipe, a) for a in ("unet", "scheduler", "tokenizer")) or not callable(pipe):
        raise CourseInputError(f"pipe must be a text-to-image pipeline (cu.load_pipeline()), got "
                               f"{type(pipe).__name__}.")
    if isinstance(prompts, str) or not isinstance(prompts, Sequence) or not prompts \
            or not all(isinstance(p, AttributePrompt) for p in prompts):
        raise CourseInputError("prompts must be a non-empty list of AttributePrompt, e.g. attribute_prompts(12).")
    if len(prompts) > MAX_PROMPTS:
        raise CourseInputError(f"{len(prompts)} prompts is too many for one sweep: use at most {MAX_PROMPTS}.")
    guidances = _check_guidances(guidances)
    steps = checks.whole("steps", steps, 1, int(pipe.scheduler.config.num_train_timesteps), hint="e.g. steps=20.")
    seed = checks.whole("seed", seed, 0, 2**63 - 1 - len(prompts), hint="e.g. seed=0.")
    batch_size = checks.whole("batch_size", batch_size, 1, MAX_BATCH, hint="e.g. batch_size=12.")
    if judge is not None and not callable(getattr(judge, "classify", None)):
        raise CourseInputError(f"judge must be a ClipJudge (ClipJudge.load()) or None, got {type(judge).__name__}.")

    texts = [p.prompt for p in prompts]
    truths = [p.truth for p in prompts]
    images, pixels, clip, seconds = {}, {}, ({} if judge is not None else None), {}
    from tqdm.auto import tqdm

    for g in tqdm(guidances, desc=f"{len(texts)} pictures at each guidance scale", leave=False):
        t0 = time.perf_counter()
        pictures: list[Image.Image] = []
        for start in range(0, len(texts), batch_size):
            chunk = texts[start:start + batch_size]
            # picture i starts from the noise of seed + i, whatever the scale and the batch
            gens = [torch.Generator("cpu").manual_seed(seed + start + j) for j in range(len(chunk))]
            with torch.inference_mode(), cpu_threads(pipe.unet):
                pictures += pipe(chunk, num_inference_steps=steps, guidance_scale=g, generator=gens).images
        seconds[g] = time.perf_counter() - t0
        images[g] = pictures
        pixels[g] = M.adherence_rates([M.classify_pixels(p) for p in pictures], truths)
        if judge is not None:
            clip[g] = M.adherence_rates(judge.classify(pictures, truths), truths)
    return AdherenceSweep(guidances=guidances, prompts=list(prompts), images=images, pixels=pixels, clip=clip,
                          seconds=seconds, steps=steps, seed=seed)


@dataclass
class FastRace:
    """The embedded model (20 steps, guidance 7.5) against its few-step student on the same prompts and
    seeds: adherence by both judges, seconds per picture, variety and colour saturation (chapter 7)."""

    rows: list[dict]  # one per setting: label, steps, guidance, pixels, clip (shares), seconds per picture
    variety: dict[str, float]  # mean |difference| between the pictures of 4 seeds of one prompt, per model
    saturation: dict[str, float]  # mean HSV saturation of the pictures (0-255), per setting label

    def row(self, label: str) -> dict:
        return next(r for r in self.rows if r["label"] == label)

    def table(self) -> str:
        lines = [f"{'model and setting':34s} | right by pixel rules | by CLIP | s/picture | saturation",
                 "-" * 96]
        for r in self.rows:
            lines.append(f"{r['label']:34s} | {r['pixels']:19.0%} | {r['clip']:7.0%} | {r['seconds']:9.3f} | "
                         f"{self.saturation[r['label']]:10.0f}")
        lines.append(f"variety (mean |difference| between 4 seeds of one prompt, 0-255): full "
                     f"{self.variety['full']:.1f}, fast {self.variety['fast']:.1f}")
        return "\n".join(lines)

    def verdicts(self) -> str:
        """What the table says, in sentences computed from it."""
        full, four = self.row(FULL), self.row(FAST.format(4, "s"))
        one, extra = self.row(FAST.format(1, "")), self.row(EXTRA)

        def cmp(a, b):
            return "as often as" if abs(a - b) < 1e-9 else ("more often than" if a > b else "less often than")

        return "\n".join([
            f"4 steps are {full['seconds'] / four['seconds']:.1f}x quicker per picture than 20 guided ones, and follow "
            f"the brief {cmp(four['pixels'], full['pixels'])} the teacher by the pixel rules "
            f"({four['pixels']:.0%} against {full['pixels']:.0%}), {cmp(four['clip'], full['clip'])} it by CLIP "
            f"({four['clip']:.0%} against {full['clip']:.0%}).",
            f"1 step: {one['pixels']:.0%} right by the pixel rules and {one['clip']:.0%} by CLIP.",
            f"Four seeds of one prompt differ {'less' if self.variety['fast'] < self.variety['full'] else 'more'} on "
            f"the student ({self.variety['fast']:.1f} against {self.variety['full']:.1f}).",
            f"Guidance 7.5 on top of the student: {extra['pixels']:.0%} and {extra['clip']:.0%} right, against "
            f"{four['pixels']:.0%} and {four['clip']:.0%} without; saturation {self.saturation[EXTRA]:.0f} against "
            f"{self.saturation[four['label']]:.0f}."])


FULL, FAST = "full: 20 steps, guidance 7.5", "fast: {} step{}, no guidance"
EXTRA = "fast: 4 steps, guidance 7.5 on top"


def fast_vs_full_race(n: int = 12, seed: int = 0) -> FastRace:
    """Race the embedded model against its few-step student (``load_pipeline("embedded-fast")``) on `n`
    attribute prompts: 20 guided steps against 4, 2 and 1 unguided ones, and the student at 4 steps
    with guidance 7.5 on top of the guidance it learnt. Takes a few seconds on a laptop."""
    from .generate import text_to_image
    from .minisd.metrics import ClipJudge
    from .models import load_pipeline, model_defaults

    full, fast = load_pipeline("embedded", verbose=False), load_pipeline("embedded-fast", verbose=False)
    prompts, judge = attribute_prompts(n, seed=seed), ClipJudge.load()
    (full_steps, full_g), (fast_steps, fast_g) = model_defaults(full), model_defaults(fast)  # 20 and 7.5; 4 and 1
    settings = [(FULL, full, full_steps, full_g)]
    settings += [(FAST.format(k, "s" if k > 1 else ""), fast, k, fast_g) for k in (4, 2, 1)]
    settings.append((EXTRA, fast, fast_steps, full_g))
    rows, saturation = [], {}
    for label, pipe, steps, g in settings:
        sweep = adherence_sweep(pipe, prompts, [g], steps=steps, seed=seed, judge=judge)
        rows.append({"label": label, "steps": steps, "guidance": g, "pixels": float(sweep.rate("pixels", "all")[0]),
                     "clip": float(sweep.rate("clip", "all")[0]), "seconds": sweep.seconds[g] / len(prompts)})
        saturation[label] = float(np.mean([np.asarray(p.convert("HSV"))[..., 1].mean() for p in sweep.images[g]]))
    variety = {}
    for name, pipe, steps, g in (("full", full, full_steps, full_g), ("fast", fast, fast_steps, fast_g)):
        pics = text_to_image(prompts[0].prompt, pipe=pipe, steps=steps, guidance=g, seed=seed, num_images=4).images
        a = [np.asarray(p, dtype=np.float64) for p in pics]
        variety[name] = float(np.mean([np.abs(a[i] - a[j]).mean() for i in range(4) for j in range(i + 1, 4)]))
    return FastRace(rows, variety, saturation)
