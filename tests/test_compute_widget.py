"""Chapter 6's "will it run on my computer?" widget, driven without a browser."""

from __future__ import annotations

import pytest

from course_utils import compute
from course_utils.compute_widget import estimator_widget, format_seconds, match_gpu, this_machine
from course_utils.errors import CourseInputError


def test_changing_a_control_updates_the_result_at_once():
    w = estimator_widget("sd15", 512, 30, "t4")
    first = w.result.value
    assert "Stable Diffusion 1.5" in first and "fits" in first and w.last["fits"] is True
    w.controls["steps"].value = 60
    assert w.result.value != first and w.last["steps"] == 60
    assert w.last["flops_total"] > 1.9 * compute.estimate("sd15", 512, 30, "t4")["flops_total"]
    w.controls["model"].value = "sdxl"
    assert "Stable Diffusion XL" in w.result.value and w.last["model"] == "sdxl"
    w.controls["guidance"].value = False
    assert "guidance off" in w.result.value


def test_a_picture_too_big_for_the_card_says_it_does_not_fit():
    w = estimator_widget("sdxl", 2048, 30, "rtx3060")
    assert w.last["fits"] is False
    assert "does not fit" in w.result.value


def test_an_impossible_choice_shows_a_message_instead_of_raising():
    w = estimator_widget("sd15", 512, 30, "cpu", cpu_flop_rate=1e11)
    w.controls["resolution"].value = 100  # not a multiple of 8
    assert w.last is None and "multiple of 8" in w.error
    assert "cannot be estimated" in w.result.value
    w.controls["resolution"].value = 256  # back to a good value: the answer returns
    assert w.last is not None and w.last["resolution"] == (256, 256) and w.error is None


def test_cpu_time_uses_the_measured_rate():
    w = estimator_widget("sd15", 512, 20, "cpu", cpu_flop_rate=1e11)
    slow = w.last["seconds_typical"]
    assert slow == pytest.approx(w.last["flops_total"] / 1e11)
    assert "this CPU" in w.controls["device"].label


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"model": "sd3"}, "model='sd3'"),
    ({"device": "rtx9090"}, "device='rtx9090'"),
    ({"steps": 0}, "steps must be"),
    ({"resolution": 4096}, "resolution must be"),
    ({"cpu_flop_rate": -1}, "cpu_flop_rate"),
    ({"guidance": "yes"}, "guidance must be"),
])
def test_bad_starting_values_are_clear_errors(kwargs, message):
    with pytest.raises(CourseInputError, match=message):
        estimator_widget(**kwargs)


@pytest.mark.parametrize(("name", "mem", "key"), [
    ("Tesla T4", 15.0, "t4"), ("NVIDIA GeForce RTX 4090", 24.0, "rtx4090"),
    ("NVIDIA A100-SXM4-80GB", 79.2, "a100-80gb"), ("NVIDIA A100-PCIE-40GB", 39.4, "a100-40gb"),
    ("NVIDIA H100 80GB HBM3", 79.1, "h100-sxm"), ("NVIDIA GeForce GTX 1080", 8.0, None),
])
def test_match_gpu(name, mem, key):
    assert match_gpu(name, mem) == key


def test_this_machine_and_format_seconds():
    m = this_machine()
    assert m["device"] is None or m["device"] == "cpu" or m["device"] in compute.GPUS
    assert isinstance(m["description"], str) and m["description"]
    assert format_seconds(0.0042) == "4.2 ms" and format_seconds(2.5) == "2.5 s"
    assert format_seconds(300) == "5.0 min" and format_seconds(7200) == "2.0 h"
    with pytest.raises(CourseInputError):
        format_seconds(-1)


def test_time_chart_puts_the_measured_model_beside_the_estimates():
    from course_utils import compute_widget as W

    fig, times = W.time_chart(2e11, 0.25)
    labels = list(times)
    assert labels[0] == "this computer's processor" and "measured" in labels[-1] and times[labels[-1]] == 0.25
    assert times[labels[0]] > max(list(times.values())[1:-1])  # the CPU is slower than every card in the chart


def test_the_practical_charts_of_chapter_6_draw():
    from course_utils import compute_widget as W

    assert len(W.canvas_figure().axes) == 2
    assert len(W.memory_figure({"sd15": "SD 1.5", "embedded": "the course's model"}).axes) == 1
