"""Tests for course_utils.images: every picture file is made in tmp_path while the test runs."""

from __future__ import annotations

import struct
import warnings
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils.errors import CourseInputError
from course_utils.images import (
    MAU_PATH,
    fit_square,
    image_grid,
    load_image,
    mau,
    to_numpy,
    to_pil,
    to_tensor,
)

RED = (220, 30, 40)


def gradient(w: int = 64, h: int = 48) -> Image.Image:
    """A deterministic RGB test picture."""
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None, None]
    arr = np.concatenate([np.broadcast_to(x, (h, w, 1)), np.broadcast_to(y, (h, w, 1)),
                          np.full((h, w, 1), 90, np.float32)], axis=2)
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def png_with_header(path, width: int, height: int) -> None:
    """A tiny PNG file whose header claims width × height pixels (its data is a few bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


def raises_clearly(source, *hints, **kwargs) -> str:
    """Assert load_image raises CourseInputError and that the message carries each hint."""
    with pytest.raises(CourseInputError) as info:
        load_image(source, **kwargs)
    message = str(info.value)
    for hint in hints:
        assert hint.lower() in message.lower(), f"{hint!r} not in: {message}"
    return message


# -- modes -------------------------------------------------------------------------------------


def test_rgb_png_round_trip(tmp_path):
    path = tmp_path / "rgb.png"
    gradient().save(path)
    img = load_image(path)
    assert img.mode == "RGB" and img.size == (64, 48)
    assert np.array_equal(np.asarray(img), np.asarray(gradient()))
    assert load_image(str(path)).size == (64, 48)  # str paths too


def test_rgba_is_laid_on_white_unless_kept(tmp_path):
    arr = np.zeros((40, 40, 4), np.uint8)
    arr[..., :3] = RED
    arr[:, 20:, 3] = 255  # left half transparent, right half opaque red
    path = tmp_path / "rgba.png"
    Image.fromarray(arr, "RGBA").save(path)
    img = load_image(path)
    assert img.mode == "RGB"
    assert img.getpixel((5, 5)) == (255, 255, 255)
    assert img.getpixel((35, 5)) == RED
    kept = load_image(path, keep_alpha=True)
    assert kept.mode == "RGBA" and kept.getpixel((5, 5))[3] == 0 and kept.getpixel((35, 5)) == (*RED, 255)


def test_keep_alpha_gives_opaque_rgba_for_rgb(tmp_path):
    path = tmp_path / "rgb.png"
    gradient().save(path)
    img = load_image(path, keep_alpha=True)
    assert img.mode == "RGBA" and img.getextrema()[3] == (255, 255)


def test_la_png(tmp_path):
    arr = np.zeros((40, 40, 2), np.uint8)
    arr[..., 0] = 60
    arr[:, 20:, 1] = 255
    path = tmp_path / "la.png"
    Image.fromarray(arr, "LA").save(path)
    assert Image.open(path).mode == "LA"
    img = load_image(path)
    assert img.getpixel((5, 5)) == (255, 255, 255) and img.getpixel((35, 5)) == (60, 60, 60)


def test_palette_png_with_and_without_transparency(tmp_path):
    base = Image.new("P", (40, 40), 1)
    base.putpalette([0, 0, 0, *RED, 0, 200, 0] + [0] * 759)
    base.paste(2, (0, 0, 20, 40))  # left half green
    plain = tmp_path / "p.png"
    base.save(plain)
    img = load_image(plain)
    assert img.mode == "RGB" and img.getpixel((5, 5)) == (0, 200, 0) and img.getpixel((35, 5)) == RED

    see_through = tmp_path / "p_trns.png"
    base.save(see_through, transparency=2)  # palette entry 2 (green) is transparent
    assert Image.open(see_through).mode == "P" and "transparency" in Image.open(see_through).info
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's palette warning must not reach the learner
        img = load_image(see_through)
    assert img.getpixel((5, 5)) == (255, 255, 255) and img.getpixel((35, 5)) == RED


@pytest.mark.parametrize("ext", ["jpg", "tif"])
def test_cmyk(tmp_path, ext):
    path = tmp_path / f"cmyk.{ext}"
    Image.new("RGB", (40, 40), RED).convert("CMYK").save(path)
    assert Image.open(path).mode == "CMYK"
    img = load_image(path)
    assert img.mode == "RGB"
    r, g, b = img.getpixel((20, 20))
    assert r > 180 and g < 80 and b < 80


def test_grayscale_and_one_bit(tmp_path):
    gray = tmp_path / "gray.jpg"
    Image.new("L", (40, 40), 100).save(gray, quality=95)
    assert load_image(gray).getpixel((3, 3)) == pytest.approx((100, 100, 100), abs=2)

    bits = Image.new("1", (40, 40), 0)
    bits.paste(1, (20, 0, 40, 40))
    path = tmp_path / "bits.png"
    bits.save(path)
    img = load_image(path)
    assert img.getpixel((5, 5)) == (0, 0, 0) and img.getpixel((35, 5)) == (255, 255, 255)


@pytest.mark.parametrize("ext", ["png", "tif"])
def test_sixteen_bit_is_scaled_not_clipped(tmp_path, ext):
    arr = np.zeros((40, 40), np.uint16)
    arr[:, :20] = 257 * 100  # 8-bit 100
    arr[:, 20:] = 65535
    path = tmp_path / f"deep.{ext}"
    Image.fromarray(arr).save(path)
    assert Image.open(path).mode.startswith("I;16")
    img = load_image(path)
    assert img.getpixel((5, 5)) == (100, 100, 100)  # clipping would give 255
    assert img.getpixel((35, 5)) == (255, 255, 255)


def test_32bit_integer_is_scaled_by_range(tmp_path):
    arr = np.zeros((40, 40), np.int32)
    arr[:, 20:] = 1000
    arr[0, 0] = 500
    path = tmp_path / "int.tif"
    Image.fromarray(arr, "I").save(path)
    assert Image.open(path).mode == "I"
    img = load_image(path)
    assert img.getpixel((5, 5)) == (0, 0, 0) and img.getpixel((35, 5)) == (255, 255, 255)
    assert img.getpixel((0, 0))[0] in (127, 128)


def test_float_images(tmp_path):
    unit = np.full((40, 40), 0.5, np.float32)
    path = tmp_path / "unit.tif"
    Image.fromarray(unit, "F").save(path)
    assert Image.open(path).mode == "F"
    assert load_image(path).getpixel((5, 5))[0] in (127, 128)

    wide = np.linspace(-3.0, 5.0, 40 * 40, dtype=np.float32).reshape(40, 40)
    path = tmp_path / "wide.tif"
    Image.fromarray(wide, "F").save(path)
    img = load_image(path)
    assert img.getpixel((0, 0)) == (0, 0, 0) and img.getpixel((39, 39)) == (255, 255, 255)


@pytest.mark.parametrize("mode", ["YCbCr", "LAB", "HSV", "RGBX", "PA"])
def test_other_modes_from_pil(mode):
    src = gradient().convert("RGBA").convert("PA") if mode == "PA" else gradient().convert(mode)
    img = load_image(src)
    assert img.mode == "RGB" and img.size == (64, 48)


def test_pil_input_is_not_modified():
    src = gradient()
    before = np.asarray(src).copy()
    out = load_image(src, size=32)
    assert out is not src and src.size == (64, 48) and np.array_equal(np.asarray(src), before)


def test_exif_orientation_is_applied(tmp_path):
    arr = np.zeros((40, 64, 3), np.uint8)
    arr[:, :32] = RED  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    path = tmp_path / "phone.jpg"
    Image.fromarray(arr).save(path, exif=exif.tobytes(), quality=95)
    assert Image.open(path).size == (64, 40)
    img = load_image(path)
    assert img.size == (40, 64)  # width and height swapped
    top, bottom = img.getpixel((20, 5)), img.getpixel((20, 58))
    assert top[0] > 180 and bottom[0] < 60  # the left half is now on top


# -- size --------------------------------------------------------------------------------------


def test_size_int_fits_longer_side():
    img = load_image(gradient(), size=32)
    assert img.size == (32, 24)
    img = load_image(gradient(48, 64), size=100)
    assert img.size == (75, 100)


def test_size_tuple_is_exact():
    assert load_image(gradient(), size=(50, 50)).size == (50, 50)
    assert load_image(gradient(), size=[40, 20]).size == (40, 20)


@pytest.mark.parametrize("size", [0, -5, "512", (512,), (0, 10), (10, 2.5), 1.5, True, (64, 64, 3)])
def test_bad_size_is_refused(size):
    raises_clearly(gradient(), "size", "pass", size=size)


def test_size_larger_than_max_pixels_is_refused():
    raises_clearly(gradient(), "too large", "smaller size", size=(100_000, 100_000))
    raises_clearly(gradient(), "the image", "max_pixels=50,000,000", "smaller size", size=20_000)


@pytest.mark.parametrize("kwargs", [{"min_size": 0}, {"min_size": "32"}, {"max_pixels": -1}])
def test_bad_limits_are_refused(kwargs):
    raises_clearly(gradient(), next(iter(kwargs)), **kwargs)


# -- bad files ---------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    raises_clearly(tmp_path / "no_such_cat.jpg", "no_such_cat.jpg", "does not exist", "check the spelling")


def test_directory(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    raises_clearly(folder, "photos", "folder", "pass the path of one picture")


def test_text_file_named_jpg(tmp_path):
    path = tmp_path / "cat.jpg"
    path.write_text("this is a shopping list, not a cat\n")
    raises_clearly(path, "cat.jpg", "not a picture", "looks like text", "save or export")


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.png"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes())
    raises_clearly(path, "noise.png", "not a picture", "JPEG or PNG")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    raises_clearly(path, "empty.png", "empty")


@pytest.mark.parametrize("ext", ["jpg", "png"])
def test_truncated_file_is_found_at_once(tmp_path, ext):
    rng = np.random.default_rng(1)
    full = tmp_path / f"full.{ext}"
    Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)).save(full)
    data = full.read_bytes()
    half = tmp_path / f"half.{ext}"
    half.write_bytes(data[: len(data) // 2])
    raises_clearly(half, f"half.{ext}", "damaged or incomplete", "download")


def test_truncated_file_opened_by_pil_first(tmp_path):
    full = tmp_path / "full.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(full)
    data = full.read_bytes()
    half = tmp_path / "half.png"
    half.write_bytes(data[: len(data) // 2])
    with Image.open(half) as lazy:  # PIL opens lazily: the damage shows only when decoding
        raises_clearly(lazy, "the image", "damaged")


def test_corrupted_files_never_raise_anything_else(tmp_path):
    full = tmp_path / "good.png"
    gradient().save(full)
    data = bytearray(full.read_bytes())
    rng = np.random.default_rng(3)
    for i in range(20):
        bad = bytearray(data)
        for pos in rng.integers(8, len(bad), 3):
            bad[pos] ^= 0xFF
        path = tmp_path / f"flipped_{i}.png"
        path.write_bytes(bytes(bad))
        try:
            assert load_image(path).size == (64, 48)
        except CourseInputError as err:
            assert f"flipped_{i}.png" in str(err)


def test_too_small(tmp_path):
    path = tmp_path / "tiny.png"
    Image.new("RGB", (8, 8), RED).save(path)
    raises_clearly(path, "tiny.png", "8×8", "at least 32", "larger picture")
    assert load_image(path, min_size=8).size == (8, 8)


def test_decompression_bomb_is_refused_from_the_header(tmp_path):
    path = tmp_path / "bomb.png"
    png_with_header(path, 100_000, 100_000)
    assert path.stat().st_size < 200
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raises_clearly(path, "bomb.png", "decompression bomb", "smaller picture")
    assert not caught  # no Pillow warning leaks to the learner


def test_large_header_under_pillows_limit_is_refused_by_max_pixels(tmp_path):
    path = tmp_path / "huge.png"
    png_with_header(path, 10_000, 10_000)  # 100 M pixels: Pillow only warns
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raises_clearly(path, "huge.png", "10000×10000", "more than the 50,000,000", "max_pixels")
    assert not caught
    raises_clearly(gradient(), "the image", "max_pixels", max_pixels=1000)


def test_web_address():
    raises_clearly("https://example.com/cat.jpg", "cat.jpg", "download")


@pytest.mark.parametrize("source", [None, 42, b"\x89PNG", torch.zeros(3, 64, 64)])
def test_wrong_source_type(source):
    raises_clearly(source, "load_image cannot read", "pass")


# -- arrays ------------------------------------------------------------------------------------


def test_float_array():
    arr = np.zeros((40, 50, 3), np.float32)
    arr[..., 0] = 1.0
    arr[..., 1] = 0.5
    img = load_image(arr)
    assert img.size == (50, 40) and img.getpixel((0, 0)) in ((255, 128, 0), (255, 127, 0))


def test_uint8_gray_and_rgba_arrays():
    gray = np.full((40, 40), 77, np.uint8)
    assert load_image(gray).getpixel((1, 1)) == (77, 77, 77)
    assert load_image(gray[..., None]).getpixel((1, 1)) == (77, 77, 77)
    rgba = np.zeros((40, 40, 4), np.uint8)
    assert load_image(rgba).getpixel((1, 1)) == (255, 255, 255)  # fully transparent -> white
    ints = np.full((40, 40, 3), 200, np.int64)  # what np.array([[...]]) makes
    assert load_image(ints).getpixel((1, 1)) == (200, 200, 200)


@pytest.mark.parametrize(
    "arr, hint",
    [
        (np.zeros((3, 40, 40), np.float32), "channels-first"),
        (np.zeros((1, 40, 40, 3), np.float32), "batch"),
        (np.zeros((40, 40, 2), np.uint8), "(height, width, 3)"),
        (np.zeros(1600, np.uint8), "(height, width, 3)"),
        (np.zeros((8, 8, 3), np.uint8), "at least 32"),
        (np.full((40, 40, 3), -0.5, np.float32), "(arr + 1) / 2"),
        (np.full((40, 40, 3), 200.0), "0..255"),
        (np.full((40, 40), 4000, np.uint16), "65535"),
        (np.zeros((40, 40), np.complex64), "dtype"),
    ],
)
def test_bad_arrays(arr, hint):
    raises_clearly(arr, "the array", hint)


def test_nan_array():
    arr = np.zeros((40, 40, 3), np.float32)
    arr[3, 4, 0] = np.nan
    raises_clearly(arr, "the array", "1 NaN", "check where the array comes from")
    arr[3, 4, 0] = np.inf
    raises_clearly(arr, "the array", "infinite")


# -- MAU ---------------------------------------------------------------------------------------


def test_mau(monkeypatch):
    monkeypatch.delenv("COURSE_CAT_PHOTO", raising=False)
    assert MAU_PATH.name == "mau.jpg" and MAU_PATH.is_file()
    img = mau()
    assert img.mode == "RGB" and img.size == (451, 300)
    assert max(mau(size=128).size) == 128


def test_course_cat_photo_replaces_mau(tmp_path, monkeypatch):
    own = tmp_path / "my_cat.png"
    Image.new("RGB", (80, 60), RED).save(own)
    monkeypatch.setenv("COURSE_CAT_PHOTO", str(own))
    img = mau()
    assert img.size == (80, 60) and img.getpixel((0, 0)) == RED
    monkeypatch.setenv("COURSE_CAT_PHOTO", "")
    assert mau().size == (451, 300)


def test_course_cat_photo_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CAT_PHOTO", str(tmp_path / "lost_cat.jpg"))
    with pytest.raises(CourseInputError, match="lost_cat.jpg.*COURSE_CAT_PHOTO"):
        mau()


# -- conversions and grids ---------------------------------------------------------------------


def test_tensor_round_trip():
    src = gradient()
    x = to_tensor(src)
    assert x.shape == (1, 3, 48, 64) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    assert np.array_equal(np.asarray(to_pil(x)), np.asarray(src))
    assert to_pil(x[0]).size == (64, 48)


def test_to_pil_clamps_and_checks():
    img = to_pil(torch.full((3, 8, 8), 3.0))
    assert img.getpixel((0, 0)) == (255, 255, 255)
    assert to_pil(torch.full((1, 3, 8, 8), -2.0)).getpixel((0, 0)) == (0, 0, 0)
    for bad, hint in [(torch.zeros(2, 3, 8, 8), "batch of 2"), (torch.zeros(4, 8, 8), "latents"),
                      (torch.full((3, 8, 8), float("nan")), "NaN"), (np.zeros((8, 8, 3)), "load_image")]:
        with pytest.raises(CourseInputError, match=hint):
            to_pil(bad)


def test_to_numpy():
    arr = to_numpy(gradient())
    assert arr.shape == (48, 64, 3) and arr.dtype == np.float32
    assert 0.0 <= arr.min() and arr.max() <= 1.0
    with pytest.raises(CourseInputError, match="load_image"):
        to_numpy("cat.jpg")


def test_fit_square():
    sq = fit_square(gradient(64, 48), 32)
    assert sq.size == (32, 32) and sq.mode == "RGB"
    assert fit_square(gradient().convert("RGBA"), 16).mode == "RGBA"
    with pytest.raises(CourseInputError, match="positive whole number"):
        fit_square(gradient(), 0)


def test_image_grid_with_labels():
    tiles = [gradient(40, 30), gradient(20, 20), to_tensor(gradient(40, 30))[0]]
    grid = image_grid(tiles, cols=2, labels=["one", "two", "a label far too long to fit under one tile"])
    assert grid.mode == "RGB"
    assert grid.width == 2 * 40 + 3 * 2
    assert grid.height > 2 * 30 + 3 * 2  # room for the labels
    plain = image_grid(tiles, cols=3, pad=0)
    assert plain.size == (120, 30)


def test_image_grid_batch_and_errors():
    batch = torch.zeros(4, 3, 8, 8)
    assert image_grid(batch).size == (2 * 8 + 3 * 2, 2 * 8 + 3 * 2)
    cases = [
        ({"images": []}, "empty"),
        ({"images": [gradient()], "labels": ["a", "b"]}, "2 labels"),
        ({"images": [gradient()], "cols": 0}, "cols"),
        ({"images": [gradient()], "bg": "red"}, "bg"),
        ({"images": ["cat.jpg"]}, "picture number 0"),
    ]
    for kwargs, hint in cases:
        with pytest.raises(CourseInputError, match=hint):
            image_grid(**kwargs)
