"""course_utils.pipeline: stage timing, latents as pictures, a run step by step, and upscaling."""

import math
import time

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import pipeline as P
from course_utils.errors import CourseInputError, CourseSetupError
from course_utils.plots import DenoisingRun


def _checkerboard(size=64, cell=4):
    y, x = np.mgrid[:size, :size]
    a = (((x // cell) + (y // cell)) % 2 * 255).astype(np.uint8)
    return Image.fromarray(np.stack([a] * 3, axis=-1))


def test_stage_timer_sums_calls_per_run_and_takes_medians():
    timer = P.StageTimer()
    for _ in range(3):
        timer.new_run()
        with timer("encode"):
            time.sleep(0.002)
        for _ in range(4):
            with timer("unet"):
                time.sleep(0.001)
    assert timer.runs == 3 and timer.order == ["encode", "unet"]
    assert len(timer.calls("unet")) == 12 and len(timer.per_run("unet")) == 3
    assert timer.median_per_run("unet") == pytest.approx(sum(timer.calls("unet")[:4]), rel=0.8)
    rows = {r["stage"]: r for r in timer.table()}
    assert rows["unet"]["calls_per_run"] == 4
    assert rows["unet"]["ms_per_run"] > rows["unet"]["ms_per_call"] >= 1.0
    assert sum(r["share"] for r in rows.values()) == pytest.approx(1.0)
    with pytest.raises(CourseInputError, match="no stage called 'vae'"):
        timer.calls("vae")


def test_stage_timer_keeps_the_time_when_the_block_fails_and_checks_names():
    timer = P.StageTimer()
    with pytest.raises(ZeroDivisionError), timer("boom"):
        raise ZeroDivisionError("the stage failed")
    assert timer.runs == 1 and len(timer.calls("boom")) == 1  # a first stage starts a run by itself
    with pytest.raises(CourseInputError, match="non-empty name"):
        with timer(""):
            pass
    with pytest.raises(CourseInputError, match="nothing was timed"):
        P.StageTimer().table()


def test_show_latent_draws_every_channel_and_the_decoded_picture():
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=(8, 8), down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4, norm_num_groups=4,
                        layers_per_block=1, sample_size=16)
    z = torch.randn((1, 4, 8, 8), generator=torch.Generator().manual_seed(0))
    fig = P.show_latent(z, vae, title="a latent")
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 5  # four channels and the picture
    assert images[-1].images[0].get_array().shape == (16, 16, 3)
    lo, hi = images[0].images[0].get_clim()
    assert lo == -hi == -float(z.abs().max())  # one symmetric scale for all channels
    with pytest.raises(CourseInputError, match="4 channels"):
        P.show_latent(torch.zeros(1, 3, 8, 8), vae)
    with pytest.raises(CourseInputError, match="ONE latent"):
        P.show_latent(torch.zeros(2, 4, 8, 8), vae)


def test_film_strip_lays_out_labelled_rows():
    frames = [Image.new("RGB", (8, 8), (20 * i, 0, 0)) for i in range(12)]
    strip = P.film_strip(frames, cols=5, thumb=16)
    assert strip.width > 5 * 16 and strip.height > 3 * 16 and strip.width < 6 * 16 + 40
    big = P.film_strip([Image.new("RGB", (512, 256))] * 2, labels=["a", "b"], cols=2, thumb=64)
    assert 128 < big.width < 150 and 32 < big.height < 80  # large frames are shrunk to 64 × 32
    with pytest.raises(CourseInputError, match="one label per frame"):
        P.film_strip(frames, labels=["a"])
    with pytest.raises(CourseInputError, match="non-empty list"):
        P.film_strip([])


def test_settling_separates_layout_from_detail():
    y, x = np.mgrid[:64, :64].astype(np.float32)
    bx, by = x // 8 * 8 / 56, y // 8 * 8 / 56
    layout = np.stack([bx, by, np.full_like(x, 0.5)], axis=-1) * 0.6              # colour steps, 8 × 8 blocks
    detail = ((x + y) % 2)[..., None] * 0.3                                       # a one-pixel checkerboard
    final = layout + detail
    noise = np.random.default_rng(0).random((64, 64, 3)).astype(np.float32) * 0.9
    curves = P.settling([noise, 0.5 * noise + 0.5 * final, final], block=8)
    for name in ("layout", "detail"):
        assert abs(curves[name][0]) < 0.3 and curves[name][-1] == pytest.approx(1.0)
        assert curves[name][0] < curves[name][1] < curves[name][2]
    # the layout without the detail: the layout is all there, the detail not at all
    curves = P.settling([layout + 0.15], final=final, block=8)
    assert curves["layout"][0] == pytest.approx(1.0, abs=1e-3) and abs(curves["detail"][0]) < 0.01
    with pytest.raises(CourseInputError, match="same size"):
        P.settling([noise, noise[:32]])
    with pytest.raises(CourseInputError, match="block must be"):
        P.settling([noise], block=1)


def _fake_run(n=3):
    frames = [Image.new("RGB", (8, 8), (60 * i, 0, 0)) for i in range(n + 1)]
    guesses = [Image.new("RGB", (8, 8), (0, 60 * i, 0)) for i in range(n)]
    return DenoisingRun(timesteps=[900, 500, 100][:n], initial=torch.zeros(1, 4, 2, 2), latents=[], pred_x0=[],
                        frames=frames, x0_frames=guesses, image=frames[-1])


def test_step_explorer_moves_through_the_stored_frames():
    ex = P.step_explorer(_fake_run(), scale=2)
    first = ex.image.value
    ex.controls["step"].value = 2
    assert ex.image.value != first and "step 2 of 3" in ex.message.value
    assert ex.controls["step"].max == 3
    bad = _fake_run()
    bad.x0_frames = bad.x0_frames[:1]
    with pytest.raises(CourseInputError, match="expected 4 and 3"):
        P.step_explorer(bad)
    with pytest.raises(CourseInputError, match="record_denoising"):
        P.step_explorer("not a run")


def test_upscale_methods_sizes_and_errors():
    small = _checkerboard(16, 2)
    for method in P.UPSCALE_METHODS:
        assert P.upscale(small, 64, method).size == (64, 64)
    assert P.upscale(small, (48, 32), "Lanczos").size == (48, 32)
    near = np.asarray(P.upscale(small, 64, "nearest"))
    assert np.array_equal(near[::4, ::4], np.asarray(small))  # nearest copies each pixel into a 4x4 block
    with pytest.raises(CourseInputError, match="not a known filter"):
        P.upscale(small, 64, "magic")
    with pytest.raises(CourseInputError, match="size must be"):
        P.upscale(small, 0)


def test_sharpness_and_psnr():
    board = _checkerboard(64, 4)
    assert P.sharpness(Image.new("RGB", (32, 32), "grey")) == 0.0
    smooth = P.upscale(P.upscale(board, 16, "bicubic"), 64, "bicubic")
    assert P.sharpness(board) > P.sharpness(smooth) > 0
    assert P.psnr(board, board) == math.inf
    a = np.zeros((8, 8, 3), np.uint8)
    b = np.full((8, 8, 3), 255, np.uint8)
    assert P.psnr(a, b) == pytest.approx(0.0)
    with pytest.raises(CourseInputError, match="same size"):
        P.psnr(board, small := board.resize((32, 32)))
    assert small.size == (32, 32)


def test_upscaler_refuses_a_cpu_with_a_clear_message():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(CourseSetupError, match="needs a CUDA GPU"):
        P.load_upscaler()
    with pytest.raises(CourseInputError, match="at most 256"):
        P.upscale_x4(Image.new("RGB", (512, 512)))


def test_settling_chart_marks_the_first_pass_over_the_threshold():
    curves = {"layout": np.array([0.2, 0.95, 0.97]), "detail": np.array([0.1, 0.5, 0.92])}
    fig, first = P.settling_chart(curves, threshold=0.9)
    assert first == {"layout": 2, "detail": 3} and len(fig.axes) == 1
    with pytest.raises(CourseInputError, match="settling returns"):
        P.settling_chart({"layout": curves["layout"]})
