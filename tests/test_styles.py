"""Tests for course_utils.styles: manga (chapter 8) and the 16-bit t-shirt (chapter 9).

Every picture is drawn here or in tmp_path; MAU's photo is the only file read from the repository.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from course_utils import styles as st
from course_utils.errors import CourseInputError
from course_utils.images import fit_square, mau

MD = set(st.MD_LEVELS)


# -- pictures ----------------------------------------------------------------------------------


def disc_picture(w: int = 160, h: int = 120, gradient: bool = False, radius: float = 0.3) -> tuple:
    """A red disc on a light background (uniform or a blue-to-grey gradient), and the disc's mask."""
    y, x = np.mgrid[0:h, 0:w]
    mask = (x + 0.5 - w / 2) ** 2 + (y + 0.5 - h / 2) ** 2 <= (radius * min(w, h)) ** 2
    if gradient:
        t = (y / (h - 1))[:, :, None]
        bg = (1 - t) * np.array([170, 200, 240]) + t * np.array([225, 225, 215])
    else:
        bg = np.broadcast_to(np.array([235, 235, 230]), (h, w, 3))
    rgb = np.where(mask[:, :, None], np.array([200, 40, 50]), bg)
    return Image.fromarray(rgb.astype(np.uint8), "RGB"), mask


def sprite_disc(size: int = 24, colour=(216, 36, 0)) -> Image.Image:
    """An RGBA sprite: an opaque disc in a transparent square."""
    y, x = np.mgrid[0:size, 0:size]
    mask = (x - size / 2 + 0.5) ** 2 + (y - size / 2 + 0.5) ** 2 <= (size / 3) ** 2
    arr = np.zeros((size, size, 4), np.uint8)
    arr[mask] = (*colour, 255)
    return Image.fromarray(arr, "RGBA")


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return mau(size=256)


@pytest.fixture(scope="module")
def grey_photo() -> Image.Image:
    return mau(size=200).convert("L")


@pytest.fixture(scope="module")
def tiny_photo() -> Image.Image:
    return mau().resize((40, 30), Image.Resampling.LANCZOS)


@pytest.fixture
def transparent_png(tmp_path):
    """A PNG file: MAU's photo in an opaque centre, with a fully transparent border 16 pixels wide."""
    rgba = mau(size=160).convert("RGBA")
    arr = np.asarray(rgba).copy()
    arr[:16, :, 3] = arr[-16:, :, 3] = arr[:, :16, 3] = arr[:, -16:, 3] = 0
    path = tmp_path / "mau_cutout.png"
    Image.fromarray(arr, "RGBA").save(path)
    return path


@pytest.fixture(scope="module")
def huge_photo() -> Image.Image:
    """4000×3000 pixels: a gradient with a disc, made without a big float array."""
    x = np.linspace(0, 255, 4000, dtype=np.float32).astype(np.uint8)
    arr = np.empty((3000, 4000, 3), np.uint8)
    arr[:, :, 0] = x[None, :]
    arr[:, :, 1] = 120
    arr[:, :, 2] = x[::-1][None, :]
    arr[1000:2000, 1500:2500] = (200, 40, 50)
    return Image.fromarray(arr, "RGB")


def values(img: Image.Image) -> set[int]:
    return set(np.unique(np.asarray(img)).tolist())


def opaque_colours(img: Image.Image) -> set[tuple[int, int, int]]:
    arr = np.asarray(img.convert("RGBA"))
    return {tuple(int(v) for v in c) for c in arr[arr[:, :, 3] > 0][:, :3]}


# -- chapter 8: manga --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["photo", "grey_photo", "tiny_photo", "transparent_png"])
def test_manga_filter_is_pure_black_and_white(kind, request):
    source = request.getfixturevalue(kind)
    out = st.manga_filter(source)
    if isinstance(source, Image.Image):
        size = source.size
    else:
        with Image.open(source) as f:
            size = f.size
    assert out.mode == "L" and out.size == size
    assert values(out) <= {0, 255}
    assert st.manga_stats(out)["grey_share"] == 0.0


