"""Sliders that redraw a picture: the explorers of the practical path.

Taught in: chapter 7 (the parameters), and used in chapters 5, 8 and 9. `parameter_dashboard` and
`comparison_explorer` are chapter 7's two ready-made explorers.

An `ImageExplorer` ties a few ipywidgets controls to a function that returns a picture. When a
control changes, the function runs with the controls' values and the picture is replaced *in
place* (one ``ipywidgets.Image``, no flicker, no growing output). Results are cached by their
parameters, so going back to a setting already seen is instant. A bad value shows a message under
the picture instead of a stack trace. Sliders use ``continuous_update=False``: the picture is
redrawn when the slider is released, not at every pixel of the drag.

Explorers work without a browser too: setting ``slider.value`` runs the update at once, which is
how the tests check them.
"""

from __future__ import annotations

import html
import io
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import ipywidgets as W
import torch
from PIL import Image

from . import checks
from .errors import CourseInputError, CourseSetupError
from .generate import MAX_SEED, image_to_image, text_to_image
from .images import image_grid, load_image, mau
from .layout import MAX_DISPLAY_SIDE, fit_display, labelled_grid  # noqa: F401 (public here too)
from .models import as_image_to_image, load_pipeline, model_defaults, model_info, student_shipped
from .saving import explain_failure, save_image


def png_bytes(img: Image.Image, scale: int = 1) -> bytes:
    """PNG bytes of `img` as `fit_display` sizes it (crisp enlargement, at most `MAX_DISPLAY_SIDE`)."""
    img = fit_display(img, scale)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def slider(description: str, value, lo, hi, step=1, **kw) -> W.Widget:
    """An int or float slider with ``continuous_update=False`` and a readable label width.

    A starting `value` outside ``lo .. hi`` (or not a number) is refused with a `CourseInputError`:
    ipywidgets would move it to the nearest end without a word, and the picture would not show the
    setting that was asked for.
    """
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not lo <= value <= hi:
        raise CourseInputError(
            f"{description}: the starting value {value!r} is outside the slider's range {lo} to {hi}; "
            f"start it at a number from {lo} to {hi}.")
    integral = all(isinstance(v, numbers.Integral) for v in (lo, hi, step)) and float(value).is_integer()
    cls = W.IntSlider if integral else W.FloatSlider
    value = int(value) if integral else float(value)
    return cls(value=value, min=lo, max=hi, step=step, description=description, continuous_update=False,
               style={"description_width": "initial"}, layout=W.Layout(width="420px"), **kw)


