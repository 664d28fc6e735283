import numpy as np
import pytest
from PIL import Image

import course_utils.generate as G
import course_utils.models as M
from course_utils.errors import CourseInputError


@pytest.fixture(scope="module")
def pipe(tiny_model_dir):
    M.clear_cache()
    return M.load_pipeline(str(tiny_model_dir), device="cpu", verbose=False)


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
    (dict(steps=0), r"steps=0 is out of range: it must be between 1 and 999"),
    (dict(steps=1000), r"steps=1000 is out of range: it must be between 1 and 999"),
    (dict(steps=2.5), r"steps=2.5 must be a whole number"),
    (dict(guidance=-1), r"guidance=-1.0 is out of range"),
    (dict(guidance=float("nan")), r"guidance=nan must be a number"),
    (dict(seed=-3), r"seed=-3 is out of range"),
    (dict(seed="abc"), r"seed='abc' must be a whole number"),
    (dict(height=15), r"height=15 must be a multiple of 2 .*try 14"),
    (dict(width=0), r"width=0 is out of range"),
    (dict(num_images=17), r"num_images=17 is out of range"),
    (dict(eta=-0.1), r"eta=-0.1 is out of range"),
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
    with pytest.raises(CourseInputError, match=r"strength=0.0 is out of range: it must be in \(0.0, 1.0\]"):
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
