"""Tests for course_utils.schedules: the betas and ᾱ of chapter 2 against diffusers and fixed values."""

import dataclasses
import math
import re

import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler

from course_utils.errors import CourseInputError
from course_utils.schedules import (
    NoiseSchedule,
    alphas_cumprod,
    cosine_betas,
    linear_betas,
    make_betas,
    scaled_linear_betas,
    snr,
)

# (diffusers' beta_schedule, its settings): the schedules of DDPM, Stable Diffusion and Improved DDPM.
SCHEDULES = [
    ("linear", {"beta_start": 1e-4, "beta_end": 0.02}),
    ("scaled_linear", {"beta_start": 0.00085, "beta_end": 0.012}),
    ("squaredcos_cap_v2", {}),
]
IDS = [kind for kind, _ in SCHEDULES]
TOL = 1e-6


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.double() - b.double()).abs().max().item()


# ---------------------------------------------------------------- parity with diffusers


@pytest.mark.parametrize("scheduler_cls", [DDPMScheduler, DDIMScheduler])
@pytest.mark.parametrize("kind,kw", SCHEDULES, ids=IDS)
def test_betas_and_alphas_cumprod_match_diffusers(scheduler_cls, kind, kw):
    theirs = scheduler_cls(beta_schedule=kind, **kw)
    ours = NoiseSchedule.from_kind(kind, **kw)
    assert ours.betas.dtype == ours.alphas.dtype == ours.alphas_cumprod.dtype == torch.float64
    assert ours.num_train_timesteps == 1000
    # diffusers keeps float32, so the comparison sees float32 rounding (about 5e-7 at worst)
    assert _max_diff(ours.betas, theirs.betas) <= TOL
    assert _max_diff(ours.alphas, theirs.alphas) <= TOL
    assert _max_diff(ours.alphas_cumprod, theirs.alphas_cumprod) <= TOL


@pytest.mark.parametrize("kind,kw", SCHEDULES, ids=IDS)
def test_from_scheduler_reads_the_schedule(kind, kw):
    theirs = DDPMScheduler(beta_schedule=kind, **kw)
    read = NoiseSchedule.from_scheduler(theirs)
    assert read.alphas_cumprod.dtype == torch.float64
    assert torch.equal(read.betas, theirs.betas.double())
    assert _max_diff(read.alphas_cumprod, theirs.alphas_cumprod) <= TOL
    assert _max_diff(read.alphas_cumprod, NoiseSchedule.from_kind(kind, **kw).alphas_cumprod) <= TOL


@pytest.mark.parametrize("num_train_timesteps", [1, 2, 10, 4000])
@pytest.mark.parametrize("kind,kw", SCHEDULES, ids=IDS)
def test_other_lengths_match_diffusers(num_train_timesteps, kind, kw):
    theirs = DDPMScheduler(num_train_timesteps=num_train_timesteps, beta_schedule=kind, **kw)
    ours = NoiseSchedule.from_kind(kind, num_train_timesteps, **kw)
    assert ours.betas.shape == (num_train_timesteps,)
    assert _max_diff(ours.alphas_cumprod, theirs.alphas_cumprod) <= TOL


# ---------------------------------------------------------------- fixed values


# ᾱ at t = 0, 499, 999, computed once in 40-digit decimal arithmetic (linear, scaled_linear)
# and in Python floats from the cosine formula; written down so that a change of formula shows up.
EXPECTED_ALPHAS_CUMPROD = {
    "linear": (0.9999, 0.078587242881778, 4.0358297653757e-05),
    "scaled_linear": (0.99915, 0.27766965045647, 0.0046600985130772),
    "cosine": (0.99995871577518, 0.49384359044064, 2.4287669070349e-09),
}


@pytest.mark.parametrize("kind", sorted(EXPECTED_ALPHAS_CUMPROD))
def test_alphas_cumprod_fixed_values(kind):
    alpha_bar = NoiseSchedule.from_kind(kind).alphas_cumprod
    for t, expected in zip((0, 499, 999), EXPECTED_ALPHAS_CUMPROD[kind]):
        assert alpha_bar[t].item() == pytest.approx(expected, rel=1e-11)


