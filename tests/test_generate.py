import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import course_utils.generate as G
import course_utils.models as M
from course_utils.errors import CourseInputError, CourseWarning


def test_same_seed_same_bytes_other_seed_differs(pipe):
    a = G.text_to_image("a cat", pipe=pipe, steps=3, seed=7, height=16, width=16)
    b = G.text_to_image("a cat", pipe=pipe, steps=3, seed=7, height=16, width=16)
    c = G.text_to_image("a cat", pipe=pipe, steps=3, seed=8, height=16, width=16)
    assert a.image.tobytes() == b.image.tobytes()
    assert a.image.tobytes() != c.image.tobytes()


def test_batch_picture_i_equals_single_with_seed_plus_i(pipe):
    batch = G.text_to_image("a cat", pipe=pipe, steps=2, seed=3, num_images=3, height=16, width=16)
    single = G.text_to_image("a cat", pipe=pipe, steps=2, seed=5, height=16, width=16)
    diff = np.abs(np.asarray(batch.images[2], int) - np.asarray(single.image, int)).max()
    assert diff <= 1  # batched matmuls may round one level differently


def test_result_carries_every_parameter(pipe, tmp_path):
    r = G.text_to_image("a cat", negative_prompt="blurry", pipe=pipe, steps=2, guidance=3.0, seed=11,
                        height=16, width=16)
    for k, v in dict(prompt="a cat", negative_prompt="blurry", steps=2, guidance=3.0, seed=11, height=16,
                     width=16, num_images=1, scheduler="DDIMScheduler", device="cpu", dtype="float32").items():
        assert r.params[k] == v, k
    saved = Image.open(r.save(tmp_path / "x.png"))
    assert saved.text["seed"] == "11" and saved.text["prompt"] == "a cat"


def test_seed_none_is_drawn_and_recorded(pipe):
    r = G.text_to_image("a cat", pipe=pipe, steps=1, seed=None, height=16, width=16)
    again = G.text_to_image("a cat", pipe=pipe, steps=1, seed=r.params["seed"], height=16, width=16)
    assert r.image.tobytes() == again.image.tobytes()


def test_callback_gets_latents_and_x0_each_step(pipe):
    seen = []
    G.text_to_image("a cat", pipe=pipe, steps=4, seed=0, height=16, width=16,
                    callback=lambda i, t, lat, x0: seen.append((i, t, tuple(lat.shape), tuple(x0.shape))))
    assert [s[0] for s in seen] == [0, 1, 2, 3]
    assert all(s[2] == (1, 4, 8, 8) and s[3] == (1, 4, 8, 8) for s in seen)
    assert seen[0][1] > seen[-1][1]
    assert "step" not in vars(pipe.scheduler)  # the scheduler is left as it was


@pytest.mark.parametrize("kwargs, match", [
    (dict(steps=0), r"steps must be a whole number from 1 to 999, got steps=0\."),
    (dict(steps=1000), r"steps must be a whole number from 1 to 999, got steps=1000\."),
    (dict(steps=2.5), r"steps must be a whole number from 1 to 999, got steps=2\.5"),
    (dict(guidance=-1), r"guidance must be a number in \[0, 50\], got guidance=-1"),
    (dict(guidance=float("nan")), r"guidance must be a number in \[0, 50\], got guidance=nan"),
    (dict(seed=-3), r"seed must be a whole number from 0 to \d+, got seed=-3"),
    (dict(seed="abc"), r"seed must be a whole number from 0 to \d+, got seed='abc'"),
    (dict(height=15), r"height=15 must be a multiple of 8 .*nearest valid sizes are 8 or 16"),
    (dict(width=0), r"width must be a whole number from 8 to 2048, got width=0"),
    (dict(num_images=17), r"num_images must be a whole number from 1 to 16, got num_images=17"),
    (dict(eta=-0.1), r"eta must be a number in \[0, 1\], got eta=-0\.1"),
])
def test_bad_parameters_name_themselves(pipe, kwargs, match):
    base = dict(pipe=pipe, steps=2, height=16, width=16)
    base.update(kwargs)
    with pytest.raises(CourseInputError, match=match):
        G.text_to_image("a cat", **base)


def test_bad_prompt(pipe):
    with pytest.raises(CourseInputError, match="prompt must be text"):
        G.text_to_image(42, pipe=pipe)