class ImageExplorer:
    """Controls -> ``render(**values) -> PIL image`` -> one image widget, updated in place.

    Parameters
    ----------
    render : called with the controls' current values as keyword arguments; returns a PIL image.
    controls : name -> ipywidgets control (sliders, text boxes, dropdowns...).
    scale : how many times to enlarge the picture on screen (crisp pixels).
    cache_size : how many results to keep; a setting already seen is shown from the cache.
    caption : optional ``caption(**values) -> str`` shown under the picture.
    key : optional ``key(**values) -> hashable``, the cache key; by default all the values. Give one
        when some controls do not always matter (strength, when no picture is the starting point).
    """

    def __init__(self, render: Callable[..., Image.Image], controls: dict[str, W.Widget], scale: int = 4,
                 cache_size: int = 128, caption: Callable[..., str] | None = None, title: str | None = None,
                 key: Callable[..., object] | None = None):
        self.render = render
        self.key = key
        self.controls = controls
        self.scale = scale
        self.caption = caption
        self._cache: OrderedDict[tuple, Image.Image] = OrderedDict()
        self._cache_size = cache_size
        self.image = W.Image(format="png", layout=W.Layout(border="1px solid #ccc"))
        self.message = W.HTML()
        self.last_image: Image.Image | None = None
        self.last_error: Exception | None = None  # what stopped the last redraw, shown in `message`
        self.last_seconds = 0.0
        self.history: list[tuple[float, bool]] = []  # (seconds, from cache) of each update
        header = [W.HTML(f"<b>{html.escape(title)}</b>")] if title else []
        self.box = W.VBox([*header, W.HBox([W.VBox(list(controls.values())), W.VBox([self.image, self.message])])])
        for c in controls.values():
            c.observe(self._on_change, names="value")
        self.refresh()

    def values(self) -> dict:
        return {k: c.value for k, c in self.controls.items()}

    def _on_change(self, _change) -> None:
        self.refresh()

    def refresh(self) -> Image.Image | None:
        """Redraw for the current values (from the cache when possible)."""
        vals = self.values()
        key = self.key(**vals) if self.key else tuple(sorted((k, repr(v)) for k, v in vals.items()))
        t0 = time.perf_counter()
        hit = key in self._cache
        try:
            if hit:
                img = self._cache[key]
                self._cache.move_to_end(key)
            else:
                img = self.render(**vals)
                self._cache[key] = img
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        except (CourseInputError, CourseSetupError) as e:
            self.last_error = e
            self.message.value = f"<span style='color:#c0392b'>⚠️ {html.escape(str(e))}</span>"
            return None
        except torch.OutOfMemoryError as e:
            self.last_error = e
            self.message.value = ("<span style='color:#c0392b'>⚠️ The device ran out of memory drawing this "
                                  "setting. The earlier picture stays; try fewer steps or a smaller picture, or "
                                  "close other notebooks.</span>")
            return None
        except Exception as e:  # a render function of one's own that fails: say so here, not in a log
            self.last_error = e
            self.message.value = (f"<span style='color:#c0392b'>⚠️ The picture could not be drawn: "
                                  f"{html.escape(type(e).__name__)}: {html.escape(str(e))}. The earlier picture "
                                  "stays; change the setting or fix the function that draws.</span>")
            return None
        self.last_error = None
        self.image.value = png_bytes(img, self.scale)
        self.last_image = img
        self.last_seconds = time.perf_counter() - t0
        self.history.append((self.last_seconds, hit))
        text = self.caption(**vals) if self.caption else ""
        self.message.value = (f"<small>{html.escape(text)} ({'cached' if hit else f'{self.last_seconds:.2f} s'})"
                              "</small>")
        return img

    def set(self, **values) -> bool:
        """Move controls from code, e.g. ``explorer.set(guidance=12, seed=5)``, and redraw once per
        change. A value outside a slider's range, or a name that is not a control, moves nothing and
        shows why under the picture (ipywidgets would move a slider to its nearest end without a
        word). Returns whether every value was set."""
        problems = []
        for name, value in values.items():
            control = self.controls.get(name)
            if control is None:
                problems.append(f"{name!r} is not a control here: use {', '.join(self.controls)}")
            elif hasattr(control, "min") and hasattr(control, "max") and not (isinstance(value, int | float)
                                                                            and not isinstance(value, bool)
                                                                            and control.min <= value <= control.max):
                problems.append(f"{name}={value!r} is outside the slider's range {control.min:g} to {control.max:g}")
            elif getattr(control, "options", None) is not None and value not in [
                    o[1] if isinstance(o, tuple) else o for o in control.options]:
                problems.append(f"{name}={value!r} is not one of the choices")
        if problems:
            self.message.value = f"<span style='color:#c0392b'>⚠️ {html.escape('; '.join(problems))}.</span>"
            return False
        for name, value in values.items():
            self.controls[name].value = value
        return True

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)


def _warning(text: str) -> str:
    return f"<span style='color:#c0392b'>⚠️ {html.escape(text)}</span>"


