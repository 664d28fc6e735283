"""Tests for course_utils.diffusion: the chapter-2 math from scratch against diffusers' schedulers.

The parity tests give diffusers our float64 ᾱ (diffusers computes its own in float32, which
test_schedules.py compares), so that both sides do the step math in float64 on the same numbers.
"""

import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler
from diffusers.utils.torch_utils import randn_tensor

from course_utils.diffusion import (
    ddim_step,
    ddpm_mean_from_eps,
    outline_step,
    p_sample,
    posterior_mean_variance,
    predict_x0,
    q_sample,
    q_step,
    timesteps_for,
)
from course_utils.errors import CourseInputError
from course_utils.schedules import NoiseSchedule

SCHEDULES = [
    ("linear", {"beta_start": 1e-4, "beta_end": 0.02}),
    ("scaled_linear", {"beta_start": 0.00085, "beta_end": 0.012}),
    ("squaredcos_cap_v2", {}),
]
IDS = [kind for kind, _ in SCHEDULES]
TOL = 1e-6
SHAPE = (2, 3, 4, 4)  # (B, C, H, W)
F64 = torch.float64


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.double() - b.double()).abs().max().item()


def _randn(shape, seed: int, dtype=F64) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _with_our_schedule(scheduler, sched: NoiseSchedule):
    """Give a diffusers scheduler our float64 betas and ᾱ (diffusers keeps float32)."""
    scheduler.betas = sched.betas
    scheduler.alphas = sched.alphas
    scheduler.alphas_cumprod = sched.alphas_cumprod
    return scheduler


def _ddpm(kind, kw, num_inference_steps=None, steps_offset=0, clip_sample=False):
    sched = NoiseSchedule.from_kind(kind, **kw)
    scheduler = DDPMScheduler(
        beta_schedule=kind,
        variance_type="fixed_small",
        prediction_type="epsilon",
        clip_sample=clip_sample,
        steps_offset=steps_offset,
        **kw,
    )
    _with_our_schedule(scheduler, sched)
    if num_inference_steps is not None:
        scheduler.set_timesteps(num_inference_steps)
    return scheduler, sched


def _ddim(kind, kw, num_inference_steps, set_alpha_to_one=False, clip_sample=False, steps_offset=0):
    sched = NoiseSchedule.from_kind(kind, **kw)
    scheduler = DDIMScheduler(
        beta_schedule=kind,
        prediction_type="epsilon",
        clip_sample=clip_sample,
        set_alpha_to_one=set_alpha_to_one,
        steps_offset=steps_offset,
        **kw,
    )
    _with_our_schedule(scheduler, sched)
    final = torch.tensor(1.0, dtype=F64) if set_alpha_to_one else sched.alphas_cumprod[0]
    scheduler.final_alpha_cumprod = final
    scheduler.set_timesteps(num_inference_steps)
    return scheduler, sched


# ---------------------------------------------------------------- forward process


@pytest.mark.parametrize("kind,kw", SCHEDULES, ids=IDS)
def test_q_sample_matches_add_noise(kind, kw):
    scheduler, sched = _ddpm(kind, kw)
    t = torch.arange(0, 1000, 9)  # 112 timesteps, one per picture, both ends of the schedule included
    t[-1] = 999
    x0 = _randn((t.shape[0], 3, 4, 4), 0).clamp(-1, 1)
    noise = _randn(x0.shape, 1)
    ours = q_sample(x0, t, noise, sched.alphas_cumprod)
    theirs = scheduler.add_noise(x0, noise, t)
    assert ours.dtype == F64
    assert _max_diff(ours, theirs) <= TOL
    # an int t means the same timestep for every picture
    for step in (0, 1, 250, 999):
        ours = q_sample(x0, step, noise, sched.alphas_cumprod)
        theirs = scheduler.add_noise(x0, noise, torch.full((x0.shape[0],), step))
        assert _max_diff(ours, theirs) <= TOL