def test_image_to_image_strength_and_steps(pipe, tmp_path):
    src = Image.fromarray((np.random.default_rng(0).random((40, 60, 3)) * 255).astype("uint8"))
    r = G.image_to_image(src, "a cat", strength=0.5, pipe=pipe, steps=4, seed=1, size=16)
    assert r.image.size == (16, 16) and r.params["denoising_steps_run"] == 2
    with pytest.raises(CourseInputError, match=r"int\(steps x strength\) = 0"):
        G.image_to_image(src, "a cat", strength=0.2, pipe=pipe, steps=4, size=16)
    with pytest.raises(CourseInputError, match=r"strength must be a number in \(0, 1\], got strength=0\."):
        G.image_to_image(src, "a cat", strength=0, pipe=pipe, steps=4, size=16)
    with pytest.raises(CourseInputError, match=r"strength=1.5"):
        G.image_to_image(src, "a cat", strength=1.5, pipe=pipe, steps=4, size=16)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    with pytest.raises(CourseInputError, match="broken.png"):
        G.image_to_image(broken, "a cat", pipe=pipe, steps=4, size=16)


def test_image_to_image_accepts_a_text_to_image_pipeline(pipe):
    src = Image.new("RGB", (32, 32), (200, 100, 50))
    r = G.image_to_image(src, "a cat", strength=1.0, pipe=pipe, steps=2, seed=0, size=16)
    assert r.params["denoising_steps_run"] == 2


# --- every bad input gets a clear message (sizes, numpy numbers, wrong objects, diffusers' names) ---
def _src():
    return Image.fromarray((np.random.default_rng(0).random((40, 60, 3)) * 255).astype("uint8"))


@pytest.mark.parametrize("kwargs, match", [
    # the tiny model's VAE factor is 2, but diffusers refuses sides that are not multiples of 8
    (dict(height=60), r"height=60 must be a multiple of 8 .*nearest valid sizes are 56 or 64"),
    (dict(width=68), r"width=68 must be a multiple of 8 .*nearest valid sizes are 64 or 72"),
    (dict(height=2044), r"height=2044 must be a multiple of 8 .*2040 or 2048"),
    (dict(width=4096), r"width must be a whole number from 8 to 2048, got width=4096"),
])
def test_sides_must_be_multiples_of_8(pipe, kwargs, match):
    with pytest.raises(CourseInputError, match=match):
        G.text_to_image("a cat", pipe=pipe, steps=1, **dict(dict(height=16, width=16), **kwargs))


@pytest.mark.parametrize("size, match", [
    (60, r"size=60 must be a multiple of 8 .*56 or 64"),
    ((16, 68), r"size\[1\] \(height\)=68 must be a multiple of 8 .*64 or 72"),
    ((16, 16, 3), r"size=\(16, 16, 3\) must be one number .* or a \(width, height\) pair"),
    ("big", r"size must be a whole number from 8 to 2048, got size='big'"),
])
def test_image_to_image_size_must_be_valid(pipe, size, match):
    with pytest.raises(CourseInputError, match=match):
        G.image_to_image(_src(), "a cat", pipe=pipe, steps=2, size=size)


@pytest.mark.parametrize("size, match", [
    (40000, r"size must be a whole number from 8 to 2048, got size=40000"),
    ((40000, 16), r"size\[0\] \(width\) must be a whole number from 8 to 2048, got size\[0\] \(width\)=40000"),
])
def test_image_to_image_size_is_checked_before_any_resize(pipe, monkeypatch, size, match):
    def no_resize(*args, **kwargs):
        raise AssertionError("the picture was resized before size was checked")

    monkeypatch.setattr(G, "fit_square", no_resize)
    monkeypatch.setattr(G, "load_image", no_resize)
    with pytest.raises(CourseInputError, match=match):
        G.image_to_image(_src(), "a cat", pipe=pipe, steps=2, size=size)


def test_image_to_image_strength_none_is_a_clear_message(pipe):
    with pytest.raises(CourseInputError, match=r"strength=None: strength must be a number in \(0, 1\]"):
        G.image_to_image(_src(), "a cat", strength=None, pipe=pipe, steps=2, size=16)


def test_numpy_numbers_are_accepted_like_python_numbers(pipe):
    a = G.text_to_image("a cat", pipe=pipe, steps=np.int64(2), guidance=np.float32(7.5), seed=np.int64(20),
                        height=np.int64(16), width=np.int32(16), num_images=np.int64(1), eta=np.float32(0.0))
    b = G.text_to_image("a cat", pipe=pipe, steps=2, guidance=7.5, seed=20, height=16, width=16)
    assert a.image.tobytes() == b.image.tobytes()
    assert a.params["steps"] == 2 and type(a.params["steps"]) is int
    assert a.params["guidance"] == 7.5 and type(a.params["guidance"]) is float
    assert a.params["seed"] == 20 and type(a.params["seed"]) is int
    c = G.image_to_image(_src(), "a cat", strength=np.float32(0.5), pipe=pipe, steps=np.int64(4),
                         guidance=np.float64(3.0), seed=np.int64(1), size=np.int64(16))
    d = G.image_to_image(_src(), "a cat", strength=0.5, pipe=pipe, steps=4, guidance=3.0, seed=1, size=16)
    assert c.image.size == (16, 16) and c.params["denoising_steps_run"] == 2
    assert c.image.tobytes() == d.image.tobytes()
    e = G.image_to_image(_src(), "a cat", strength=1.0, pipe=pipe, steps=2, size=(np.int64(16), np.int64(24)))
    assert e.image.size == (16, 24)


