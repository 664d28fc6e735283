"""Tests for course_utils.callouts and for Leonardo's icon."""

from __future__ import annotations

import base64
import importlib.util
import re

import numpy as np
import pytest
from PIL import Image

from course_utils import callouts
from course_utils.callouts import callout, gpu_skip, leonardo_icon_path, leonardo_says
from course_utils.errors import CourseInputError


def test_leonardo_says_has_the_icon_inline():
    box = leonardo_says("Noise is the canvas.")
    assert box._repr_html_() == box.data  # what Jupyter shows
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', box.data)
    assert match, "the icon must be inline as a data URI"
    assert base64.b64decode(match.group(1)) == leonardo_icon_path().read_bytes()
    assert "Leonardo says" in box.data and "Noise is the canvas." in box.data
    assert 'width="56"' in box.data


def test_markdown_is_converted_and_html_escaped():
    box = leonardo_says("A **patient** *restorer* runs `x = x - eps`. <script>alert('hi')</script> & more")
    html = box.data
    assert "<strong>patient</strong>" in html
    assert "<em>restorer</em>" in html
    assert re.search(r"<code[^>]*>x = x - eps</code>", html)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&amp; more" in html


def test_code_is_not_formatted_inside():
    html = leonardo_says("Use `**kwargs` and `a*b*c`, then **stop**.").data
    assert re.search(r"<code[^>]*>\*\*kwargs</code>", html)
    assert re.search(r"<code[^>]*>a\*b\*c</code>", html)
    assert "<strong>stop</strong>" in html


def test_paragraphs():
    html = leonardo_says("First idea,\nstill first.\n\nSecond idea.").data
    assert html.count("<p ") == 2 and "First idea, still first." in html


def test_plain_text_repr_for_consoles():
    box = callout("note", None, "Seeds repeat only on the same hardware.")
    assert repr(box) == "[Note] Seeds repeat only on the same hardware."


@pytest.mark.parametrize(
    "kind, title, colour",
    [
        ("try", "Try it", "46, 160, 67"),
        ("note", "Note", "56, 132, 244"),
        ("GPU only", "GPU only", "128, 128, 128"),
        ("Try it", "Try it", "46, 160, 67"),
    ],
)
def test_callout_kinds(kind, title, colour):
    html = callout(kind, None, "Some *text*.").data
    assert title in html and colour in html and "<em>text</em>" in html
    assert "data:image/png" not in html  # only Leonardo carries the icon
    assert "border-radius" in html


def test_callout_custom_title_is_escaped():
    html = callout("note", "Why <b>?", "text").data
    assert "Why &lt;b&gt;?" in html


def test_callout_leonardo_kind_matches_leonardo_says():
    assert callout("leonardo", None, "hi").data == leonardo_says("hi").data


def test_styles_read_on_light_and_dark_themes():
    html = leonardo_says("hi").data
    assert "rgba(240, 122, 38, 0.10)" in html  # a translucent tint, not a fixed light colour
    assert "var(--jp-content-font-color1" in html


def test_gpu_skip():
    box = gpu_skip("MAU drawn by Stable Diffusion 1.5 at 512×512.")
    assert "GPU only" in box.data and "no CUDA GPU" in box.data
    assert "it would show MAU drawn by Stable Diffusion 1.5 at 512×512." in box.data
    assert ".." not in box.data


@pytest.mark.parametrize(
    "call, hint",
    [
        (lambda: leonardo_says(""), "empty"),
        (lambda: leonardo_says(42), "str"),
        (lambda: callout("warning", None, "x"), "kind must be one of"),
        (lambda: callout(["note"], None, "x"), "kind must be one of"),
        (lambda: callout("note", 3, "x"), "title"),
        (lambda: gpu_skip("   "), "empty"),
    ],
)
def test_bad_input(call, hint):
    with pytest.raises(CourseInputError, match=hint):
        call()


def test_icon_is_cached():
    callouts.icon_img_tag.cache_clear()
    leonardo_says("one")
    leonardo_says("two")
    info = callouts.icon_img_tag.cache_info()
    assert info.misses == 1 and info.hits == 1


def test_icon_is_a_fox_on_transparent_background():
    icon = Image.open(leonardo_icon_path())
    assert icon.size == (256, 256) and icon.mode == "RGBA"
    arr = np.asarray(icon)
    assert arr[0, 0, 3] == 0 and arr[-1, -1, 3] == 0  # transparent corners
    opaque = arr[arr[..., 3] == 255][:, :3].astype(int)
    orange = (opaque[:, 0] > 200) & (opaque[:, 1] > 90) & (opaque[:, 1] < 150) & (opaque[:, 2] < 80)
    assert orange.mean() > 0.3  # mostly orange fur


def test_icon_matches_its_script(tmp_path):
    script = leonardo_icon_path().parent / "make_assets.py"
    spec = importlib.util.spec_from_file_location("make_assets", script)
    make_assets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_assets)
    fresh = make_assets.make_leonardo(tmp_path / "leonardo.png")
    committed = np.asarray(Image.open(leonardo_icon_path())).astype(int)
    assert np.abs(np.asarray(fresh).astype(int) - committed).max() <= 2