def test_q_sample_float32_matches_diffusers_float32():
    scheduler = DDPMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)
    sched = NoiseSchedule.from_kind("scaled_linear", dtype=torch.float32)
    x0, noise, t = _randn(SHAPE, 0, torch.float32), _randn(SHAPE, 1, torch.float32), torch.tensor([3, 700])
    ours = q_sample(x0, t, noise, sched.alphas_cumprod)
    assert ours.dtype == torch.float32
    assert _max_diff(ours, scheduler.add_noise(x0, noise, t)) <= 1e-5


@pytest.mark.parametrize("kind,kw", SCHEDULES, ids=IDS)
def test_first_q_step_is_q_sample_at_zero(kind, kw):
    sched = NoiseSchedule.from_kind(kind, **kw)
    x0, noise = _randn(SHAPE, 0), _randn(SHAPE, 1)
    # √(1-β_0) x_0 + √β_0 ε = √ᾱ_0 x_0 + √(1-ᾱ_0) ε because ᾱ_0 = 1 - β_0
    one_step = q_step(x0, 0, noise, sched.betas)
    assert _max_diff(one_step, q_sample(x0, 0, noise, sched.alphas_cumprod)) < 1e-14


@pytest.mark.parametrize("kind,kw", SCHEDULES, ids=IDS)
def test_many_q_steps_match_q_sample_in_distribution(kind, kw):
    # 1000 small forward steps from a fixed x_0 have the distribution of one closed-form jump:
    # mean √ᾱ_t x_0 and standard deviation √(1-ᾱ_t), checked with 10 000 copies of 4 pixels.
    sched = NoiseSchedule.from_kind(kind, **kw)
    n = 10_000
    x0 = torch.tensor([-1.0, -0.3, 0.5, 1.0], dtype=F64).expand(n, 4)
    gen = torch.Generator().manual_seed(0)
    checked = 0
    x = x0
    for t in range(1000):
        x = q_step(x, t, torch.randn(x.shape, generator=gen, dtype=F64), sched.betas)
        if t not in (99, 299, 599, 999):
            continue
        closed = q_sample(x0, t, torch.randn(x0.shape, generator=gen, dtype=F64), sched.alphas_cumprod)
        alpha_bar = sched.alphas_cumprod[t]
        mean, std = alpha_bar.sqrt() * x0[0], (1 - alpha_bar).sqrt()
        se_mean, se_std = std / n**0.5, std / (2 * n) ** 0.5  # standard errors of the estimates
        for sample in (x, closed):
            assert (sample.mean(0) - mean).abs().max() < 5 * se_mean
            assert (sample.std(0) - std).abs().max() < 5 * se_std
        assert (x.mean(0) - closed.mean(0)).abs().max() < 5 * 2**0.5 * se_mean
        assert (x.std(0) - closed.std(0)).abs().max() < 5 * 2**0.5 * se_std
        checked += 1
    assert checked == 4


# ---------------------------------------------------------------- x̂_0 and the posterior


@pytest.mark.parametrize("kind,kw", SCHEDULES, ids=IDS)
def test_predict_x0_inverts_q_sample(kind, kw):
    sched = NoiseSchedule.from_kind(kind, **kw)
    t = torch.tensor([0, 500, 998, 999])
    x0, noise = _randn((4, 3, 4, 4), 0), _randn((4, 3, 4, 4), 1)
    x_t = q_sample(x0, t, noise, sched.alphas_cumprod)
    # at t = 999 of the cosine schedule √ᾱ ≈ 5e-5, so rounding in x_t grows by 1/√ᾱ: allow for it
    assert _max_diff(predict_x0(x_t, noise, t, sched.alphas_cumprod), x0) <= 1e-9