@pytest.mark.parametrize("kwargs, match", [
    (dict(steps=True), r"steps must be a whole number .*, got steps=True"),
    (dict(steps=np.bool_(True)), r"steps must be a whole number .*, got steps=.*True"),
    (dict(guidance=True), r"guidance must be a number .*, got guidance=True"),
    (dict(seed=np.bool_(False)), r"seed must be a whole number .*, got seed=.*False"),
    (dict(height=True), r"height must be a whole number .*, got height=True"),
])
def test_booleans_are_still_refused(pipe, kwargs, match):
    with pytest.raises(CourseInputError, match=match):
        G.text_to_image("a cat", **dict(dict(pipe=pipe, steps=2, height=16, width=16), **kwargs))


@pytest.mark.parametrize("kwargs, match", [
    (dict(strength=True), r"strength must be a number in \(0, 1\], got strength=True"),
    (dict(strength=np.bool_(True)), r"strength must be a number .*, got strength=.*True"),
    (dict(size=True), r"size must be a whole number .*, got size=True"),
])
def test_image_to_image_booleans_are_refused(pipe, kwargs, match):
    with pytest.raises(CourseInputError, match=match):
        G.image_to_image(_src(), "a cat", **dict(dict(pipe=pipe, steps=2, size=16), **kwargs))


@pytest.mark.parametrize("call", ["text", "image"])
def test_a_string_pipe_says_to_load_a_pipeline(call, monkeypatch):
    def no_load(*args, **kwargs):
        raise AssertionError("nothing should be loaded")

    monkeypatch.setattr(G, "load_pipeline", no_load)
    match = r"pipe='embedded' is not a loaded pipeline: pass one made by cu\.load_pipeline\(\).*model='embedded'"
    with pytest.raises(CourseInputError, match=match):
        if call == "text":
            G.text_to_image("a cat", pipe="embedded")
        else:
            G.image_to_image(_src(), "a cat", pipe="embedded")
    with pytest.raises(CourseInputError, match=r"pipe=42 is not a loaded pipeline.*model=\"embedded\""):
        G.text_to_image("a cat", pipe=42)


def test_check_inputs_refuses_a_missing_pipeline():
    with pytest.raises(CourseInputError, match=r"pipe=None is not a loaded pipeline"):
        G.check_inputs(None, prompt="a cat", steps=2, guidance=7.5, seed=0, height=16, width=16)


@pytest.mark.parametrize("call", ["text", "image"])
def test_a_callback_that_is_not_callable(pipe, call):
    with pytest.raises(CourseInputError, match=r"callback='print' is not a function: pass a function called"):
        if call == "text":
            G.text_to_image("a cat", pipe=pipe, steps=2, height=16, width=16, callback="print")
        else:
            G.image_to_image(_src(), "a cat", pipe=pipe, steps=2, size=16, callback="print")


@pytest.mark.parametrize("call", ["text", "image"])
@pytest.mark.parametrize("kwargs, match", [
    (dict(num_inference_steps=20), r"num_inference_steps=20 is the diffusers pipeline's name.*write steps=20"),
    (dict(guidance_scale=7.5), r"guidance_scale=7.5 is the diffusers pipeline's name.*write guidance=7.5"),
])
def test_diffusers_keyword_names_point_to_the_course_names(pipe, call, kwargs, match):
    with pytest.raises(CourseInputError, match=match):
        if call == "text":
            G.text_to_image("a cat", pipe=pipe, height=16, width=16, **kwargs)
        else:
            G.image_to_image(_src(), "a cat", pipe=pipe, size=16, **kwargs)