def test_fixed_betas_and_snr():
    assert linear_betas()[0].item() == pytest.approx(1e-4, rel=1e-12)
    assert linear_betas()[-1].item() == pytest.approx(0.02, rel=1e-12)
    assert scaled_linear_betas()[0].item() == pytest.approx(0.00085, rel=1e-12)
    assert scaled_linear_betas()[-1].item() == pytest.approx(0.012, rel=1e-12)
    assert cosine_betas()[-1].item() == pytest.approx(0.999, rel=1e-12)  # capped at max_beta
    # SNR(499) = ᾱ/(1-ᾱ)
    assert NoiseSchedule.from_kind("linear").snr[499].item() == pytest.approx(0.085289944462637, rel=1e-11)
    sd_snr = NoiseSchedule.from_kind("scaled_linear").snr
    assert sd_snr[499].item() == pytest.approx(0.38440811829648, rel=1e-11)


def test_cosine_alphas_cumprod_follow_the_formula():
    # ᾱ_t = f(t+1)/f(0) with f(u) = cos²((u/T + s)/(1 + s) · π/2), wherever the cap is not hit
    T, s = 1000, 0.008
    f = lambda u: math.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = alphas_cumprod(cosine_betas(T, s=s))
    for t in (0, 1, 10, 100, 500, 900, 990):
        assert alpha_bar[t].item() == pytest.approx(f(t + 1) / f(0), rel=1e-10)


def test_scaled_linear_is_linear_in_sqrt_beta():
    sqrt_betas = scaled_linear_betas().sqrt()
    steps = sqrt_betas[1:] - sqrt_betas[:-1]
    assert _max_diff(steps, torch.full_like(steps, steps.mean().item())) < 1e-15
    assert not torch.allclose(linear_betas(1000, 0.00085, 0.012), scaled_linear_betas())


# ---------------------------------------------------------------- make_betas, alphas_cumprod, snr


def test_make_betas_names_and_alias():
    assert torch.equal(make_betas("linear"), linear_betas())
    assert torch.equal(make_betas("scaled_linear"), scaled_linear_betas())
    assert torch.equal(make_betas("cosine"), cosine_betas())
    assert torch.equal(make_betas("squaredcos_cap_v2"), cosine_betas())
    ours = make_betas("linear", 50, beta_start=0.001, beta_end=0.05)
    assert torch.equal(ours, linear_betas(50, 0.001, 0.05))
    assert torch.equal(make_betas("cosine", 10, s=0.0, max_beta=0.5), cosine_betas(10, 0.0, 0.5))


def test_alphas_cumprod_and_snr():
    betas = torch.tensor([0.1, 0.2, 0.5], dtype=torch.float64)
    # ᾱ = 0.9, 0.9·0.8, 0.9·0.8·0.5
    expected = torch.tensor([0.9, 0.72, 0.36], dtype=torch.float64)
    assert _max_diff(alphas_cumprod(betas), expected) < 1e-15
    assert alphas_cumprod(betas.float()).dtype == torch.float64  # computed in float64
    # SNR = ᾱ/(1-ᾱ)
    expected_snr = torch.tensor([9.0, 0.72 / 0.28, 0.36 / 0.64], dtype=torch.float64)
    assert _max_diff(snr(expected), expected_snr) < 1e-12


@pytest.mark.parametrize("kind,kw", SCHEDULES, ids=IDS)
def test_schedule_shapes(kind, kw):
    sched = NoiseSchedule.from_kind(kind, **kw)
    assert bool((sched.betas > 0).all()) and bool((sched.betas < 1).all())
    assert torch.equal(sched.alphas, 1 - sched.betas)
    assert bool((sched.alphas_cumprod[1:] < sched.alphas_cumprod[:-1]).all())  # ᾱ falls with t
    assert bool((sched.snr[1:] < sched.snr[:-1]).all())  # and so does the SNR
    assert torch.equal(sched.snr, snr(sched.alphas_cumprod))