@pytest.mark.parametrize("kind,kw", SCHEDULES, ids=IDS)
def test_eq11_mean_equals_posterior_mean(kind, kw):
    sched = NoiseSchedule.from_kind(kind, **kw)
    t = torch.arange(1000)  # every timestep at once, one per picture
    x_t, eps = _randn((1000, 2, 2, 2), 0), _randn((1000, 2, 2, 2), 1)
    x0_hat = predict_x0(x_t, eps, t, sched.alphas_cumprod)
    # consecutive steps: eq. 11 against eq. 7 with x̂_0
    mean, variance = posterior_mean_variance(x0_hat, x_t, t, t - 1, sched.alphas_cumprod)
    assert _max_diff(ddpm_mean_from_eps(x_t, eps, t, sched.alphas_cumprod), mean) <= TOL
    # β̃_t = (1-ᾱ_{t-1})/(1-ᾱ_t) β_t with the schedule's own β_t
    alpha_bar_prev = torch.cat([torch.ones(1, dtype=F64), sched.alphas_cumprod[:-1]])
    expected = (1 - alpha_bar_prev) / (1 - sched.alphas_cumprod) * sched.betas
    assert _max_diff(variance.flatten(), expected) <= 1e-12
    assert variance[0].item() == 0.0  # nothing left to sample at t = 0
    # with a skip (50 inference steps: t → t - 20) the identity still holds
    t = torch.arange(19, 1000, 20)
    x_t, eps = x_t[: t.shape[0]], eps[: t.shape[0]]
    x0_hat = predict_x0(x_t, eps, t, sched.alphas_cumprod)
    mean, _ = posterior_mean_variance(x0_hat, x_t, t, t - 20, sched.alphas_cumprod)
    assert _max_diff(ddpm_mean_from_eps(x_t, eps, t, sched.alphas_cumprod, prev_t=t - 20), mean) <= TOL


# ---------------------------------------------------------------- DDPM reverse step


@pytest.mark.parametrize("num_inference_steps,steps_offset", [(1000, 0), (50, 0), (50, 1)])
@pytest.mark.parametrize("kind,kw", SCHEDULES, ids=IDS)
def test_p_sample_matches_ddpm_step(kind, kw, num_inference_steps, steps_offset):
    scheduler, sched = _ddpm(kind, kw, num_inference_steps, steps_offset)
    timesteps = scheduler.timesteps
    assert torch.equal(timesteps, timesteps_for(num_inference_steps, steps_offset=steps_offset))
    stride = 1 if num_inference_steps == 50 else 7  # every step of the 50, every 7th of the 1000
    checked = 0
    for i in list(range(0, len(timesteps), stride)) + [len(timesteps) - 2, len(timesteps) - 1]:
        t = int(timesteps[i])
        prev_t = int(timesteps[i + 1]) if i + 1 < len(timesteps) else -1
        x_t, eps = _randn(SHAPE, 2 * i), _randn(SHAPE, 2 * i + 1)
        out = scheduler.step(eps, t, x_t, generator=torch.Generator().manual_seed(i))
        # the same noise, drawn the way DDPMScheduler.step draws it
        noise = randn_tensor(SHAPE, generator=torch.Generator().manual_seed(i), dtype=F64)
        x_prev, x0_hat = p_sample(x_t, eps, t, prev_t, sched.alphas_cumprod, noise=noise)
        assert x_prev.dtype == F64
        assert _max_diff(x_prev, out.prev_sample) <= TOL
        assert _max_diff(x0_hat, out.pred_original_sample) <= TOL
        assert _max_diff(predict_x0(x_t, eps, t, sched.alphas_cumprod), out.pred_original_sample) <= TOL
        # or a generator seeded the same
        x_prev, _ = p_sample(
            x_t, eps, t, prev_t, sched.alphas_cumprod, generator=torch.Generator().manual_seed(i)
        )
        assert _max_diff(x_prev, out.prev_sample) <= TOL
        checked += 1
    assert checked >= 50


def test_p_sample_adds_no_noise_at_t0_and_clips():
    scheduler, sched = _ddpm("linear", {}, clip_sample=True)
    x_t, eps = _randn(SHAPE, 0) * 3, _randn(SHAPE, 1)
    x_prev, x0_hat = p_sample(x_t, eps, 0, -1, sched.alphas_cumprod, noise=_randn(SHAPE, 2))
    assert torch.equal(x_prev, x0_hat)  # at t = 0 the mean is x̂_0 and no noise is added
    for t in (0, 10, 600):
        out = scheduler.step(eps, t, x_t, generator=torch.Generator().manual_seed(t))
        noise = randn_tensor(SHAPE, generator=torch.Generator().manual_seed(t), dtype=F64)
        x_prev, x0_hat = p_sample(x_t, eps, t, t - 1, sched.alphas_cumprod, noise=noise, clip_sample=True)
        assert x0_hat.abs().max() <= 1.0
        assert _max_diff(x_prev, out.prev_sample) <= TOL
        assert _max_diff(x0_hat, out.pred_original_sample) <= TOL