def test_transparent_border_is_white_paper(transparent_png):
    out = np.asarray(st.manga_filter(transparent_png))
    assert (out[:10, :] == 255).all() and (out[:, -10:] == 255).all()


def test_xdog_lines_ink_edges_only():
    arr = np.full((80, 80), 230, np.uint8)
    arr[25:55, 25:55] = 60
    lines = np.asarray(st.xdog_lines(Image.fromarray(arr, "L")))
    assert values(Image.fromarray(lines)) <= {0, 255}
    assert (lines[:15, :] == 255).all() and (lines[38:42, 38:42] == 255).all()  # flat areas: paper
    assert (lines[24:27, 30:50] == 0).any()  # the square's edge: ink
    assert values(st.xdog_lines(Image.new("L", (64, 64), 200))) == {255}


def test_posterize_has_at_most_levels_values(photo):
    for levels in (2, 3, 5):
        assert len(values(st.posterize(photo, levels=levels))) <= levels
    assert values(st.posterize(photo, levels=2)) <= {0, 255}


@pytest.mark.parametrize(("period", "angle"), [(4, 45.0), (6, 45.0), (9, 0.0), (12, 30.0)])
def test_screentone_period_is_measured(period, angle):
    tone = st.screentone(Image.new("L", (256, 256), 128), period=period, angle=angle)
    assert values(tone) <= {0, 255}
    stats = st.manga_stats(tone)
    assert stats["tone_period_px"] == pytest.approx(period, rel=0.15)
    assert stats["tone_frequency"] == pytest.approx(1 / period, rel=0.15)
    assert stats["tone_peak_ratio"] > 20


@pytest.mark.parametrize("darkness", [0.0, 0.2, 0.5, 0.8, 1.0])
def test_screentone_dot_area_is_darkness(darkness):
    grey = round(255 * (1 - darkness))
    tone = st.screentone(Image.new("L", (240, 240), grey), period=8)
    assert st.manga_stats(tone)["black_share"] == pytest.approx(darkness, abs=0.04)


def test_screentone_dots_are_round_and_separate():
    from scipy import ndimage

    tone = np.asarray(st.screentone(Image.new("L", (240, 240), round(255 * 0.8)), period=12, angle=0))
    labels, count = ndimage.label(tone == 0)
    assert count == pytest.approx((240 / 12) ** 2, rel=0.1)  # one dot per cell
    sizes = np.bincount(labels.ravel())[1:]
    # a round dot of 20 % of a 12-pixel cell is about 29 pixels, its box about 6×6
    box = ndimage.find_objects(labels)[int(np.argmax(sizes))]
    assert abs((box[0].stop - box[0].start) - (box[1].stop - box[1].start)) <= 1


def test_manga_filter_on_photo_measures_its_screen():
    out = st.manga_filter(mau(size=512), period=6)
    stats = st.manga_stats(out)
    assert stats["tone_period_px"] == pytest.approx(6, rel=0.15)
    assert 0.02 < stats["black_share"] < 0.6 and stats["grey_share"] == 0.0


def test_combine_manga_uses_photo_resolution(photo):
    square = fit_square(photo, 192)
    small = square.resize((64, 64), Image.Resampling.BOX)
    out = st.combine_manga(small, photo)  # 3:2 photo cropped to the model picture's square
    assert out.size == (photo.height, photo.height) and values(out) <= {0, 255}
    assert st.combine_manga(small, square, size=128).size == (128, 128)
    with pytest.raises(CourseInputError, match="size"):
        st.combine_manga(small, square, size=(3, 3))


def test_manga_stats_shares_and_uniform_picture():
    arr = np.full((64, 64), 255, np.uint8)
    arr[:16] = 0
    arr[16:24] = 128
    stats = st.manga_stats(Image.fromarray(arr, "L"))
    assert stats["black_share"] == pytest.approx(0.25) and stats["grey_share"] == pytest.approx(0.125)
    assert st.manga_stats(Image.new("L", (64, 64), 255))["tone_period_px"] is None


