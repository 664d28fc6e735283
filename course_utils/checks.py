"""The course's argument checks: one signature, one wording.

Every helper a learner calls checks what it was given at its entry and raises `CourseInputError`
with a message that names the argument, the value it got and what to use instead. The maths
underneath (chapter 2's steps, the schedules) trusts its inputs and reads like the papers.

Each check takes ``(name, value, ...)``, returns the value in the type the caller works with
(``int``, ``float``, a tuple), and adds ``hint`` (what to try) to the message.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

from .errors import CourseInputError

__all__ = ["is_whole", "is_number", "whole", "number", "one_of", "colour", "pair", "fail"]


def fail(name: str, value: Any, wanted: str, hint: str = "") -> CourseInputError:
    """The error for `name`=`value`: "<name> must be <wanted>, got <name>=<value>. <hint>"."""
    message = f"{name} must be {wanted}, got {name}={value!r}."
    return CourseInputError(f"{message} {hint}".strip())


def is_whole(value: Any, floats_ok: bool = False) -> bool:
    """An integer (not a bool); with `floats_ok`, also a float that is a whole number (20.0)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, Integral):
        return True
    return floats_ok and isinstance(value, Real) and math.isfinite(float(value)) and float(value).is_integer()


def is_number(value: Any) -> bool:
    """A finite real number that is not a bool."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(float(value))


def _span(lo, hi, lo_open: bool = False, hi_open: bool = False) -> str:
    if lo is None and hi is None:
        return ""
    if hi is None:
        return f" {'above' if lo_open else 'at least'} {lo:g}"
    if lo is None:
        return f" {'below' if hi_open else 'at most'} {hi:g}"
    return f" in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def whole(name: str, value: Any, lo: int | None = None, hi: int | None = None, *, hint: str = "",
          floats_ok: bool = False) -> int:
    """`value` as an int, from `lo` to `hi` (either may be None: no bound)."""
    if is_whole(value, floats_ok) and (lo is None or value >= lo) and (hi is None or value <= hi):
        return int(value)
    if lo is not None and hi is not None:
        wanted = f"a whole number from {lo} to {hi}"
    elif lo is not None:
        wanted = "a positive whole number" if lo == 1 else f"a whole number of at least {lo}"
    else:
        wanted = "a whole number" + (f" of at most {hi}" if hi is not None else "")
    raise fail(name, value, wanted, hint)


def number(name: str, value: Any, lo: float | None = None, hi: float | None = None, *, hint: str = "",
           lo_open: bool = False, hi_open: bool = False) -> float:
    """`value` as a float in [lo, hi] (open ends with `lo_open` / `hi_open`; None: no bound)."""
    ok = is_number(value)
    if ok:
        v = float(value)
        ok = (lo is None or (v > lo if lo_open else v >= lo)) and (hi is None or (v < hi if hi_open else v <= hi))
    if not ok:
        raise fail(name, value, "a number" + _span(lo, hi, lo_open, hi_open), hint)
    return float(value)


def one_of(name: str, value: Any, choices: Iterable[str], *, hint: str = "") -> str:
    """`value`, one of the strings `choices`; a near miss gets "did you mean ...?"."""
    choices = list(choices)
    if isinstance(value, str) and value in choices:
        return value
    close = difflib.get_close_matches(value, choices, n=1) if isinstance(value, str) else []
    guess = f" Did you mean {close[0]!r}?" if close else ""
    raise fail(name, value, "one of " + ", ".join(repr(c) for c in choices), (guess + " " + hint).strip())


def colour(name: str, value: Any) -> tuple[int, int, int]:
    """An (R, G, B) colour of whole numbers 0..255, as a tuple of ints."""
    if isinstance(value, (tuple, list)) or type(value).__name__ == "ndarray":
        if len(value) == 3 and all(is_whole(c) and 0 <= c <= 255 for c in value):
            return tuple(int(c) for c in value)
    raise fail(name, value, "an (R, G, B) colour with whole numbers 0..255", f"e.g. {name}=(0, 0, 0).")


def pair(name: str, value: Any, lo: int, hi: int, *, hint: str = "") -> tuple[int, int]:
    """A (width, height) pair of whole numbers from `lo` to `hi`."""
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(is_whole(v) and lo <= v <= hi for v in value):
        return int(value[0]), int(value[1])
    raise fail(name, value, f"a (width, height) pair of whole numbers from {lo} to {hi}", hint)
