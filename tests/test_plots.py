"""Tests for course_utils.plots: frames, figures and GIFs (chapter 2)."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import plots
from course_utils.errors import CourseInputError
from course_utils.images import to_pil, to_tensor
from course_utils.schedules import NoiseSchedule


@pytest.fixture(scope="module")
def schedule():
    return NoiseSchedule.from_kind("scaled_linear")


def _picture(w=20, h=12, seed=0):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def _gif_frames(data: bytes) -> list[Image.Image]:
    img = Image.open(io.BytesIO(data))
    frames = []
    for i in range(img.n_frames):
        img.seek(i)
        frames.append(img.convert("RGB"))
    return frames


# --- enlarge ----------------------------------------------------------------------------------------


def test_enlarge_keeps_pixels_crisp():
    pic = _picture(3, 2)
    big = plots.enlarge(pic, 4)
    assert big.size == (12, 8)
    assert np.array_equal(np.asarray(big)[::4, ::4], np.asarray(pic))
    assert plots.enlarge(to_tensor(pic), 1).size == (3, 2)
    with pytest.raises(CourseInputError, match="scale"):
        plots.enlarge(pic, 0)
    with pytest.raises(CourseInputError, match="PIL image"):
        plots.enlarge("mau.jpg")


# --- forward_frames ----------------------------------------------------------------------------------


def test_forward_frames_match_q_sample_with_one_noise(schedule):
    pic = _picture()
    x0 = to_tensor(pic)
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(3))
    frames = plots.forward_frames(pic, [0, 500, 999], schedule.alphas_cumprod, noise=noise)
    assert [f.size for f in frames] == [pic.size] * 3
    a = schedule.alphas_cumprod[500]
    expected = (a.sqrt() * x0 + (1 - a).sqrt() * noise).clamp(-1, 1)
    got = to_tensor(frames[1])
    assert (got - expected).abs().max() < 1.5 / 255 * 2  # 8-bit rounding only
    # t = 0 is almost the picture; t = 999 is almost the noise
    assert (to_tensor(frames[0]) - x0).abs().mean() < 0.05
    assert (to_tensor(frames[2]) - noise.clamp(-1, 1)).abs().mean() < 0.1


def test_forward_frames_seed_is_reproducible_and_shared(schedule):
    pic = _picture()
    a = plots.forward_frames(pic, [100, 700], schedule.alphas_cumprod, seed=5)
    b = plots.forward_frames(pic, torch.tensor([700]), schedule.alphas_cumprod, seed=5)
    assert a[1].tobytes() == b[0].tobytes()
    c = plots.forward_frames(pic, [700], schedule.alphas_cumprod, seed=6)
    assert c[0].tobytes() != b[0].tobytes()


def test_forward_frames_errors(schedule):
    pic = _picture()
    with pytest.raises(CourseInputError, match="timestep"):
        plots.forward_frames(pic, [1000], schedule.alphas_cumprod)
    with pytest.raises(CourseInputError, match="empty"):
        plots.forward_frames(pic, [], schedule.alphas_cumprod)
    with pytest.raises(CourseInputError, match="one RGB picture"):
        plots.forward_frames(torch.zeros(2, 3, 4, 4), [1], schedule.alphas_cumprod)
    with pytest.raises(CourseInputError, match="seed"):
        plots.forward_frames(pic, [1], schedule.alphas_cumprod, seed=-1)


# --- figures ------------------------------------------------------------------------------------------


def test_picture_grid_layout_and_checks():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    rows = [[_picture(), _picture(seed=1)], [to_tensor(_picture(seed=2))]]
    fig = plots.picture_grid(rows, titles=[["a", "b"], ["c"]], row_labels=["one", "two"], suptitle="s")
    assert len(fig.axes) == 4
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c", ""]
    assert fig.axes[0].get_ylabel() == "one"
    assert plt.get_fignums() == before  # closed in pyplot: shown once, only when displayed
    fig.savefig(io.BytesIO(), format="png")
    fig = plots.show_row([_picture()] * 3, titles=["1", "2", "3"])
    assert len(fig.axes) == 3
    with pytest.raises(CourseInputError, match="titles"):
        plots.picture_grid(rows, titles=[["a"], ["c"]])
    with pytest.raises(CourseInputError, match="row_labels"):
        plots.picture_grid(rows, row_labels=["only one"])
    with pytest.raises(CourseInputError, match="rows"):
        plots.picture_grid([])


# --- GIFs ---------------------------------------------------------------------------------------------


def test_make_gif_round_trip(tmp_path):
    frames = [Image.new("RGB", (16, 10), (i * 40, 255 - i * 40, 90)) for i in range(5)]
    path = tmp_path / "sub" / "anim.gif"
    data = plots.make_gif(frames, path, frame_ms=50, first_ms=300, last_ms=900, scale=2)
    assert path.read_bytes() == data and data[:6] == b"GIF89a"
    back = _gif_frames(data)
    assert len(back) == 5 and back[0].size == (32, 20)
    assert np.abs(np.asarray(back[3], int) - np.asarray(plots.enlarge(frames[3], 2), int)).max() <= 8
    img = Image.open(io.BytesIO(data))
    durations = []
    for i in range(img.n_frames):
        img.seek(i)
        durations.append(img.info["duration"])
    assert durations == [300, 50, 50, 50, 900]
    assert img.info.get("loop") == 0


def test_make_gif_shrinks_large_frames_and_stays_small():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (128, 128, 3), dtype=np.uint8) for _ in range(6)]
    data = plots.make_gif(frames, max_side=64, colors=32)
    assert _gif_frames(data)[0].size == (64, 64)
    assert len(data) < 6 * 64 * 64 * 1.3  # about one byte per pixel at most, even for pure noise


def test_make_gif_errors():
    with pytest.raises(CourseInputError, match="non-empty"):
        plots.make_gif([])
    with pytest.raises(CourseInputError, match="same size"):
        plots.make_gif([_picture(8, 8), _picture(9, 8)])
    with pytest.raises(CourseInputError, match="frame_ms"):
        plots.make_gif([_picture()], frame_ms=0)
    with pytest.raises(CourseInputError, match="colors"):
        plots.make_gif([_picture()], colors=300)


def test_gif_html_embeds_the_gif(tmp_path):
    import base64

    data = plots.make_gif([_picture(), _picture(seed=1)])
    html = plots.gif_html(data, width=200, caption="a <b>test</b>").data
    assert base64.b64encode(data).decode() in html
    assert 'width="200"' in html and "pixelated" in html and "a &lt;b&gt;test&lt;/b&gt;" in html
    path = tmp_path / "a.gif"
    path.write_bytes(data)
    assert base64.b64encode(data).decode() in plots.gif_html(path).data
    with pytest.raises(CourseInputError, match="does not exist"):
        plots.gif_html(tmp_path / "missing.gif")
    with pytest.raises(CourseInputError, match="GIF"):
        plots.gif_html(b"\x89PNG....")


# --- decoding and a recorded run ---------------------------------------------------------------------------


def test_decode_latents_matches_the_vae(tiny_pipe):
    vae = tiny_pipe.vae
    z = torch.randn(3, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    pics = plots.decode_latents(vae, z, batch_size=2)
    assert len(pics) == 3 and pics[0].size == (16, 16)
    with torch.no_grad():
        ref = vae.decode(z / vae.config.scaling_factor).sample
    assert np.array_equal(np.asarray(pics[2]), np.asarray(to_pil(ref[2])))
    assert len(plots.decode_latents(vae, z[0])) == 1
    with pytest.raises(CourseInputError, match="channels"):
        plots.decode_latents(vae, torch.zeros(1, 3, 8, 8))


def test_record_denoising_keeps_every_step(tiny_pipe):
    import course_utils as cu

    run = plots.record_denoising("a cat", pipe=tiny_pipe, steps=4, guidance=3.0, seed=11)
    assert len(run.timesteps) == 4 and run.timesteps == sorted(run.timesteps, reverse=True)
    assert len(run.latents) == len(run.pred_x0) == len(run.x0_frames) == 4
    assert len(run.frames) == 5 and run.frames[0].size == run.image.size
    # the initial noise is the pipeline's own
    expected = tiny_pipe.prepare_latents(1, 4, 16, 16, torch.float32, "cpu", torch.Generator().manual_seed(11))
    assert torch.equal(run.initial, expected)
    # the last frame is the finished picture, and the run is the picture text_to_image makes
    assert run.frames[-1].tobytes() == run.image.tobytes()
    same = cu.text_to_image("a cat", pipe=tiny_pipe, steps=4, guidance=3.0, seed=11)
    assert same.image.tobytes() == run.image.tobytes()
    assert run.params["seed"] == 11 and run.params["steps"] == 4
