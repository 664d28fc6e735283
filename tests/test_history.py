"""Tests for course_utils.history: chapter 1's four tiny generative models and their measurements."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from diffusers import DDPMScheduler  # noqa: E402
from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution  # noqa: E402

from course_utils import history as H  # noqa: E402
from course_utils.errors import CourseInputError  # noqa: E402


@pytest.fixture(scope="module")
def cats():
    return H.cat_silhouettes(128, size=8, seed=0)


# ---------------------------------------------------------------- the data


def test_cat_silhouettes_are_binary_deterministic_and_labelled(cats):
    x, kinds = cats
    assert x.shape == (128, 1, 8, 8) and x.dtype == torch.float32
    assert set(x.unique().tolist()) == {0.0, 1.0}
    assert 0.1 < x.mean() < 0.5  # a cat covers part of the picture, not all of it
    assert kinds.shape == (128,) and kinds.min() >= 0 and kinds.max() < len(H.KINDS)
    again, _ = H.cat_silhouettes(128, size=8, seed=0)
    other, _ = H.cat_silhouettes(128, size=8, seed=1)
    assert torch.equal(x, again)
    assert not torch.equal(x, other)


@pytest.mark.parametrize("kwargs", [dict(n=0), dict(size=4), dict(size=8.0), dict(seed=-1), dict(n=True)])
def test_cat_silhouettes_rejects_bad_arguments(kwargs):
    with pytest.raises(CourseInputError):
        H.cat_silhouettes(**{"n": 4, **kwargs})


# ---------------------------------------------------------------- GAN


def test_gan_value_is_the_papers_formula():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(16, generator=g) * 3, torch.randn(16, generator=g) * 3
    # V = E[log D(x)] + E[log(1 - D(G(z)))] = -BCE(D(x), 1) - BCE(D(G(z)), 0)
    theirs = -F.binary_cross_entropy_with_logits(real, torch.ones(16)) - F.binary_cross_entropy_with_logits(
        fake, torch.zeros(16))
    assert torch.allclose(H.gan_value(real, fake), theirs, atol=1e-6)
    assert math.isclose(H.gan_value(torch.zeros(4), torch.zeros(4)).item(), -2 * math.log(2), rel_tol=1e-6)


def test_train_gan_logs_losses_and_variety(cats):
    x, _ = cats
    trained = H.train_gan(x, H.GANConfig(hidden=32, steps=30, batch=16, log_every=10))
    assert len(trained.losses["D"]) == len(trained.losses["G"]) == 30
    assert [step for step, _ in trained.extra["diversity"]] == [0, 10, 20, 29]
    pictures = H.sample_gan(trained, 5, seed=3)
    assert pictures.shape == (5, 1, 8, 8) and 0 <= pictures.min() and pictures.max() <= 1
    assert torch.equal(pictures, H.sample_gan(trained, 5, seed=3))


# ---------------------------------------------------------------- VAE


def test_vae_kl_matches_diffusers_diagonal_gaussian(cats):
    x, _ = cats
    model = H.VAE(latent=3, hidden=16, size=8)
    mean, logvar = model.encode(x[:10])
    _, _, kl = H.vae_loss(model, x[:10], torch.Generator().manual_seed(0))
    theirs = DiagonalGaussianDistribution(torch.cat([mean, logvar], dim=1)[:, :, None, None]).kl().mean()
    assert torch.allclose(kl, theirs, atol=1e-5)


def test_vae_training_lowers_the_negative_elbo_and_samples_are_probabilities(cats):
    x, _ = cats
    trained = H.train_vae(x, H.VAEConfig(hidden=64, steps=120, batch=32))
    elbo = trained.losses["-ELBO"]
    assert sum(elbo[-20:]) < sum(elbo[:20])
    pictures = H.sample_vae(trained, 4)
    assert pictures.shape == (4, 1, 8, 8) and 0 <= pictures.min() and pictures.max() <= 1
    assert H.vae_latent_map(trained, n=3).shape == (9, 1, 8, 8)
    with pytest.raises(CourseInputError, match="2-number"):
        H.vae_latent_map(H.Trained(H.VAE(3, 8, 8), {}, 0.0, None))


# ---------------------------------------------------------------- autoregressive


def test_autoregressive_output_i_sees_only_earlier_pixels():
    torch.manual_seed(0)
    net = H.AutoregressiveNet(hidden=40, size=4)
    x = torch.rand(16)
    jac = torch.autograd.functional.jacobian(lambda v: net(v.view(1, 1, 4, 4)).flatten(), x)  # (out i, in j)
    assert torch.triu(jac.abs()).max() == 0  # nothing at or after pixel i
    before = torch.ones(16, 16).tril(diagonal=-1).bool()
    assert (jac.abs()[before] > 0).float().mean() > 0.9  # and nearly every pixel before it


def test_sample_autoregressive_takes_one_call_per_pixel():
    net = H.AutoregressiveNet(hidden=16, size=5)
    seen = []
    pictures, calls = H.sample_autoregressive(net, 3, seed=1, callback=lambda i, x: seen.append(i))
    assert calls == 25 and seen == list(range(25))
    assert pictures.shape == (3, 1, 5, 5) and set(pictures.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(pictures, H.sample_autoregressive(net, 3, seed=1)[0])


def test_train_autoregressive_runs(cats):
    x, _ = cats
    trained = H.train_autoregressive(x, H.ARConfig(hidden=32, steps=20, batch=16))
    assert len(trained.losses["-log p(x)"]) == 20 and trained.seconds > 0


# ---------------------------------------------------------------- diffusion


def _tiny_diffusion(x):
    return H.train_diffusion(x, H.DiffusionConfig(num_train_timesteps=20, hidden=32, steps=10, batch=16))


def test_denoiser_noise_and_clean_guess_agree(cats):
    x, _ = cats
    trained = _tiny_diffusion(x)
    model, abar = trained.model, trained.extra["alphas_cumprod"]
    x_t, t = torch.randn(4, 1, 8, 8), torch.tensor([0, 5, 10, 19])
    with torch.no_grad():
        eps = model(x_t, t)
        from course_utils.diffusion import predict_x0

        assert torch.allclose(predict_x0(x_t, eps, t, abar), model.clean(x_t, t), atol=1e-4)


@pytest.mark.parametrize("steps", [20, 4])
def test_sample_diffusion_matches_diffusers_ddpm_scheduler(cats, steps):
    x, _ = cats
    trained = _tiny_diffusion(x)
    sched = DDPMScheduler(num_train_timesteps=20, beta_schedule="squaredcos_cap_v2")
    sched.set_timesteps(steps)
    g = torch.Generator().manual_seed(7)
    sample = torch.randn(3, 1, 8, 8, generator=g)
    with torch.no_grad():
        for t in sched.timesteps:
            eps = trained.model(sample, torch.full((3,), int(t)))
            sample = sched.step(eps, t, sample, generator=g).prev_sample
    ours, calls = H.sample_diffusion(trained, 3, steps=steps, seed=7)
    assert calls == steps
    assert torch.allclose(ours, ((sample + 1) / 2).clamp(0, 1), atol=1e-4)


def test_sample_diffusion_checks_steps(cats):
    trained = _tiny_diffusion(cats[0])
    with pytest.raises(CourseInputError, match="steps"):
        H.sample_diffusion(trained, 2, steps=21)


# ---------------------------------------------------------------- measurements


def test_measurements_on_known_pictures(cats):
    x, kinds = cats
    same = x[:1].repeat(6, 1, 1, 1)
    assert H.diversity(same) == 0.0
    assert H.diversity(x) > 0.1
    assert H.mid_grey_share(x) == 0.0
    assert H.mid_grey_share(torch.full((2, 1, 8, 8), 0.5)) == 1.0
    assert H.nearest_distance(x[:10], x) == 0.0
    share = H.kind_coverage(x, x, kinds)
    assert torch.allclose(share, torch.bincount(kinds, minlength=4).double() / len(kinds))
    assert math.isclose(H.kind_coverage(same, x, kinds).max().item(), 1.0)


def test_functions_reject_what_is_not_a_batch_of_pictures():
    with pytest.raises(CourseInputError, match=r"\(N, 1, H, W\)"):
        H.diversity(torch.zeros(3, 8, 8))
    with pytest.raises(CourseInputError, match="GAN"):
        H.sample_gan(H.Trained(H.VAE(2, 8, 8), {}, 0.0, None), 2)
    with pytest.raises(CourseInputError, match="family"):
        H.sample("flow", None, 2)
    with pytest.raises(CourseInputError, match="scale"):
        H.train_all(torch.zeros(2, 1, 8, 8), scale=0)


# ---------------------------------------------------------------- threads and figures


def test_training_gives_the_callers_thread_count_back(cats):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        H.train_vae(cats[0], H.VAEConfig(hidden=8, steps=2))
        assert torch.get_num_threads() == 2
        with pytest.raises(CourseInputError):
            H.train_vae(torch.zeros(3, 8, 8))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_figures_draw(cats):
    x, _ = cats
    painters = {
        "GAN": H.train_gan(x, H.GANConfig(hidden=8, steps=2, batch=4)),
        "VAE": H.train_vae(x, H.VAEConfig(hidden=8, steps=2, batch=4)),
        "autoregressive": H.train_autoregressive(x, H.ARConfig(hidden=8, steps=2, batch=4)),
        "diffusion": H.train_diffusion(x, H.DiffusionConfig(num_train_timesteps=10, hidden=8, steps=2, batch=4)),
    }
    figures = [
        H.picture_rows({"data": x[:4], "GAN": H.sample_gan(painters["GAN"], 4)}, n=4, title="t"),
        H.painting_figure(painters),
        H.timeline_figure([(0, "VAE", x[:4]), (1, "DDPM", x[4:8]), (2, "today", None)], now=2025),
    ]
    assert all(len(f.axes) > 3 for f in figures)
    grid = H.sample_grid(x[:5], cols=4, scale=3)
    assert grid.size == ((4 * 9 + 1) * 3, (2 * 9 + 1) * 3) and grid.mode == "RGB"
    with pytest.raises(CourseInputError, match="era"):
        H.timeline_figure([(3, "later", None)])
    plt.close("all")


def test_training_is_reproducible_and_leaves_the_global_random_state_alone(cats):
    x, _ = cats
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = H.train_autoregressive(x, H.ARConfig(hidden=16, steps=5, batch=8))
    assert torch.equal(torch.rand(3), expected)
    b = H.train_autoregressive(x, H.ARConfig(hidden=16, steps=5, batch=8))
    assert a.losses == b.losses
