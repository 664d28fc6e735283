"""Coloured boxes in the notebooks: "Leonardo says", "Try it", "Note", "GPU only", and the verdict of
a "Try it" exercise (`check`).

Leonardo, the course's fox, steps in with an analogy or a warning; the other boxes invite the
learner to experiment, add a side remark, or say that a cell needs a CUDA GPU and was skipped.
Each helper returns a `Callout`, which Jupyter shows as HTML: the last expression of a cell shows it,
``display(...)`` shows it anywhere else, and outside a notebook it prints as plain text.

The text takes a little Markdown: ``**bold**``, ``*italic*`` and ```code```; blank lines start a
new paragraph. Everything else is escaped, so ``<`` and ``&`` show as themselves. The colours are
semi-transparent, which reads well on JupyterLab's light and dark themes alike.
"""

from __future__ import annotations

import base64
import functools
import html
import re
from pathlib import Path

from .errors import CourseInputError
from .paths import ASSETS

__all__ = ["callout", "check", "gpu_skip", "leonardo_icon_path", "leonardo_says"]

_ICON_PATH = ASSETS / "leonardo.png"
_ICON_PX = 56

# kind -> (default title, accent colour as "r, g, b")
_KINDS = {
    "leonardo": ("Leonardo says", "240, 122, 38"),
    "try": ("Try it", "46, 160, 67"),
    "note": ("Note", "56, 132, 244"),
    "gpu": ("GPU only", "128, 128, 128"),
    "pass": ("Well done", "46, 160, 67"),
    "retry": ("Not yet", "207, 34, 39"),
}
_ALIASES = {"try it": "try", "gpu only": "gpu", "leonardo says": "leonardo"}


class Callout:
    """A box that Jupyter shows as HTML (``_repr_html_``) and that prints as plain text elsewhere.

    ``.data`` holds the HTML, as in `IPython.display.HTML` (not imported here: ``import course_utils``
    stays quick outside Jupyter).
    """

    def __init__(self, html_text: str, plain: str):
        self.data = html_text
        self.plain = plain

    def _repr_html_(self) -> str:
        return self.data

    def __repr__(self) -> str:
        return self.plain

    def _repr_pretty_(self, p, cycle) -> None:  # IPython's text/plain display
        p.text(self.plain)


def leonardo_icon_path() -> Path:
    r"""Path of Leonardo the fox's icon, ``assets/leonardo.png`` (256×256 RGBA).

    Introduced in chapter 1, where Leonardo first speaks.

    Returns:
        `pathlib.Path`: the icon's absolute path (drawn by ``assets/make_assets.py``).
    """
    return _ICON_PATH


@functools.lru_cache(maxsize=1)
def icon_img_tag() -> str:
    """The icon as an <img> tag with a base64 data URI, read once per kernel."""
    try:
        data = base64.b64encode(_ICON_PATH.read_bytes()).decode("ascii")
    except OSError:  # the icon is missing: Leonardo still speaks, as an emoji
        return f'<span style="font-size:{_ICON_PX * 0.7:.0f}px;line-height:1;flex:none">🦊</span>'
    return (
        f'<img src="data:image/png;base64,{data}" alt="Leonardo the fox" width="{_ICON_PX}" '
        f'height="{_ICON_PX}" style="flex:none;width:{_ICON_PX}px;height:{_ICON_PX}px;margin:0">'
    )


_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.DOTALL)
_ITALIC = re.compile(r"(?<![\*\w])\*(?=[^\s\*])(.+?)(?<=[^\s\*])\*(?![\*\w])", re.DOTALL)
_CODE_STYLE = (
    "font-family:var(--jp-code-font-family, monospace);font-size:0.92em;"
    "background:rgba(127, 127, 127, 0.16);padding:0.05em 0.3em;border-radius:3px"
)


def _inline(text: str) -> str:
    """Escape ``text`` and turn **bold**, *italic* and `code` into HTML."""
    parts = _CODE.split(text)  # even indices: prose; odd indices: the insides of `code`
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f'<code style="{_CODE_STYLE}">{html.escape(part)}</code>')
        else:
            prose = html.escape(part)
            prose = _BOLD.sub(r"<strong>\1</strong>", prose)
            prose = _ITALIC.sub(r"<em>\1</em>", prose)
            out.append(prose)
    return "".join(out)