def test_speech_bubble_draws_on_images_and_drawings():
    from PIL import ImageDraw

    for mode in ("L", "RGB", "RGBA"):
        page = Image.new(mode, (400, 300), "white")
        assert st.speech_bubble(page, (40, 20, 360, 160), "Nyaa! Where is my breakfast?") is page
        grey = np.asarray(page.convert("L"))
        assert (grey[88:93, 20:40] < 128).any()  # the rim at the bubble's left end
        assert (grey[70:110, 100:300] < 128).any()  # the text, in the middle
        assert (grey[40:50, 100:300] == 255).all()  # paper between the rim and the text
    page = Image.new("L", (400, 300), "white")
    draw = ImageDraw.Draw(page)
    assert st.speech_bubble(draw, (40, 20, 360, 160), "Nya", tail=(300, 280)) is draw
    assert np.asarray(page)[270:280, 280:300].min() == 0  # the tail reaches down towards its point
    with pytest.raises(CourseInputError, match="xy"):
        st.speech_bubble(page, (40, 20, 45, 160), "too narrow")


def test_manga_page_is_saved_at_300_dpi(tmp_path, photo):
    panel = st.manga_filter(photo)
    page = st.manga_page([panel] * 4, captions=["MAU wakes up.", None, "", None],
                         bubbles=[(0, "Nya!"), {"panel": 2, "text": "Breakfast?", "box": (0.1, 0.6, 0.6, 0.8)}],
                         title="MAU")
    assert page.size == (2480, 3508) and page.mode == "L"
    path = st.save_png_300dpi(page, tmp_path / "pages" / "mau_page.png")
    with Image.open(path) as saved:
        assert [round(v) for v in saved.info["dpi"]] == [300, 300]
        assert saved.size == (2480, 3508)
    plain = st.manga_page([panel] * 4)
    assert not np.array_equal(np.asarray(plain), np.asarray(page))
    strip = st.manga_page([panel] * 4, layout="4koma", page_size_px=(1240, 1754))
    assert strip.size == (1240, 1754)
    colour = st.manga_page([photo] * 4, page_size_px=(1240, 1754))
    assert colour.mode == "RGB"


@pytest.mark.parametrize(
    ("call", "word"),
    [
        (lambda p: st.manga_page([p] * 3), "4 panels"),
        (lambda p: st.manga_page([p] * 4, layout="3x3"), "layout"),
        (lambda p: st.manga_page([p] * 4, bubbles=[(7, "Nya")]), "panel"),
        (lambda p: st.manga_page([p] * 4, captions=["a"]), "captions"),
        (lambda p: st.save_png_300dpi(p, "page.jpg"), ".png"),
    ],
)
def test_manga_page_bad_input(call, word, photo):
    with pytest.raises(CourseInputError, match=word):
        call(photo)


# -- chapter 9: the 9-bit colour space ---------------------------------------------------------


def test_snap_to_9bit_and_is_9bit():
    assert st.MD_LEVELS == (0, 36, 72, 108, 144, 180, 216, 252)
    assert st.snap_to_9bit((255, 100, 17)) == (252, 108, 0)
    arr = np.random.default_rng(0).integers(0, 256, (10, 10, 3))
    snapped = st.snap_to_9bit(arr)
    assert snapped.dtype == np.uint8 and snapped.shape == arr.shape and st.is_9bit(snapped).all()
    assert np.abs(snapped.astype(int) - arr).max() <= 18
    assert st.is_9bit((252, 108, 0)) and not st.is_9bit((255, 108, 0))
    assert st.is_9bit((0, 36, 72, 128))  # alpha is ignored
    with pytest.raises(CourseInputError):
        st.snap_to_9bit((300, 0, 0))


