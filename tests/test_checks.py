"""The one set of argument checks (course_utils.checks): what passes, what fails, and what the message says."""

import numpy as np
import pytest

from course_utils import checks
from course_utils.errors import CourseInputError


def test_whole():
    assert checks.whole("steps", 20, 1, 100) == 20
    assert checks.whole("steps", np.int64(3), 1, 100) == 3
    assert checks.whole("steps", 20.0, 1, 100, floats_ok=True) == 20
    for bad in (True, 2.5, "3", 0, 101, None, float("nan")):
        with pytest.raises(CourseInputError, match=r"steps must be a whole number from 1 to 100, got steps="):
            checks.whole("steps", bad, 1, 100)
    with pytest.raises(CourseInputError, match="whole number from 1 to 100, got steps=20.0"):
        checks.whole("steps", 20.0, 1, 100)
    with pytest.raises(CourseInputError, match=r"n must be a positive whole number, got n=0\. try 4"):
        checks.whole("n", 0, 1, hint="try 4")
    assert checks.whole("n", 10**9, 1) == 10**9


def test_number():
    assert checks.number("g", 7, 0, 30) == 7.0 and isinstance(checks.number("g", 7, 0, 30), float)
    for bad in (True, "7", float("inf"), -1, 31):
        with pytest.raises(CourseInputError, match=r"g must be a number in \[0, 30\], got g="):
            checks.number("g", bad, 0, 30)
    with pytest.raises(CourseInputError, match=r"in \(0, 1\]"):
        checks.number("strength", 0, 0, 1, lo_open=True)
    assert checks.number("strength", 1, 0, 1, lo_open=True) == 1.0
    with pytest.raises(CourseInputError, match="above 0"):
        checks.number("scale", 0, 0, lo_open=True)


def test_one_of_colour_pair():
    assert checks.one_of("style", "manga", ("manga", "pixel")) == "manga"
    with pytest.raises(CourseInputError, match="Did you mean 'manga'"):
        checks.one_of("style", "mnga", ("manga", "pixel"))
    with pytest.raises(CourseInputError, match="one of 'manga', 'pixel'"):
        checks.one_of("style", 3, ("manga", "pixel"))
    assert checks.colour("ink", np.array([1, 2, 3])) == (1, 2, 3)
    with pytest.raises(CourseInputError, match=r"e\.g\. ink=\(0, 0, 0\)"):
        checks.colour("ink", (0, 0, 256))
    assert checks.pair("size", [3, 4], 1, 10) == (3, 4)
    with pytest.raises(CourseInputError, match="pair of whole numbers from 1 to 10"):
        checks.pair("size", (3, 40), 1, 10)
