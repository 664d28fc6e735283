import math

import numpy as np
import pytest
import torch
from PIL import Image

import course_utils.img2img as I
import course_utils.models as M
from course_utils.errors import CourseInputError


def _photo(seed=0, size=32):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))


@pytest.mark.parametrize("steps,strength", [(20, 1.0), (20, 0.5), (20, 0.33), (10, 0.75), (50, 0.02), (1, 1.0)])
def test_schedule_matches_diffusers_get_timesteps(pipe, steps, strength):
    i2i = M.as_image_to_image(pipe)
    i2i.scheduler.set_timesteps(steps)
    theirs, n = i2i.get_timesteps(steps, strength, "cpu")
    ours = I.strength_schedule(pipe.scheduler, steps, strength)
    assert torch.equal(ours.timesteps, theirs) and ours.steps_run == n == int(steps * strength)
    assert ours.t_start == steps - n and ours.first_timestep == int(theirs[0])
    ab = float(pipe.scheduler.alphas_cumprod[ours.first_timestep])
    assert ours.alpha_bar == ab and math.isclose(ours.signal ** 2 + ours.noise ** 2, 1.0, rel_tol=1e-9)


def test_strength_one_keeps_a_little_of_the_photo(pipe):
    s = I.strength_schedule(pipe.scheduler, 20, 1.0)
    assert s.first_timestep < pipe.scheduler.config.num_train_timesteps - 1  # 951, not 999
    assert 0 < s.signal < 0.2


@pytest.mark.parametrize("kwargs,match", [
    (dict(steps=20, strength=0.0), "strength"), (dict(steps=20, strength=1.5), "strength"),
    (dict(steps=20, strength=float("nan")), "strength"), (dict(steps=20, strength="high"), "strength"),
    (dict(steps=0, strength=0.5), "steps"), (dict(steps=2.5, strength=0.5), "steps"),
    (dict(steps=20, strength=0.04), "0 denoising steps"), (dict(steps=1000, strength=1.0), "beyond"),
])
def test_schedule_bad_inputs(pipe, kwargs, match):
    with pytest.raises(CourseInputError, match=match):
        I.strength_schedule(pipe.scheduler, **kwargs)


def test_schedule_needs_a_scheduler():
    with pytest.raises(CourseInputError, match="scheduler"):
        I.strength_schedule("ddim", 20, 0.5)


def test_ssim_identical_unrelated_and_formats():
    a, b = _photo(0), _photo(1)
    assert I.ssim(a, a) == pytest.approx(1.0)
    assert abs(I.ssim(a, b)) < 0.2
    arr = np.asarray(a)
    assert I.ssim(arr, a) == pytest.approx(1.0)
    assert I.ssim(arr.astype(np.float32) / 255, a) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("a,b,match", [
    (_photo(0, 32), _photo(0, 16), "same size"),
    (Image.new("RGB", (5, 5)), Image.new("RGB", (5, 5)), "at least 7"),
    ("cat.jpg", _photo(0), "PIL image"),
    (np.zeros((8, 8)), np.zeros((8, 8)), "array"),
])
def test_ssim_bad_inputs(a, b, match):
    with pytest.raises(CourseInputError, match=match):
        I.ssim(a, b)


def test_sweep_rows_and_means(pipe):
    rows = I.strength_sweep(_photo(3, 40), "a cat", [0.5, 1.0], pipe=pipe, seed=4, num_seeds=2, steps=4,
                            size=16)
    assert [(r["strength"], r["seed"], r["steps_run"]) for r in rows] == [
        (0.5, 4, 2), (0.5, 5, 2), (1.0, 4, 4), (1.0, 5, 4)]
    assert all(r["image"].size == (16, 16) and -1 <= r["ssim"] <= 1 and math.isnan(r["clip"]) for r in rows)
    means = I.sweep_means(rows)
    assert list(means["strength"]) == [0.5, 1.0]
    assert means["ssim"][0] == pytest.approx((rows[0]["ssim"] + rows[1]["ssim"]) / 2)


@pytest.mark.parametrize("kwargs,match", [
    (dict(strengths=[]), "strengths"), (dict(strengths=[0.5, 0]), "strength"),
    (dict(strengths=[0.5], num_seeds=0), "num_seeds"),
])
def test_sweep_bad_inputs(pipe, kwargs, match):
    with pytest.raises(CourseInputError, match=match):
        I.strength_sweep(_photo(), "a cat", pipe=pipe, size=16, **kwargs)


def test_sweep_means_bad_rows():
    with pytest.raises(CourseInputError, match="strength_sweep"):
        I.sweep_means([{"strength": 0.5}])