@pytest.mark.parametrize("kind", ["photo", "grey_photo", "tiny_photo"])
def test_quantize_md_palette(kind, request):
    source = request.getfixturevalue(kind)
    out, palette = st.quantize_md(source, n_colors=15)
    assert out.mode == "RGB" and out.size == source.size
    colours = opaque_colours(out)
    assert len(colours) <= 15 and colours == set(palette)
    assert all(st.is_9bit(c) for c in colours)


def test_quantize_md_is_deterministic(photo):
    a, pa = st.quantize_md(photo, n_colors=8, seed=3)
    b, pb = st.quantize_md(photo, n_colors=8, seed=3)
    assert a.tobytes() == b.tobytes() and pa == pb
    assert len(pa) <= 8


def test_quantize_md_dithering_obeys_the_palette(photo):
    plain, _ = st.quantize_md(photo, n_colors=6, dither=False)
    dithered, palette = st.quantize_md(photo, n_colors=6, dither=True)
    colours = opaque_colours(dithered)
    assert len(colours) <= 6 and all(st.is_9bit(c) for c in colours) and colours == set(palette)
    assert plain.tobytes() != dithered.tobytes()


def test_quantize_md_keeps_transparency(transparent_png):
    out, palette = st.quantize_md(transparent_png, n_colors=10)
    arr = np.asarray(out)
    assert out.mode == "RGBA"
    assert (arr[:16, :, 3] == 0).all() and (arr[40:-40, 40:-40, 3] == 255).all()
    assert set(np.unique(arr[:, :, 3])) <= {0, 255}
    assert len(opaque_colours(out)) <= 10 and all(st.is_9bit(c) for c in palette)
    with pytest.raises(CourseInputError, match="no opaque pixel"):
        st.quantize_md(Image.new("RGBA", (20, 20), (0, 0, 0, 0)))


@pytest.mark.parametrize("method", ["mode", "box"])
def test_pixelate_makes_a_small_9bit_sprite(photo, tiny_photo, transparent_png, method):
    sprite = st.pixelate(photo, grid=48, n_colors=12, method=method)
    assert max(sprite.size) == 48 and sprite.size == (48, 32)
    assert len(opaque_colours(sprite)) <= 12 and all(st.is_9bit(c) for c in opaque_colours(sprite))
    assert max(st.pixelate(tiny_photo, grid=64, method=method).size) == 64  # a tiny photo is enlarged
    cut = st.pixelate(transparent_png, grid=40, method=method)
    arr = np.asarray(cut)
    assert cut.mode == "RGBA" and (arr[0, :, 3] == 0).all() and (arr[20, 20, 3] == 255)


def test_pixelate_with_dither(photo):
    sprite = st.pixelate(photo, grid=32, n_colors=5, dither=True)
    assert len(opaque_colours(sprite)) <= 5 and all(st.is_9bit(c) for c in opaque_colours(sprite))


def test_add_outline_only_at_the_border_of_the_alpha():
    from scipy import ndimage

    sprite = sprite_disc(24)
    out = st.add_outline(sprite, colour=(10, 20, 30), width=1)
    assert out.mode == "RGBA" and out.size == (26, 26)
    before = np.pad(np.asarray(sprite), ((1, 1), (1, 1), (0, 0)))
    after = np.asarray(out)
    opaque = before[:, :, 3] == 255
    ring = ndimage.binary_dilation(opaque) & ~opaque  # 4-neighbour ring
    assert (after[opaque] == before[opaque]).all()  # the sprite's own pixels are untouched
    assert (after[ring, 3] == 255).all() and (after[ring, :3] == (0, 36, 36)).all()  # snapped colour
    assert (after[~(opaque | ring), 3] == 0).all()  # nothing else
    thick = st.add_outline(sprite, width=2, connectivity=8)
    assert (np.asarray(thick)[:, :, 3] == 255).sum() > (after[:, :, 3] == 255).sum()
    same_size = st.add_outline(sprite, expand=False)
    assert same_size.size == sprite.size


def test_add_outline_needs_transparency(photo):
    with pytest.raises(CourseInputError, match="remove_background"):
        st.add_outline(photo)


