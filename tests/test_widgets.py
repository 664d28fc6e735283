from PIL import Image

from course_utils.errors import CourseInputError
from course_utils.widgets import ImageExplorer, save_button, slider


def _render(level, size):
    if size > 50:
        raise CourseInputError(f"size={size} is too big: choose at most 50.")
    return Image.new("RGB", (size, size), (level, 0, 0))


def test_slider_updates_image_in_place_and_caches():
    calls = []
    controls = {"level": slider("level", 10, 0, 255), "size": slider("size", 8, 1, 64)}
    ex = ImageExplorer(lambda **kw: calls.append(kw) or _render(**kw), controls, scale=2)
    first = ex.image.value
    widget = ex.image
    controls["level"].value = 200
    assert ex.image is widget and ex.image.value != first  # same widget, new picture
    assert len(calls) == 2
    controls["level"].value = 10  # seen before: from the cache, no new call
    assert len(calls) == 2 and ex.image.value == first and ex.history[-1][1] is True
    assert controls["level"].continuous_update is False


def test_bad_value_shows_a_message_and_keeps_the_picture():
    controls = {"level": slider("level", 10, 0, 255), "size": slider("size", 8, 1, 64)}
    ex = ImageExplorer(_render, controls)
    before = ex.image.value
    controls["size"].value = 60
    assert "size=60 is too big" in ex.message.value and ex.image.value == before


def test_save_button_writes_the_file(tmp_path):
    img = Image.new("RGB", (4, 4), "red")
    box = save_button(lambda: img, tmp_path / "out" / "x.png", dpi=300)
    box.click()
    saved = Image.open(tmp_path / "out" / "x.png")
    assert round(saved.info["dpi"][0]) == 300 and "Saved" in box.status.value
    empty = save_button(lambda: None, tmp_path / "y.png")
    empty.click()
    assert "Nothing to save" in empty.status.value and not (tmp_path / "y.png").exists()
