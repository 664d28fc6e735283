"""Sliders that redraw a picture: the explorers of the practical path.

Taught in: chapter 7 (the parameters), and used in chapters 5, 8 and 9.

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
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import ipywidgets as W
from PIL import Image

from .errors import CourseInputError, CourseSetupError


def png_bytes(img: Image.Image, scale: int = 1) -> bytes:
    """PNG bytes of `img`, enlarged `scale` times with crisp (nearest-neighbour) pixels."""
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def slider(description: str, value, lo, hi, step=1, **kw) -> W.Widget:
    """An int or float slider with ``continuous_update=False`` and a readable label width."""
    cls = W.IntSlider if all(isinstance(v, int) for v in (value, lo, hi, step)) else W.FloatSlider
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
    """

    def __init__(self, render: Callable[..., Image.Image], controls: dict[str, W.Widget], scale: int = 4,
                 cache_size: int = 128, caption: Callable[..., str] | None = None, title: str | None = None):
        self.render = render
        self.controls = controls
        self.scale = scale
        self.caption = caption
        self._cache: OrderedDict[tuple, Image.Image] = OrderedDict()
        self._cache_size = cache_size
        self.image = W.Image(format="png", layout=W.Layout(border="1px solid #ccc"))
        self.message = W.HTML()
        self.last_image: Image.Image | None = None
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
        key = tuple(sorted((k, repr(v)) for k, v in vals.items()))
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
            self.message.value = f"<span style='color:#c0392b'>⚠️ {html.escape(str(e))}</span>"
            return None
        self.image.value = png_bytes(img, self.scale)
        self.last_image = img
        self.last_seconds = time.perf_counter() - t0
        self.history.append((self.last_seconds, hit))
        text = self.caption(**vals) if self.caption else ""
        self.message.value = (f"<small>{html.escape(text)} ({'cached' if hit else f'{self.last_seconds:.2f} s'})"
                              "</small>")
        return img

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)


def save_button(get_image: Callable[[], Image.Image | None], path: str | Path | Callable[[], Path],
                description: str = "Save", dpi: int | None = None,
                saver: Callable[[Image.Image, Path], Path] | None = None) -> W.VBox:
    """A button that saves the current picture and says where it went (or why it could not)."""
    button = W.Button(description=description, icon="download", button_style="success")
    status = W.HTML()

    def on_click(_b=None):
        img = get_image()
        if img is None:
            status.value = "Nothing to save yet: fix the settings above first."
            return
        target = Path(path() if callable(path) else path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if saver is not None:
            saver(img, target)
        else:
            img.save(target, dpi=(dpi, dpi)) if dpi else img.save(target)
        status.value = f"Saved <code>{html.escape(str(target))}</code> ({img.width} x {img.height} px)."

    button.on_click(on_click)
    box = W.VBox([button, status])
    box.click = on_click  # lets a test (or a cell) press the button without a browser
    box.status = status
    return box
