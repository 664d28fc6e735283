"""The practical path's one-line t-shirt studio: sliders redraw, presets apply, bad uploads are told,
exports never replace an earlier file."""

import datetime
import html
import re

import pytest
from PIL import Image

import course_utils as cu
from course_utils import styles as S


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    pipe = cu.load_pipeline("embedded", task="image-to-image", verbose=False)
    return cu.tshirt_studio(pipe=pipe, out_dir=tmp_path_factory.mktemp("shirts"))


def _text(widget) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", widget.value))


def test_starts_from_the_photo_and_keeps_mau(studio):
    assert studio.controls["source"].value == "photo"
    sprite, method = studio.design(**studio.values())
    assert method == "ellipse"
    assert cu.capstone.identity(cu.mau(), sprite) > 0.4
    assert studio.last_image is not None and "colours" in studio.message.value


def test_a_slider_and_a_preset_redraw_the_design(studio):
    before = studio.last_image
    studio.controls["grid"].value = 20
    after = studio.last_image
    assert after.tobytes() != before.tobytes(), studio.message.value
    studio.controls["preset"].value = "night"
    assert studio.controls["shirt"].value == "#{:02x}{:02x}{:02x}".format(*S.PRESETS["night"]["shirt_colour"])
    assert studio.controls["dither"].value is True
    assert studio.last_image.tobytes() != after.tobytes()
    studio.controls["preset"].value = "arcade"


def test_the_ai_redraw_is_one_menu_away(studio):
    studio.controls["source"].value = "redraw"
    sprite, method = studio.design(**studio.values())
    assert method in ("flood", "ellipse")
    colours = {c for _, c in sprite.getcolors(4096) if c[3] == 255}
    assert len(colours) <= 15 and S.is_9bit(list(colours)).all()
    studio.controls["source"].value = "photo"


def test_a_broken_upload_is_told_in_the_studio(studio):
    fake = {"name": "cat.jpg", "type": "image/jpeg", "size": 21, "content": memoryview(b"this is not a picture"),
            "last_modified": datetime.datetime(2024, 1, 1)}
    studio.controls["upload"].value = (fake,)
    assert "⚠️" in studio.message.value and "cat" in _text(studio.message).lower()
    studio.controls["upload"].value = ()
    assert "⚠️" not in studio.message.value


def test_export_writes_a_print_file_and_never_replaces_one(studio):
    first = studio.export.click()
    second = studio.export.click()
    assert first != second and first.exists() and second.exists()
    report = S.check_print_file(second)
    assert report["ok"], report
    with Image.open(first) as a:
        assert a.size == (4500, 5400)


@pytest.fixture(scope="module")
def manga(tmp_path_factory):
    pipe = cu.load_pipeline("embedded", task="image-to-image", verbose=False)
    return cu.manga_studio(pipe=pipe, out_dir=tmp_path_factory.mktemp("pages"))


def test_manga_studio_redraws_on_a_slider_and_states_the_likeness(manga):
    before = manga.last_image
    assert "likeness to the photo" in manga.message.value
    manga.controls["strength"].value = 0.9
    assert manga.last_image is not None and manga.last_image.tobytes() != before.tobytes()
    assert manga.likeness("MAU", 0.9) < manga.likeness("MAU", 0.1)  # more frost, less of MAU


def test_manga_studio_refuses_a_broken_upload_and_keeps_mau(manga):
    fake = {"name": "my_cat.jpg", "type": "image/jpeg", "size": 21, "content": memoryview(b"not a picture at all"),
            "last_modified": datetime.datetime(2024, 1, 1)}
    manga.upload.value = (fake,)
    assert "⚠️" in manga.upload_status.value and list(manga.photos) == ["MAU"]


def test_manga_page_is_a4_grey_only_and_never_replaced(manga):
    first, second = manga.save.click(), manga.save.click()
    assert first != second
    with Image.open(second) as page:
        assert page.size == (2480, 3508) and round(page.info["dpi"][0]) == 300
        colours = page.convert("RGB").getcolors(1 << 24)
    assert all(r == g == b for _, (r, g, b) in colours), "a manga page is printed in black ink only"