@pytest.mark.parametrize("gradient", [False, True])
@pytest.mark.parametrize("method", ["flood", "threshold"])
def test_remove_background_cuts_out_the_disc(gradient, method):
    pic, disc = disc_picture(gradient=gradient)
    out = st.remove_background(pic, method=method)
    alpha = np.asarray(out)[:, :, 3]
    assert out.mode == "RGBA" and out.size == pic.size
    assert (alpha[0, :] == 0).all() and (alpha[-1, :] == 0).all() and (alpha[:, 0] == 0).all()
    kept = alpha == 255
    iou = (kept & disc).sum() / (kept | disc).sum()
    assert iou > 0.9


def test_remove_background_on_large_and_odd_pictures(transparent_png, huge_photo, grey_photo):
    big, disc = disc_picture(1200, 900, gradient=True)
    alpha = np.asarray(st.remove_background(big))[:, :, 3] == 255
    assert (alpha & disc).sum() / (alpha | disc).sum() > 0.9  # the mask is made small, enlarged back
    out = st.remove_background(transparent_png)
    assert (np.asarray(out)[:16, :, 3] == 0).all()  # already transparent stays transparent
    assert st.remove_background(grey_photo).mode == "RGBA"
    ellipse = np.asarray(st.remove_background(huge_photo, method="ellipse"))[:, :, 3]
    assert ellipse[1500, 2000] == 255 and ellipse[0, 0] == 0 and ellipse[1500, 10] == 0