def test_p_sample_with_one_timestep_per_picture():
    sched = NoiseSchedule.from_kind("scaled_linear")
    t, prev_t = torch.tensor([0, 1, 500, 999]), torch.tensor([-1, 0, 480, 979])
    x_t, eps, noise = _randn((4, 3, 4, 4), 0), _randn((4, 3, 4, 4), 1), _randn((4, 3, 4, 4), 2)
    x_prev, x0_hat = p_sample(x_t, eps, t, prev_t, sched.alphas_cumprod, noise=noise)
    for b in range(4):
        one = p_sample(
            x_t[b : b + 1], eps[b : b + 1], int(t[b]), int(prev_t[b]), sched.alphas_cumprod, noise[b : b + 1]
        )
        assert _max_diff(x_prev[b : b + 1], one[0]) < 1e-15
        assert _max_diff(x0_hat[b : b + 1], one[1]) < 1e-15


# ---------------------------------------------------------------- DDIM step


@pytest.mark.parametrize("eta", [0.0, 1.0])
@pytest.mark.parametrize("num_inference_steps", [50, 20])
@pytest.mark.parametrize("kind,kw", SCHEDULES, ids=IDS)
def test_ddim_step_matches_diffusers(kind, kw, num_inference_steps, eta):
    scheduler, sched = _ddim(kind, kw, num_inference_steps)
    assert torch.equal(scheduler.timesteps, timesteps_for(num_inference_steps))
    for i, t in enumerate(scheduler.timesteps.tolist()):
        prev_t = t - 1000 // num_inference_steps  # DDIMScheduler.step's own prev_t
        x_t, eps, noise = _randn(SHAPE, 3 * i), _randn(SHAPE, 3 * i + 1), _randn(SHAPE, 3 * i + 2)
        out = scheduler.step(eps, t, x_t, eta=eta, variance_noise=noise)
        x_prev, x0_hat = ddim_step(x_t, eps, t, prev_t, sched.alphas_cumprod, eta=eta, noise=noise)
        assert _max_diff(x_prev, out.prev_sample) <= TOL
        assert _max_diff(x0_hat, out.pred_original_sample) <= TOL


@pytest.mark.parametrize("set_alpha_to_one,clip_sample,steps_offset", [(True, False, 0), (False, True, 1)])
def test_ddim_step_final_alpha_and_clipping(set_alpha_to_one, clip_sample, steps_offset):
    kw = SCHEDULES[1][1]
    scheduler, sched = _ddim("scaled_linear", kw, 20, set_alpha_to_one, clip_sample, steps_offset)
    final = 1.0 if set_alpha_to_one else None
    for i, t in enumerate(scheduler.timesteps.tolist()):
        x_t, eps, noise = _randn(SHAPE, 3 * i) * 2, _randn(SHAPE, 3 * i + 1), _randn(SHAPE, 3 * i + 2)
        for eta in (0.0, 0.5):
            out = scheduler.step(eps, t, x_t, eta=eta, variance_noise=noise)
            x_prev, x0_hat = ddim_step(
                x_t, eps, t, t - 50, sched.alphas_cumprod, eta, noise, final, clip_sample=clip_sample
            )
            assert _max_diff(x_prev, out.prev_sample) <= TOL
            assert _max_diff(x0_hat, out.pred_original_sample) <= TOL


def test_ddim_eta_one_has_ddpm_variance():
    # η = 1: σ_t² = (1-ᾱ_prev)/(1-ᾱ_t) · (1-ᾱ_t/ᾱ_prev) = β̃, DDPM's posterior variance
    sched = NoiseSchedule.from_kind("linear")
    x_t, eps = _randn(SHAPE, 0), _randn(SHAPE, 1)
    _, variance = posterior_mean_variance(x_t, x_t, 500, 480, sched.alphas_cumprod)
    zeros, ones = torch.zeros(SHAPE, dtype=F64), torch.ones(SHAPE, dtype=F64)
    no_noise, _ = ddim_step(x_t, eps, 500, 480, sched.alphas_cumprod, eta=1.0, noise=zeros)
    unit, _ = ddim_step(x_t, eps, 500, 480, sched.alphas_cumprod, eta=1.0, noise=ones)
    assert _max_diff(unit - no_noise, torch.full(SHAPE, variance.sqrt().item(), dtype=F64)) < 1e-14