def save_button(get_image: Callable[[], Image.Image | None], path: str | Path | Callable[[], Path],
                description: str = "Save", dpi: int | None = None,
                saver: Callable[[Image.Image, Path], Path] | None = None, *, overwrite: bool = False) -> W.VBox:
    """A button that saves the current picture and says where it went (or why it could not).

    Taught in: chapter 3 and 5 (save a picture you like), chapter 8 (the manga page) and chapter 9
    (the print file).

    `path` is a file name or a function that returns one. The picture goes through
    `course_utils.saving.save_file`: an earlier file of that name is kept unless ``overwrite=True``,
    and the new one gets the next free name (``x-2.png`` ...). `saver`, when given, is called as
    ``saver(picture, path)`` and returns the path it wrote (the course's `styles.save_png_300dpi` and
    `styles.save_print_png` do).

    Under the button, a message shows the path really written, or, when saving fails, what went wrong
    and what to do (an earlier "Saved" message is cleared first). ``box.click()`` presses the button
    from code and returns the path written (``None`` when nothing was saved); ``box.last_path`` keeps it.
    """
    button = W.Button(description=description, icon="download", button_style="success")
    status = W.HTML()

    def on_click(_b=None) -> Path | None:
        status.value = ""
        box.last_path = None
        target = None
        try:
            img = get_image()
            if img is None:
                status.value = "Nothing to save yet: fix the settings above first."
                return None
            target = path() if callable(path) else path
            if saver is not None:
                written = saver(img, target)
                written = Path(written).expanduser() if isinstance(written, (str, os.PathLike)) else None
                written = written or Path(os.fspath(target)).expanduser()
            else:
                extra = {"dpi": (dpi, dpi)} if dpi else {}
                written = save_image(img, target, overwrite=overwrite, **extra)
        except (CourseInputError, CourseSetupError) as err:
            status.value = _warning(str(err))
            return None
        except (OSError, ValueError, KeyError) as err:  # a saver of one's own that wrote the file directly
            status.value = _warning(str(explain_failure(err, target)) if target is not None else
                                    f"The picture could not be made: {type(err).__name__}: {err}")
            return None
        except Exception as err:
            status.value = _warning(f"The picture could not be saved: {type(err).__name__}: {err}")
            return None
        box.last_path = written
        asked = Path(os.fspath(target)).expanduser() if isinstance(target, (str, os.PathLike)) else written
        note = (f" A file named <code>{html.escape(asked.name)}</code> was already there and is kept: "
                "this one got a new name.") if written.name != asked.name else ""
        status.value = (f"Saved <code>{html.escape(str(written))}</code> ({img.width} x {img.height} px).{note}")
        return written

    button.on_click(on_click)
    box = W.VBox([button, status])
    box.click = on_click  # lets a test (or a cell) press the button without a browser
    box.status = status
    box.last_path = None
    return box


# --- chapter 7: the parameters, live --------------------------------------------------------------
DEFAULT_PROMPT = "a ginger cat in manga style on a blue background"
START_OPTIONS = (("noise (text-to-image)", "noise"), ("the reference picture (image-to-image)", "picture"))


def _draw(pipe, i2i, reference, prompt: str, start: str, guidance: float, steps: int, seed: int,
          strength: float) -> Image.Image:
    """One picture with these settings: text-to-image from noise, or image-to-image from `reference`."""
    if start == "noise":
        return text_to_image(prompt, pipe=pipe, steps=steps, guidance=guidance, seed=seed).image
    return image_to_image(reference, prompt, strength=strength, pipe=i2i, steps=steps, guidance=guidance,
                          seed=seed).image


def _pipes(pipe, reference):
    pipe = pipe if pipe is not None else load_pipeline(verbose=False)
    ref = mau() if reference is None else load_image(reference)
    return pipe, as_image_to_image(pipe), ref


def _prompt_box(prompt: str) -> W.Text:
    return W.Text(value=prompt, description="prompt", continuous_update=False,
                  style={"description_width": "initial"}, layout=W.Layout(width="420px"))