def _to_html(text: str) -> str:
    """Light Markdown to HTML: paragraphs separated by blank lines, inline marks inside."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(f'<p style="margin:0.35em 0 0 0">{_inline(p)}</p>' for p in paragraphs)


def _check_text(text: object, where: str) -> str:
    if not isinstance(text, str):
        raise CourseInputError(
            f"{where} expects the text as a str, got a {type(text).__name__}; e.g. "
            f'{where}("your sentence here").'
        )
    if not text.strip():
        raise CourseInputError(f"{where} got empty text: give it a sentence to show.")
    return text


def _box(kind: str, title: str, text: str, icon: str = "") -> Callout:
    colour = _KINDS[kind][1]
    style = (
        f"display:flex;gap:12px;align-items:flex-start;margin:10px 0;padding:10px 14px;"
        f"border:1px solid rgba({colour}, 0.35);border-left:6px solid rgba({colour}, 0.85);"
        f"border-radius:8px;background:rgba({colour}, 0.10);"
        "color:var(--jp-content-font-color1, inherit);"
        "font-family:var(--jp-content-font-family, inherit);line-height:1.5"
    )
    heading = (
        f'<div style="font-weight:bold;color:rgb({colour})">'
        f"{html.escape(title)}</div>"
    )
    body = f'<div style="min-width:0">{heading}{_to_html(text)}</div>'
    html_text = f'<div class="cu-callout cu-callout-{kind}" style="{style}">{icon}{body}</div>'
    plain = f"[{title}] " + " ".join(text.split())
    return Callout(html_text, plain)


def leonardo_says(text: str) -> Callout:
    r"""A "Leonardo says" box: the course's fox explains an idea with an analogy.

    Introduced in chapter 1; every chapter has one or two.

    Args:
        text (`str`):
            What Leonardo says. ``**bold**``, ``*italic*`` and ```code``` are rendered; a blank
            line starts a new paragraph; any HTML is shown as text, not run.

    Returns:
        `Callout`: a rounded box with a soft orange bar, Leonardo's icon and the text.

    Examples:
        >>> import course_utils as cu
        >>> cu.leonardo_says("A diffusion model is a **patient restorer**.")
        [Leonardo says] A diffusion model is a **patient restorer**.
    """
    text = _check_text(text, "leonardo_says")
    return _box("leonardo", _KINDS["leonardo"][0], text, icon=icon_img_tag())


def callout(kind: str, title: str | None, text: str) -> Callout:
    r"""A coloured box: "Try it" (green), "Note" (blue), "GPU only" (grey) or "Leonardo says".

    Introduced in chapter 1 and used in every chapter.

    Args:
        kind (`str`):
            ``"try"``, ``"note"``, ``"gpu"`` or ``"leonardo"`` (the titles "Try it", "GPU only"
            and "Leonardo says" are accepted too, in any case).
        title (`str`, *optional*):
            The box's heading; ``None`` uses the kind's own ("Try it", "Note", ...).
        text (`str`):
            The box's text, with the same light Markdown as `leonardo_says`.

    Returns:
        `Callout`: the box.

    Raises:
        `CourseInputError`: for an unknown ``kind``, a ``title`` that is not a string, or empty text.

    Examples:
        >>> cu.callout("try", None, "Move the *steps* slider to 5, then to 50.")
        [Try it] Move the *steps* slider to 5, then to 50.
    """
    key = kind.strip().lower() if isinstance(kind, str) else None
    key = _ALIASES.get(key, key)
    if key not in _KINDS:
        raise CourseInputError(
            f"callout kind must be one of {sorted(_KINDS)}, got {kind!r}; "
            'e.g. callout("note", None, "...").'
        )
    if title is not None and not isinstance(title, str):
        raise CourseInputError(f"callout title must be a str or None, got a {type(title).__name__}.")
    text = _check_text(text, "callout")
    icon = icon_img_tag() if key == "leonardo" else ""
    return _box(key, title or _KINDS[key][0], text, icon=icon)


def gpu_skip(what_it_would_show: str) -> Callout:
    r"""The "GPU only" box a notebook shows in place of a cell that needs a CUDA GPU.

    Introduced in chapter 0 (welcome), used wherever real Stable Diffusion would run.

    Args:
        what_it_would_show (`str`):
            What the cell would show on a GPU, as a phrase that completes "it would show ...",
            e.g. ``"MAU drawn by Stable Diffusion 1.5 at 512×512"``.

    Returns:
        `Callout`: a grey box saying the cell was skipped and what it would show.

    Examples:
        >>> cu.gpu_skip("four 512×512 pictures from Stable Diffusion 1.5")
        [GPU only] This cell was skipped: no CUDA GPU is present on this computer. On a GPU it would show four 512×512 pictures from Stable Diffusion 1.5.
    """  # noqa: E501
    what = _check_text(what_it_would_show, "gpu_skip").strip().rstrip(".")
    text = (
        "This cell was skipped: no CUDA GPU is present on this computer. "
        f"On a GPU it would show {what}."
    )
    return _box("gpu", _KINDS["gpu"][0], text)


def check(passed, success: str, hint: str) -> Callout:
    r"""The verdict of a "Try it" exercise: a green box with `success` when `passed` is true, else a
    red one with `hint` (what to change). Never a traceback: an exercise is a question, not a test.

    Introduced in chapter 0; every practical chapter's exercises end with it. With the setting
    ``COURSE_STRICT_CHECKS=1`` (the course's tests, with the embedded model) a red verdict raises
    `AssertionError` instead, so that an exercise whose suggested values stop passing is noticed.

    Args:
        passed (`bool`): whether the learner's answer or picture passes.
        success (`str`): what the green box says.
        hint (`str`): what the red box says: what happened and what to try.

    Returns:
        `Callout`: the box (the cell shows it when it is the cell's last value).

    Examples:
        >>> cu.check(2 + 2 == 4, "Right: four.", "Count again.")
        [Well done] Right: four.
    """
    import os

    if not isinstance(success, str) or not isinstance(hint, str):
        raise CourseInputError("check(passed, success, hint) takes two sentences (str): what to say when it passes, "
                               "and what to say when it does not.")
    _check_text(success if passed else hint, "check")
    if not passed and os.environ.get("COURSE_STRICT_CHECKS", "").strip() == "1":
        raise AssertionError(f"a Try-it check failed with its suggested values: {hint}")
    return _box("pass", "✅ " + _KINDS["pass"][0], success) if passed else _box("retry", "❌ " + _KINDS["retry"][0],
                                                                              hint)
