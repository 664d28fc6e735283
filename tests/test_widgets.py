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


# --- chapter 7's explorers, on a tiny random pipeline (fast, offline) ------------------------------
import pytest  # noqa: E402

from course_utils import widgets  # noqa: E402


def test_dashboard_redraws_on_every_knob_and_caches(tiny_pipe):
    ref = Image.new("RGB", (48, 40), (200, 120, 40))
    d = widgets.parameter_dashboard(tiny_pipe, "a cat", reference=ref, steps=4)
    assert d.controls["strength"].disabled  # text-to-image: strength does not apply
    seen = {d.image.value}
    for name, value in (("guidance", 3.0), ("steps", 5), ("seed", 7), ("prompt", "a dog")):
        d.controls[name].value = value
        assert d.image.value not in seen, f"moving {name} did not change the picture"
        seen.add(d.image.value)
    calls = len([h for h in d.history if not h[1]])
    d.controls["strength"].value = 0.3  # ignored from noise: served from the cache, no new drawing
    assert len([h for h in d.history if not h[1]]) == calls
    d.controls["start"].value = "picture"
    assert not d.controls["strength"].disabled and "of 5 steps run" in d.message.value
    assert d.last_image.width > d.last_image.height  # reference | result, side by side
    d.controls["guidance"].value = 7.5
    d.controls["guidance"].value = 3.0  # seen before
    assert d.history[-1][1] is True


def test_dashboard_reports_a_strength_too_small_for_the_steps(tiny_pipe):
    d = widgets.parameter_dashboard(tiny_pipe, "a cat", start="picture", steps=4, strength=0.5)
    before = d.image.value
    d.controls["strength"].value = 0.1
    assert "int(steps x strength) = 0" in d.message.value and d.image.value == before
    with pytest.raises(widgets.CourseInputError, match="start='photo'"):
        widgets.parameter_dashboard(tiny_pipe, start="photo")


def test_comparison_grid_and_explorer(tiny_pipe):
    small = {"guidance": (1.0, 5.0), "seed": (0, 1), "steps": (2, 3), "strength": (0.5, 1.0)}
    g = widgets.comparison_grid(tiny_pipe, "a cat", "guidance", "seed", values=small, defaults={"steps": 2})
    assert g.size == (70 + 2 * 132, 44 + 2 * 132)
    with pytest.raises(widgets.CourseInputError, match="pick two different"):
        widgets.comparison_grid(tiny_pipe, "a cat", "seed", "seed")
    with pytest.raises(widgets.CourseInputError, match="choose one of"):
        widgets.comparison_grid(tiny_pipe, "a cat", "colour", "seed")


def test_a_starting_value_outside_the_slider_is_refused_not_moved(tiny_pipe):
    import numpy as np

    for value in (60, -1, "20", None, True):
        with pytest.raises(CourseInputError, match="outside the slider's range 0 to 50"):
            slider("seed", value, 0, 50)
    assert slider("seed", np.int64(7), 0, 50).value == 7 and type(slider("seed", 7, 0, 50).value) is int
    assert slider("guidance", 7, 0.0, 15.0, 0.5).value == 7.0
    with pytest.raises(CourseInputError, match="guidance scale: the starting value 40"):
        widgets.parameter_dashboard(tiny_pipe, "a cat", guidance=40)
    with pytest.raises(CourseInputError, match="steps: the starting value 0"):
        widgets.parameter_dashboard(tiny_pipe, "a cat", steps=0)


def test_a_failing_render_function_shows_its_error_in_the_widget():
    def render(level):
        if level > 100:
            raise ZeroDivisionError("my own function failed")
        return Image.new("RGB", (8, 8), (level, 0, 0))

    controls = {"level": slider("level", 10, 0, 255)}
    ex = ImageExplorer(render, controls)
    before = ex.image.value
    controls["level"].value = 200  # ipywidgets would log this in JupyterLab's log only
    assert "could not be drawn: ZeroDivisionError: my own function failed" in ex.message.value
    assert ex.image.value == before and isinstance(ex.last_error, ZeroDivisionError)
    controls["level"].value = 20
    assert ex.last_error is None and "could not be drawn" not in ex.message.value