def test_upscale_for_print_integer_squares_and_dpi(tmp_path):
    sprite = st.pixelate(disc_picture(64, 48)[0].convert("RGBA"), grid=64)
    sprite = st.add_outline(st.remove_background(sprite), width=1)
    w, h = sprite.size
    big = st.upscale_for_print(sprite)
    assert big.size == (4500, 5400) and big.mode == "RGBA"
    factor = min(4500 // w, 5400 // h)
    ox, oy = (4500 - w * factor) // 2, (5400 - h * factor) // 2
    arr = np.asarray(big)
    block = arr[oy:oy + h * factor, ox:ox + w * factor].reshape(h, factor, w, factor, 4)
    assert (block == block[:, :1, :, :1]).all()  # every sprite pixel is a uniform square
    assert (block[:, 0, :, 0] == np.asarray(sprite)).all()
    path = st.save_print_png(big, tmp_path / "mau_print.png")
    with Image.open(path) as saved:
        assert saved.mode == "RGBA" and saved.size == (4500, 5400)
        assert [round(v) for v in saved.info["dpi"]] == [300, 300]
    report = st.check_print_file(path)
    assert report["ok"], report
    assert st.assert_print_ready(path)["n_colors"] <= 15


def small_print(colours, size=(120, 144), opaque_border=False) -> Image.Image:
    """A print picture in memory: one stripe per colour in the middle, dpi 300."""
    arr = np.zeros((size[1], size[0], 4), np.uint8)
    if opaque_border:
        arr[:, :, 3] = 255
    for i, c in enumerate(colours):
        arr[40:100, 10 + i * 5:15 + i * 5] = (*c, 255)
    img = Image.fromarray(arr, "RGBA")
    img.info["dpi"] = (300, 300)
    return img


NINE_BIT = [(r, g, 108) for r in (0, 72, 144, 216) for g in (0, 36, 72, 180, 252)][:17]


@pytest.mark.parametrize(
    ("picture", "failed", "hint"),
    [
        (lambda: small_print(NINE_BIT), "colors_ok", "17 opaque colours"),
        (lambda: small_print([(0, 0, 0), (250, 36, 36)]), "all_9bit", "9-bit"),
        (lambda: small_print([(0, 0, 0)], opaque_border=True), "background_transparent", "transparent"),
        (lambda: small_print([(0, 0, 0)], size=(100, 144)), "size_ok", "size is 100×144"),
    ],
)
def test_check_print_file_reports_each_failure(picture, failed, hint):
    img = picture()
    report = st.check_print_file(img, size=(120, 144))
    assert not report[failed] and not report["ok"]
    others = {"size_ok", "dpi_ok", "colors_ok", "all_9bit", "background_transparent", "alpha_binary"} - {failed}
    assert all(report[k] for k in others), report
    with pytest.raises(CourseInputError, match=hint):
        st.assert_print_ready(img, size=(120, 144))


def test_check_print_file_reads_dpi_from_the_file(tmp_path):
    img = small_print([(0, 0, 0), (252, 216, 0)])
    untagged = tmp_path / "no_dpi.png"
    img.save(untagged)  # PIL does not write info["dpi"] unless asked
    report = st.check_print_file(untagged, size=(120, 144))
    assert report["dpi"] is None and not report["dpi_ok"] and report["colors_ok"]
    with pytest.raises(CourseInputError, match="dpi is missing"):
        st.assert_print_ready(untagged, size=(120, 144))
    tagged = st.save_print_png(img, tmp_path / "dpi.png")
    assert st.check_print_file(tagged, size=(120, 144))["ok"]
    assert not st.check_print_file(img)["size_ok"]  # the default size is 4500×5400
    half = small_print([(0, 0, 0)])
    half.putpixel((60, 60), (0, 0, 0, 128))
    assert not st.check_print_file(half, size=(120, 144))["alpha_binary"]


@pytest.mark.parametrize("size", [300, 1000])
def test_tshirt_mockup_is_rgb_and_keeps_pixels_crisp(size):
    sprite = st.add_outline(sprite_disc(24, colour=(216, 36, 0)))
    mock = st.tshirt_mockup(sprite, shirt_colour=(30, 30, 36), size=size)
    assert mock.mode == "RGB" and mock.size == (size, size)
    colours = {tuple(c) for c in np.asarray(mock).reshape(-1, 3).tolist()}
    assert (216, 36, 0) in colours  # nearest-neighbour: the sprite's colour arrives unblended
    light = st.tshirt_mockup(st.upscale_for_print(sprite), shirt_colour=(236, 226, 240), size=400)
    assert light.size == (400, 400)


@pytest.mark.parametrize("preset", sorted(st.PRESETS))
def test_presets_make_print_ready_sprites(preset, photo):
    settings = st.PRESETS[preset]
    assert settings["n_colors"] <= 14 and {"grid", "dither", "outline", "shirt_colour"} <= set(settings)
    sprite = st.make_sprite(photo, preset)
    arr = np.asarray(sprite)
    assert sprite.mode == "RGBA" and arr[0, 0, 3] == 0 and arr[-1, -1, 3] == 0
    colours = opaque_colours(sprite)
    assert len(colours) <= 15 and all(st.is_9bit(c) for c in colours)
    assert max(sprite.size) == settings["grid"] + 2 * settings["outline_width"]
    report = st.check_print_file(st.upscale_for_print(sprite))
    assert report["ok"], report


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda p: st.quantize_md(p, n_colors=0), "n_colors"),
        (lambda p: st.quantize_md(p, n_colors=16), "n_colors"),
        (lambda p: st.quantize_md(p, n_colors=2.5), "n_colors"),
        (lambda p: st.pixelate(p, grid=7), "grid"),
        (lambda p: st.pixelate(p, grid=321), "grid"),
        (lambda p: st.pixelate(p, method="median"), "method"),
        (lambda p: st.screentone(p, period=0), "period"),
        (lambda p: st.screentone(p, period=2), "period"),
        (lambda p: st.screentone(p, period=float("nan")), "period"),
        (lambda p: st.manga_filter(p, period=100), "period"),
        (lambda p: st.manga_filter(p, tone_levels=1), "tone_levels"),
        (lambda p: st.manga_filter(p, line_strength=-1), "line_strength"),
        (lambda p: st.xdog_lines(p, sigma=0), "sigma"),
        (lambda p: st.posterize(p, levels=1), "levels"),
        (lambda p: st.upscale_for_print(p, size=(0, 5400)), "size"),
        (lambda p: st.upscale_for_print(p, size=(4500,)), "size"),
        (lambda p: st.upscale_for_print(p, size=(100, 100)), "larger than the canvas"),
        (lambda p: st.upscale_for_print(p, dpi=0), "dpi"),
        (lambda p: st.add_outline(sprite_disc(), colour=(300, 0, 0)), "colour"),
        (lambda p: st.add_outline(sprite_disc(), width=0), "width"),
        (lambda p: st.remove_background(p, tolerance=0), "tolerance"),
        (lambda p: st.remove_background(p, method="grabcut"), "method"),
        (lambda p: st.tshirt_mockup(sprite_disc(), size=50), "size"),
        (lambda p: st.tshirt_mockup(sprite_disc(), shirt_colour="black"), "shirt_colour"),
        (lambda p: st.tshirt_mockup(Image.new("RGBA", (8, 8))), "transparent"),
        (lambda p: st.check_print_file(p, max_colors=0), "max_colors"),
        (lambda p: st.make_sprite(p, preset="vaporwave"), "preset"),
        (lambda p: st.make_sprite(p, grid_size=32), "grid_size"),
        (lambda p: st.manga_stats(p, min_period=10, max_period=5), "max_period"),
    ],
)
def test_bad_parameters_raise_clear_errors(call, argument, photo):
    with pytest.raises(CourseInputError, match=argument):
        call(photo)