def noise_explorer(picture, schedules: dict, t: int = 300, seed: int = 0, scale: int = 3) -> ImageExplorer:
    """`picture` at noise level t (a slider, 0 to T-1) under each of `schedules` (a dropdown:
    name -> `NoiseSchedule`), always with the same noise; the caption gives ᾱ_t and signal-to-noise.

    Taught in: chapter 2 (practical). ``explorer.render(t, schedule)`` draws one frame on its own.
    """
    from .images import to_tensor
    from .plots import forward_frames

    if not isinstance(schedules, dict) or not schedules:
        raise CourseInputError("schedules must be a dict of name -> NoiseSchedule, e.g. {'linear': ...}.")
    x0 = to_tensor(load_image(picture))
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    last = min(len(s.alphas_cumprod) for s in schedules.values()) - 1

    def render(t, schedule):
        return forward_frames(x0, [t], schedules[schedule].alphas_cumprod, noise=noise)[0]

    def caption(t, schedule):
        a = schedules[schedule].alphas_cumprod[t].item()
        return f"t = {t}: ᾱ_t = {a:.4f} (the picture's share {a:.0%}), signal-to-noise ᾱ_t/(1-ᾱ_t) = {a / (1 - a):.3g}"

    controls = {"t": slider("noise level t", t, 0, last, 1),
                "schedule": W.Dropdown(options=list(schedules), value=next(iter(schedules)), description="schedule")}
    return ImageExplorer(render, controls, scale=scale, caption=caption, title="MAU at noise level t")


def strength_explorer(photo, prompt: str, pipe=None, strength: float = 0.6, seed: int = 0,
                      scale: int = 4) -> ImageExplorer:
    """A strength slider, a prompt box and a seed slider that redraw `photo` with image-to-image.

    Taught in: chapter 5 (practical). The caption says how many of the model's denoising passes run.
    """
    pipe, i2i, ref = _pipes(pipe, photo)
    steps, _ = model_defaults(pipe)

    def render(strength, prompt, seed):
        return image_to_image(ref, prompt, strength=strength, seed=seed, steps=steps, pipe=i2i).image

    def caption(strength, prompt, seed):
        return f"strength {strength:.2f}: {int(steps * strength)} of {steps} passes, seed {seed}"

    controls = {"strength": slider("strength", strength, 0.05, 1.0, 0.05), "prompt": _prompt_box(prompt),
                "seed": slider("seed", seed, 0, 20, 1)}
    return ImageExplorer(render, controls, scale=scale, caption=caption, title="MAU, reinterpreted")


def parameter_dashboard(pipe=None, prompt: str = DEFAULT_PROMPT, reference=None, *, guidance: float | None = None,
                        steps: int | None = None, seed: int = 0, strength: float = 0.6, start: str = "noise",
                        scale: int = 4, fast=None) -> ImageExplorer:
    """A prompt box and sliders for guidance, steps, seed and strength that redraw one picture.

    Taught in: chapter 7 (practical). The picture is redrawn when a slider is released or the
    prompt box loses focus (or Enter is pressed); settings already seen come from the cache.
    ``start`` picks the starting point: ``"noise"`` (text-to-image; strength does not apply and its
    slider is greyed out) or ``"picture"`` (image-to-image from `reference`, MAU by default; the
    reference is shown on the left). Bad values (an empty prompt, a strength too small for the
    number of steps) show a message under the picture. ``guidance`` and ``steps`` start at the
    model's own defaults (20 steps and 7.5 for the embedded model, 2 steps and 0 for SD-Turbo).
    ``fast``: a few-step pipeline to offer beside `pipe` (a "model" switch: full or fast; switching
    moves steps and guidance to that model's defaults). For the embedded model, its distilled student
    (``load_pipeline("embedded-fast")``) is offered by default where the model folder has one.
    """
    if start not in dict(START_OPTIONS).values():
        raise CourseInputError(f"start={start!r} is not a starting point: use 'noise' or 'picture'.")
    pipe, i2i, ref = _pipes(pipe, reference)
    if fast is None and model_info(pipe).key == "embedded" and student_shipped():
        fast = load_pipeline("embedded-fast", verbose=False)
    pipes = {"full": (pipe, i2i)} if fast is None else {"full": (pipe, i2i), "fast": (fast, as_image_to_image(fast))}
    default_steps, default_guidance = model_defaults(pipe)
    guidance = default_guidance if guidance is None else guidance
    steps = default_steps if steps is None else steps
    controls = dict(
        prompt=_prompt_box(prompt),
        model=W.ToggleButtons(options=[(f"{k}: {model_defaults(v[0])[0]} steps", k) for k, v in pipes.items()],
                              value="full", description="model", style={"button_width": "110px"},
                              layout=W.Layout(display="flex" if fast is not None else "none")),
        start=W.Dropdown(options=START_OPTIONS, value=start, description="start from",
                         style={"description_width": "initial"}, layout=W.Layout(width="420px")),
        guidance=slider("guidance scale", guidance, 0.0, 15.0, 0.5),
        steps=slider("steps", steps, 1, 50),
        seed=slider("seed", seed, 0, 99),
        strength=slider("strength", strength, 0.05, 1.0, 0.05),
    )
    for c in controls.values():  # one label width, so that the sliders line up
        c.style.description_width = "100px"
    strength_box = controls["strength"]
    strength_box.disabled = start == "noise"

    def key(prompt, model, start, guidance, steps, seed, strength):
        return (prompt, model, start, guidance, steps, seed, strength if start == "picture" else None)

    def render(prompt, model, start, guidance, steps, seed, strength):
        img = _draw(*pipes[model], ref, prompt, start, guidance, steps, seed, strength)
        if start == "picture":
            img = image_grid([ref.resize(img.size, Image.Resampling.LANCZOS), img], cols=2)
        return img

    def caption(prompt, model, start, guidance, steps, seed, strength):
        who = f"{model} model · " if len(pipes) > 1 else ""
        if start == "noise":
            return f"{who}text-to-image · guidance {guidance:g} · {steps} steps · seed {seed}"
        return (f"{who}reference | result · strength {strength:.2f}: {int(steps * strength)} of {steps} steps run"
                f" · guidance {guidance:g} · seed {seed}")

    def to_defaults(change):  # a new model starts at its own steps and guidance (runs before the redraw)
        n, g = model_defaults(pipes[change["new"]][0])
        controls["steps"].value, controls["guidance"].value = n, g

    controls["model"].observe(to_defaults, names="value")
    explorer = ImageExplorer(render, controls, scale=scale, caption=caption, key=key,
                             title="The creative knobs: move a slider, then let go")
    controls["start"].observe(lambda ch: setattr(strength_box, "disabled", ch["new"] == "noise"), names="value")
    return explorer