# ---------------------------------------------------------------- the outline's update


def test_outline_step_is_not_ddpm():
    sched = NoiseSchedule.from_kind("linear")
    ac = sched.alphas_cumprod
    x_t, eps = _randn(SHAPE, 0), _randn(SHAPE, 1)
    # x_{t-1} = (x_t - √(1-α_t) ε)/√α_t, written out by hand at t = 500
    alpha = 1 - sched.betas[500]
    by_hand = (x_t - (1 - alpha).sqrt() * eps) / alpha.sqrt()
    assert _max_diff(outline_step(x_t, eps, 500, ac), by_hand) < 1e-14
    # it agrees with DDPM's mean only at t = 0, where β_0/√(1-ᾱ_0) = √β_0
    assert _max_diff(outline_step(x_t, eps, 0, ac), ddpm_mean_from_eps(x_t, eps, 0, ac)) < 1e-12
    # elsewhere it subtracts √((1-ᾱ_t)/β_t) times as much noise: 2.7 at t = 10, 9.6 at 500, 7.1 at 999
    zero = torch.zeros(SHAPE, dtype=F64)
    for t, ratio in ((10, 2.7075808), (500, 9.5744805), (999, 7.0709251)):
        outline = outline_step(zero, eps, t, ac)  # with x_t = 0 only the noise term is left
        ddpm = ddpm_mean_from_eps(zero, eps, t, ac)
        expected = ((1 - ac[t]) / sched.betas[t]).sqrt().item()
        assert _max_diff(outline, expected * ddpm) < 1e-12
        assert expected == pytest.approx(ratio, rel=1e-7)


# ---------------------------------------------------------------- timesteps


@pytest.mark.parametrize(
    "spacing,steps_offset", [("leading", 0), ("leading", 1), ("trailing", 0), ("linspace", 0)]
)
def test_timesteps_for_matches_set_timesteps(spacing, steps_offset):
    for n in (1, 2, 3, 7, 10, 20, 25, 50, 61, 100, 103, 250, 999, 1000):
        if spacing == "leading" and n == 1000 and steps_offset == 1:
            continue  # diffusers would return timestep 1000, past the end; see test_timesteps_for_errors
        ours = timesteps_for(n, spacing=spacing, steps_offset=steps_offset)
        assert ours.dtype == torch.int64 and ours.shape == (n,)
        assert bool((ours[1:] < ours[:-1]).all()) and ours.min() >= 0 and ours.max() <= 999
        for cls in (DDIMScheduler, DDPMScheduler):
            scheduler = cls(timestep_spacing=spacing, steps_offset=steps_offset)
            scheduler.set_timesteps(n)
            # diffusers 0.42's "trailing" gives one extra timestep, -1, for some n (61 and 103 here)
            assert torch.equal(ours, scheduler.timesteps[:n])
            assert scheduler.timesteps[n:].tolist() in ([], [-1])
    assert timesteps_for(4, 8, "leading").tolist() == [6, 4, 2, 0]
    assert timesteps_for(50, spacing="trailing")[[0, -1]].tolist() == [999, 19]
    assert timesteps_for(50, spacing="linspace")[[0, 1, -1]].tolist() == [999, 979, 0]


# ---------------------------------------------------------------- errors a learner may meet