def test_huge_photo(huge_photo):
    # The full-resolution manga filters refuse it at once with the limit and what to do ...
    with pytest.raises(CourseInputError, match="MAX_FILTER_PIXELS") as info:
        st.manga_filter(huge_photo)
    assert "load_image" in str(info.value)
    with pytest.raises(CourseInputError, match="MAX_FILTER_PIXELS"):
        st.screentone(huge_photo)
    # ... the 16-bit helpers work on a sample or a small copy, so they handle it.
    out, palette = st.quantize_md(huge_photo, n_colors=6)
    assert out.size == (4000, 3000) and len(palette) <= 6
    assert opaque_colours(out.resize((400, 300), Image.Resampling.NEAREST)) <= set(palette)
    assert st.pixelate(huge_photo, grid=64).size == (64, 48)
    alpha = np.asarray(st.remove_background(huge_photo))[:, :, 3]
    assert alpha[1500, 2000] == 255 and alpha[0, 0] == 0
    assert st.manga_stats(huge_photo)["black_share"] == 0.0


def test_crop_to_subject_checkerboard_and_border_plainness():
    from course_utils import styles as S

    canvas = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    canvas.paste((200, 60, 20, 255), (10, 5, 20, 25))
    cropped = S.crop_to_subject(canvas)
    assert cropped.size == (10, 20)
    shown = S.on_checkerboard(canvas, scale=2)
    assert shown.size == (80, 60) and shown.mode == "RGB"
    plain = Image.new("RGB", (64, 64), (60, 160, 80))
    plain.paste((230, 120, 40), (20, 20, 44, 44))
    busy = Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype("uint8"))
    assert S.border_plainness(plain) > 0.95 > 0.5 > S.border_plainness(busy)


def test_tshirt_problems_names_what_stops_a_print():
    from PIL import Image

    from course_utils import styles as S

    sprite = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    sprite.paste((252, 144, 36, 255), (2, 2, 6, 6))
    assert S.tshirt_problems(sprite, (255, 255, 255), (0, 0, 0)) == []
    found = S.tshirt_problems(sprite, (10, 10, 10), (0, 0, 0))
    assert len(found) == 1 and "outline hardly shows" in found[0]
    opaque = Image.new("RGBA", (8, 8), (252, 144, 36, 255))
    assert any("see-through" in p for p in S.tshirt_problems(opaque, (255, 255, 255), (0, 0, 0)))
    off_palette = sprite.copy()
    off_palette.putpixel((3, 3), (250, 1, 1, 255))
    assert any("outside the 512" in p for p in S.tshirt_problems(off_palette, (255, 255, 255), (0, 0, 0)))