COMPARISON_VALUES = {
    "guidance": (1.0, 3.0, 7.5, 12.0),
    "steps": (2, 5, 10, 20),
    "seed": (0, 1, 2, 3),
    "strength": (0.3, 0.5, 0.7, 0.9),
}


def _whole(name, value, lo, hi):  # a slider may send 20.0 for 20
    return checks.whole(name, value, lo, hi, floats_ok=True)


_VALUE_RULES = {"guidance": (checks.number, 0.0, 50.0), "steps": (_whole, 1, 1000),
                "seed": (_whole, 0, MAX_SEED), "strength": (checks.number, 0.01, 1.0)}


def _check_values(values) -> dict:
    """`comparison_grid`'s own values: 1 to 8 numbers per parameter, each valid for it (a seed of 1.5
    would be drawn as seed 1 under the label 1.5, so it is refused)."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise CourseInputError(f"values={values!r} must be a dict such as {{'seed': (0, 1, 2, 3)}}.")
    out = {}
    for name, seq in values.items():
        if name not in _VALUE_RULES:
            raise CourseInputError(f"values has {name!r}, which is not a parameter: use {', '.join(_VALUE_RULES)}.")
        if isinstance(seq, str) or not isinstance(seq, tuple | list) or not 1 <= len(seq) <= 8:
            raise CourseInputError(f"values[{name!r}]={seq!r} must be a tuple of 1 to 8 numbers, e.g. (0, 1, 2, 3).")
        check, lo, hi = _VALUE_RULES[name]
        out[name] = tuple(check(f"values[{name!r}] item", v, lo, hi) for v in seq)
    return out


def comparison_grid(pipe=None, prompt: str = DEFAULT_PROMPT, rows: str = "guidance", cols: str = "seed",
                    reference=None, *, values: dict | None = None, defaults: dict | None = None) -> Image.Image:
    """A labelled grid: one parameter changes down the rows, another across the columns.

    Taught in: chapter 7. The other parameters keep ``defaults`` (the model's own guidance and steps,
    7.5 and 20 for the embedded model; seed 0, strength 0.6). When strength is one of the two, every
    picture starts from `reference` (MAU by default); otherwise from noise.
    """
    values = {**COMPARISON_VALUES, **_check_values(values)}
    for name, v in (("rows", rows), ("cols", cols)):
        if v not in values:
            raise CourseInputError(f"{name}={v!r} is not a parameter: choose one of {', '.join(values)}.")
    if rows == cols:
        raise CourseInputError(f"rows and cols are both {rows!r}: pick two different parameters to compare.")
    pipe, i2i, ref = _pipes(pipe, reference)
    steps, guidance = model_defaults(pipe)
    base = {**dict(guidance=guidance, steps=steps, seed=0, strength=0.6), **(defaults or {})}
    start = "picture" if "strength" in (rows, cols) else "noise"
    pictures = [[_draw(pipe, i2i, ref, prompt, start, p["guidance"], int(p["steps"]), int(p["seed"]), p["strength"])
                 for c in values[cols] for p in [{**base, rows: r, cols: c}]] for r in values[rows]]
    return labelled_grid(pictures, [f"{r:g}" for r in values[rows]], [f"{c:g}" for c in values[cols]], rows, cols)


def fast_vs_full(prompt: str = DEFAULT_PROMPT, *, seed: int = 0, steps: int = 4, scale: int = 4) -> ImageExplorer:
    """The embedded model at its 20 guided steps beside its few-step student (chapter 7): the same prompt and
    seed, each picture's drawing time in the caption. Sliders: the seed and the student's steps."""
    full, fast = load_pipeline("embedded", verbose=False), load_pipeline("embedded-fast", verbose=False)
    full_steps, full_guidance = model_defaults(full)
    times: dict[str, float] = {}
    controls = dict(prompt=_prompt_box(prompt),
                    seed=W.IntSlider(value=seed, min=0, max=99, description="seed", continuous_update=False),
                    steps=W.IntSlider(value=steps, min=1, max=8, description="fast: steps", continuous_update=False))

    def render(prompt, seed, steps):
        pics = []
        for name, pipe, n in (("full", full, None), ("fast", fast, steps)):
            result = text_to_image(prompt, pipe=pipe, seed=seed, steps=n)
            pics.append(fit_display(result.image, scale))
            times[name] = result.seconds
        return image_grid(pics, labels=[f"full: {full_steps} steps ({times['full']:.2f} s)",
                                        f"fast: {steps} step{'s' if steps > 1 else ''} ({times['fast']:.2f} s)"])

    def caption(prompt, seed, steps):
        if not times:
            return ""
        return (f"full: {full_steps} steps with guidance {full_guidance:g}; fast: no guidance (it is built in). "
                f"Drawn in {times['full']:.2f} s "
                f"and {times['fast']:.2f} s on this machine: the fast model is "
                f"{times['full'] / max(times['fast'], 1e-6):.0f}× quicker")

    return ImageExplorer(render, controls, scale=1, caption=caption, title="20 steps or a few: the same seed")


def comparison_explorer(pipe=None, prompt: str = DEFAULT_PROMPT, reference=None, *, rows: str = "guidance",
                        cols: str = "seed", scale: int = 1) -> ImageExplorer:
    """Pick two parameters and see the grid of every combination of four values of each (chapter 7)."""
    pipe, i2i, ref = _pipes(pipe, reference)
    names = list(COMPARISON_VALUES)
    drop = dict(style={"description_width": "initial"}, layout=W.Layout(width="260px"))
    controls = dict(prompt=_prompt_box(prompt),
                    rows=W.Dropdown(options=names, value=rows, description="down the rows", **drop),
                    cols=W.Dropdown(options=names, value=cols, description="across the columns", **drop))

    def render(prompt, rows, cols):
        return comparison_grid(pipe, prompt, rows, cols, ref)

    def caption(prompt, rows, cols):
        return f"{rows} down, {cols} across; the rest fixed at guidance 7.5, 20 steps, seed 0, strength 0.6"

    return ImageExplorer(render, controls, scale=scale, caption=caption, title="Compare two parameters")