def test_noise_schedule_dtype_and_frozen():
    sched64 = NoiseSchedule.from_kind("scaled_linear")
    sched32 = NoiseSchedule.from_kind("scaled_linear", dtype=torch.float32)
    assert sched32.alphas_cumprod.dtype == torch.float32
    # float32 storage of float64 arithmetic: within float32 rounding of the float64 values
    assert _max_diff(sched32.alphas_cumprod, sched64.alphas_cumprod) < 1e-7
    with pytest.raises(dataclasses.FrozenInstanceError):
        sched64.betas = torch.zeros(3)
    direct = NoiseSchedule.from_betas(make_betas("linear"))
    assert torch.equal(direct.alphas_cumprod, NoiseSchedule.from_kind("linear").alphas_cumprod)


# ---------------------------------------------------------------- errors a learner may meet


def test_unknown_kind():
    message = r"kind must be one of 'linear', 'scaled_linear', 'cosine'.*got kind='quad'"
    with pytest.raises(CourseInputError, match=message):
        make_betas("quad")
    with pytest.raises(CourseInputError, match=r"'squaredcos_cap_v2'.*got kind='sigmoid'"):
        NoiseSchedule.from_kind("sigmoid")


@pytest.mark.parametrize("value", [0, -5, 10.5, True, "1000"])
def test_bad_num_train_timesteps(value):
    message = rf"num_train_timesteps must be a positive whole number, got num_train_timesteps={re.escape(repr(value))}"
    with pytest.raises(CourseInputError, match=message):
        make_betas("linear", value)


@pytest.mark.parametrize("fn", [linear_betas, scaled_linear_betas])
@pytest.mark.parametrize(
    "name,value",
    [
        ("beta_start", 0.0),
        ("beta_start", -0.1),
        ("beta_end", 1.0),
        ("beta_end", 1.5),
        ("beta_start", math.nan),
    ],
)
def test_beta_outside_zero_one(fn, name, value):
    message = rf"{name} must be a number in \(0, 1\), got {name}={value!r}"
    with pytest.raises(CourseInputError, match=message):
        fn(**{name: value})


def test_beta_start_above_beta_end():
    message = r"beta_start must be at most beta_end=0\.0001, got beta_start=0\.02"
    with pytest.raises(CourseInputError, match=message):
        linear_betas(beta_start=0.02, beta_end=0.0001)
    assert torch.equal(linear_betas(5, 0.01, 0.01), torch.full((5,), 0.01, dtype=torch.float64))


def test_bad_cosine_settings():
    with pytest.raises(CourseInputError, match=r"s must be a number at least 0, got s=-0\.1"):
        cosine_betas(s=-0.1)
    message = r"max_beta must be a number in \(0, 1\), got max_beta=1\.0"
    with pytest.raises(CourseInputError, match=message):
        cosine_betas(max_beta=1.0)


def test_setting_the_schedule_does_not_have():
    message = r"'cosine' schedule has no setting 'beta_start'; its settings are s, max_beta"
    with pytest.raises(CourseInputError, match=message):
        make_betas("cosine", beta_start=0.1)


def test_bad_betas_and_alphas_cumprod():
    with pytest.raises(CourseInputError, match=r"betas must be a 1-D tensor.*got \(2, 3\)"):
        alphas_cumprod(torch.full((2, 3), 0.1))
    with pytest.raises(CourseInputError, match=r"every β must lie in \(0, 1\], got values from 0\.1 to 1\.5"):
        alphas_cumprod(torch.tensor([0.1, 1.5]))
    with pytest.raises(CourseInputError, match=r"alphas_cumprod must be a 1-D tensor.*got list"):
        snr([0.5, 0.25])
    with pytest.raises(CourseInputError, match=r"scheduler must be a diffusers scheduler.*got str"):
        NoiseSchedule.from_scheduler("DDPMScheduler")