# --- sizes far from the model's own, and sizes that take minutes on a CPU -------------------------------
def test_a_size_far_from_the_models_own_warns(pipe):
    native = M.model_info(pipe).resolution
    with pytest.warns(CourseWarning, match=f"far from the {native} x {native}"):
        G.text_to_image("a cat", pipe=pipe, steps=1, height=2 * native, width=2 * native)
    with pytest.warns(CourseWarning, match="far from"):
        G.image_to_image(np.zeros((64, 64, 3), np.uint8), "a cat", pipe=pipe, steps=2, strength=0.5, size=2 * native)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the model's own size, and 1.5 times it: no warning
        G.text_to_image("a cat", pipe=pipe, steps=1)
        G.text_to_image("a cat", pipe=pipe, steps=1, height=native * 3 // 2 // 8 * 8, width=native)


def test_a_picture_that_takes_minutes_on_a_cpu_says_so_before_it_starts(monkeypatch):
    from course_utils import generate as G
    from course_utils.models import load_pipeline

    embedded = load_pipeline("embedded", device="cpu", verbose=False)
    slow = G.estimate_cpu_seconds(embedded, 1024, 1024, 20, 2)
    assert 60 < slow < 1800  # U-Net FLOPs at 0.2 TFLOP/s: about three minutes at least
    assert G.estimate_cpu_seconds(embedded, 64, 64, 20, 2) < 0.5
    with pytest.warns(CourseWarning) as caught:
        G.warn_about_size(embedded, 1024, 1024, 20, 2, 64)
    texts = [str(w.message) for w in caught]
    assert any("will take at least about 3 minutes on this CPU" in t for t in texts), texts
    # the warning comes before the work: a call that would take minutes is stopped here in the test
    monkeypatch.setattr(G, "_run", lambda *a, **k: pytest.fail("the warning should come first"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CourseWarning)
        with pytest.raises(CourseWarning, match="far from"):
            G.text_to_image("a cat", pipe=embedded, height=1024, width=1024)


# --- schedulers other than DDIM: Stable Diffusion 1.5's PNDM ---------------------------------------------
@pytest.fixture
def pndm_pipe(pipe):
    from diffusers import PNDMScheduler

    from course_utils.minisd.real_shaped import SD15_SCHEDULER

    ddim = pipe.scheduler
    pipe.scheduler = PNDMScheduler.from_config(SD15_SCHEDULER)
    yield pipe
    pipe.scheduler = ddim


def test_pndm_gives_a_guess_at_every_step_and_its_extra_step_is_counted(pndm_pipe):
    seen = []
    r = G.text_to_image("a cat", pipe=pndm_pipe, steps=5, seed=0, height=16, width=16,
                        callback=lambda i, t, z, x0: seen.append((i, t, x0)))
    assert r.params["scheduler"] == "PNDMScheduler"
    assert r.params["denoising_steps_run"] == 6 == len(seen)  # PNDM: one U-Net call more than asked
    assert all(x0 is not None and x0.shape == (1, 4, 8, 8) and torch.isfinite(x0).all() for _, _, x0 in seen)
    i2i = G.image_to_image(np.zeros((32, 32, 3), np.uint8), "a cat", pipe=pndm_pipe, steps=10, strength=0.5, size=16)
    assert i2i.params["denoising_steps_run"] == 6  # int(10 x 0.5) + PNDM's extra one


def test_the_computed_guess_equals_ddims_own(pipe):
    from diffusers import DDIMScheduler

    assert isinstance(pipe.scheduler, DDIMScheduler)
    sched = pipe.scheduler
    sched.set_timesteps(10)
    torch.manual_seed(0)
    z, eps = torch.randn(1, 4, 8, 8), torch.randn(1, 4, 8, 8)
    t = sched.timesteps[3]
    ours = G.x0_from_output(sched, eps, t, z)
    theirs = sched.step(eps, t, z).pred_original_sample
    assert torch.allclose(ours, theirs, atol=1e-5)
    assert G.text_to_image("a cat", pipe=pipe, steps=4, height=16, width=16).params["denoising_steps_run"] == 4


def test_eta_and_the_generator_reach_the_scheduler_through_the_course_helpers():
    # the pipeline passes `eta` and `generator` to scheduler.step only if its signature names them: the
    # course's step recorder must keep that signature (DDIM's eta > 0 did nothing while it hid it)
    import course_utils as cu

    pipe = cu.load_pipeline("embedded", verbose=False)
    prompt = "a ginger cat in manga style on a blue background"
    a, b = (cu.text_to_image(prompt, pipe=pipe, seed=1, eta=e).image for e in (0.0, 1.0))
    assert np.abs(np.asarray(a, float) - np.asarray(b, float)).mean() > 5
    c = cu.text_to_image(prompt, pipe=pipe, seed=1, eta=1.0).image
    assert b.tobytes() == c.tobytes()  # eta's noise comes from the seed's generator too