def test_large_pictures_are_shrunk_for_the_screen_and_small_ones_enlarged():
    assert widgets.fit_display(Image.new("RGB", (64, 64)), 4).size == (256, 256)
    assert widgets.fit_display(Image.new("RGB", (512, 512)), 4).size == (512, 512)  # 2048 would be too big
    assert widgets.fit_display(Image.new("RGB", (2048, 1024)), 1).size == (768, 384)
    big = Image.new("RGB", (512, 512), "white")
    big.paste((200, 0, 0), (0, 0, 256, 512))  # left half red
    grid = widgets.labelled_grid([[big]], ["a"], ["b"], cell=128)
    left, top = 70, 44
    assert grid.getpixel((left + 20, top + 64)) == (200, 0, 0)
    assert grid.getpixel((left + 108, top + 64)) == (255, 255, 255)  # the whole picture, not its corner


def test_comparison_values_are_checked_before_drawing(tiny_pipe):
    import numpy as np

    for bad, says in ((("seed", (1.5,)), "whole number"), (("steps", (0, 2)), "from 1 to 1000, got"),
                      (("strength", (0.5, 2)), r"in \[0.01, 1\], got"), (("seed", "0123"), "tuple of 1 to 8"),
                      (("colour", (1,)), "not a parameter")):
        with pytest.raises(CourseInputError, match=says):
            widgets.comparison_grid(tiny_pipe, "a cat", "guidance", "seed", values=dict([bad]))
    g = widgets.comparison_grid(tiny_pipe, "a cat", "guidance", "seed", values={
        "guidance": (np.float32(1.0),), "seed": (np.int64(0),)}, defaults={"steps": 1})
    assert g.size == (70 + 132, 44 + 132)


def test_the_dashboard_starts_at_the_models_own_steps_and_guidance(tiny_pipe):
    import dataclasses

    from course_utils.models import REGISTRY

    turbo = dataclasses.replace(REGISTRY["sd-turbo"], resolution=16)  # its steps and guidance, the tiny size
    from course_utils.models import remember

    pipe = remember(type(tiny_pipe)(**tiny_pipe.components), turbo)  # the same parts, recorded as SD-Turbo
    d = widgets.parameter_dashboard(pipe, "a cat")
    assert (d.controls["steps"].value, d.controls["guidance"].value) == (2, 0.0)


def test_set_moves_controls_from_code_and_refuses_out_of_range_values(tiny_pipe):
    import html

    d = widgets.parameter_dashboard(tiny_pipe, "a cat", steps=3)
    shown = d.image.value
    assert d.set(guidance=3.0, seed=5) is True
    assert (d.controls["guidance"].value, d.controls["seed"].value) == (3.0, 5) and d.image.value != shown
    for bad, says in (({"guidance": 40}, "outside the slider's range 0 to 15"), ({"seed": -1}, "outside"),
                      ({"colour": 1}, "not a control"), ({"start": "photo"}, "not one of the choices"),
                      ({"steps": "4"}, "outside")):
        before = d.values()
        assert d.set(**bad) is False and says in html.unescape(d.message.value)
        assert d.values() == before  # nothing moved, not even the good values
    same = widgets.text_to_image("a cat", pipe=tiny_pipe, guidance=3.0, steps=3, seed=5).image
    assert same.tobytes() == d.last_image.tobytes()  # the dashboard draws what text_to_image draws


def test_check_is_a_green_or_red_box_and_strict_in_the_tests(monkeypatch):
    from course_utils import callouts

    monkeypatch.delenv("COURSE_STRICT_CHECKS", raising=False)
    green = callouts.check(True, "Right: four.", "Count again.")
    assert "Well done" in green.data and "Right: four." in green.plain
    red = callouts.check(False, "", "Count again.")
    assert "Not yet" in red.data and "Count again." in red.plain
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError, match="Count again"):
        callouts.check(False, "Right.", "Count again.")
    with pytest.raises(CourseInputError, match="two sentences"):
        callouts.check(True, None, "x")


def test_the_noise_and_strength_explorers_of_chapters_2_and_5(tiny_pipe):
    from course_utils.schedules import NoiseSchedule

    photo = Image.new("RGB", (48, 40), (200, 120, 40))
    schedules = {k: NoiseSchedule.from_kind(k) for k in ("linear", "cosine")}
    ex = widgets.noise_explorer(photo, schedules, t=10)
    clean_ish = ex.image.value
    assert ex.set(t=900) and ex.image.value != clean_ish and "ᾱ_t" in ex.message.value
    assert ex.render(900, "linear").size == ex.render(10, "cosine").size
    s = widgets.strength_explorer(photo, "a cat", pipe=tiny_pipe, strength=0.5)
    assert "10 of 20 passes" in s.message.value  # the tiny pipeline is no registry model: 20 steps
    assert s.set(strength=1.0) and "20 of 20 passes" in s.message.value