def test_errors_name_the_argument_value_and_range():
    sched = NoiseSchedule.from_kind("linear")
    ac = sched.alphas_cumprod
    x, eps = _randn(SHAPE, 0), _randn(SHAPE, 1)
    with pytest.raises(CourseInputError, match=r"eta must be a number in \[0, 1\], got eta=-0\.1"):
        ddim_step(x, eps, 500, 480, ac, eta=-0.1)
    with pytest.raises(CourseInputError, match=r"eta must be a number in \[0, 1\], got eta=1\.5"):
        ddim_step(x, eps, 500, 480, ac, eta=1.5)
    message = r"t must be a timestep from 0 to 999 \(num_train_timesteps - 1\), got 1000"
    with pytest.raises(CourseInputError, match=message):
        q_sample(x, 1000, eps, ac)
    with pytest.raises(CourseInputError, match=r"t must be a timestep from 0 to 999.*got -1"):
        p_sample(x, eps, -1, -2, ac)
    with pytest.raises(CourseInputError, match=r"t must be a timestep from 0 to 999.*got 1200"):
        predict_x0(x, eps, torch.tensor([10, 1200]), ac)
    message = r"prev_t must be a timestep from any negative .* to 999.*got 1000"
    with pytest.raises(CourseInputError, match=message):
        posterior_mean_variance(x, x, 999, 1000, ac)
    message = r"t must hold one timestep per picture: shape \(2,\).*got shape \(3,\)"
    with pytest.raises(CourseInputError, match=message):
        q_sample(x, torch.tensor([1, 2, 3]), eps, ac)
    with pytest.raises(CourseInputError, match=r"t must be an int or an integer tensor.*torch\.float32"):
        q_sample(x, torch.tensor([1.0, 2.0]), eps, ac)
    with pytest.raises(CourseInputError, match=r"t must be an int or an integer tensor.*got 2\.5"):
        q_step(x, 2.5, eps, sched.betas)
    message = r"eps must have the same shape as x_t, \(2, 3, 4, 4\), got \(2, 3, 4, 5\)"
    with pytest.raises(CourseInputError, match=message):
        p_sample(x, _randn((2, 3, 4, 5), 2), 10, 9, ac)
    with pytest.raises(CourseInputError, match=r"eps must have the same shape as x_t"):
        ddim_step(x, eps[:1], 10, 9, ac)
    message = r"noise must have the same shape as x0, \(2, 3, 4, 4\), got \(3, 4, 4\)"
    with pytest.raises(CourseInputError, match=message):
        q_sample(x, 10, eps[0], ac)
    with pytest.raises(CourseInputError, match=r"prev_t must be smaller than t .*got prev_t=20 with t=20"):
        ddim_step(x, eps, 20, 20, ac)
    with pytest.raises(CourseInputError, match=r"prev_t must be smaller than t .*got prev_t=30 with t=20"):
        p_sample(x, eps, torch.tensor([40, 20]), torch.tensor([30, 30]), ac)
    with pytest.raises(CourseInputError, match=r"x_t must be a floating-point tensor .*torch\.int64"):
        predict_x0(torch.zeros(SHAPE, dtype=torch.long), eps, 10, ac)
    message = r"alphas_cumprod must be a 1-D floating-point tensor.*\(2, 500\)"
    with pytest.raises(CourseInputError, match=message):
        q_sample(x, 10, eps, ac.reshape(2, 500))
    message = r"final_alpha_cumprod must be one number in \(0, 1\], got final_alpha_cumprod=1\.5"
    with pytest.raises(CourseInputError, match=message):
        ddim_step(x, eps, 10, -10, ac, final_alpha_cumprod=1.5)


def test_timesteps_for_errors():
    message = r"num_inference_steps must be a whole number from 1 to 1000, got num_inference_steps=0"
    with pytest.raises(CourseInputError, match=message):
        timesteps_for(0)
    message = r"num_inference_steps must be a whole number from 1 to 1000, got num_inference_steps=1001"
    with pytest.raises(CourseInputError, match=message):
        timesteps_for(1001)
    message = r"spacing must be one of 'leading', 'trailing', 'linspace', got spacing='even'"
    with pytest.raises(CourseInputError, match=message):
        timesteps_for(50, spacing="even")
    with pytest.raises(CourseInputError, match=r"steps_offset must be a whole number from 0 to 0, got steps_offset=1"):
        timesteps_for(1000, steps_offset=1)
    message = r"steps_offset must be a whole number from 0 to 19, got steps_offset=-1"
    with pytest.raises(CourseInputError, match=message):
        timesteps_for(50, steps_offset=-1)
