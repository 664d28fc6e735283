"""One way to write a file: never overwrite silently, never leave a half-written file, clear errors."""

from __future__ import annotations

import errno
import html
import os
from pathlib import Path

import pytest
from PIL import Image

from course_utils import paths, plots, styles
from course_utils.errors import CourseInputError, CourseSetupError
from course_utils.saving import portable_text, save_file, save_image
from course_utils.widgets import save_button


def _writer(data: bytes):
    return lambda tmp: Path(tmp).write_bytes(data)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


# --- the name ---------------------------------------------------------------------------------------
def test_a_new_file_is_written_where_asked(tmp_path):
    target = tmp_path / "new" / "deeper" / "a.bin"
    written = save_file(target, _writer(b"hello"))
    assert written == target and target.read_bytes() == b"hello"
    assert _leftovers(target.parent) == []


def test_an_existing_file_is_kept_and_the_new_one_gets_a_number(tmp_path):
    target = tmp_path / "page.png"
    target.write_bytes(b"the learner's first page")
    second = save_file(target, _writer(b"second"))
    third = save_file(target, _writer(b"third"))
    assert second == tmp_path / "page-2.png" and third == tmp_path / "page-3.png"
    assert target.read_bytes() == b"the learner's first page"
    assert second.read_bytes() == b"second" and third.read_bytes() == b"third"


def test_overwrite_true_replaces_the_file(tmp_path):
    target = tmp_path / "page.png"
    target.write_bytes(b"old")
    assert save_file(target, _writer(b"new"), overwrite=True) == target
    assert target.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["page.png"]


def test_the_new_file_gets_ordinary_permissions(tmp_path):
    written = save_file(tmp_path / "a.bin", _writer(b"x"))
    mask = os.umask(0)
    os.umask(mask)
    assert written.stat().st_mode & 0o777 == 0o666 & ~mask  # not the 0o600 of a temporary file


def test_tilde_is_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    written = save_file("~/course/a.bin", _writer(b"x"))
    assert written == tmp_path / "home" / "course" / "a.bin" and written.read_bytes() == b"x"
    assert not (tmp_path / "~").exists()  # not a folder literally named "~"


def test_a_path_that_is_not_a_path(tmp_path):
    for bad in (None, 3, ""):
        with pytest.raises(CourseInputError, match="not a file path"):
            save_file(bad, _writer(b"x"))


# --- what the computer refuses ------------------------------------------------------------------
@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes in a read-only (0o500) folder anyway; the test below fakes the refusal")
def test_a_read_only_folder(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"kept")
    folder.chmod(0o500)
    try:
        with pytest.raises(CourseSetupError, match="does not allow writing") as info:
            save_file(folder / "a.png", _writer(b"new"), overwrite=True)
        assert str(folder / "a.png") in str(info.value)
        assert (folder / "a.png").read_bytes() == b"kept"
    finally:
        folder.chmod(0o700)


def test_permission_denied_on_the_last_step(tmp_path, monkeypatch):
    target = tmp_path / "a.png"
    target.write_bytes(b"kept")

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(CourseSetupError, match="does not allow writing") as info:
        save_file(target, _writer(b"new"), overwrite=True)
    assert f"path='{target}'" in str(info.value) and "cu.output_dir()" in str(info.value)
    assert target.read_bytes() == b"kept" and _leftovers(tmp_path) == []


def test_a_read_only_disk_while_writing(tmp_path):
    def refuse(tmp):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp))

    with pytest.raises(CourseSetupError, match="Read-only file system"):
        save_file(tmp_path / "a.png", refuse)
    assert list(tmp_path.iterdir()) == []


def test_disk_full_half_way_keeps_the_earlier_file(tmp_path):
    target = tmp_path / "mau.png"
    Image.new("RGB", (32, 32), "orange").save(target)
    before = target.read_bytes()
    new = Image.new("RGB", (32, 32), "blue")

    def half_then_full(tmp):
        import io

        buf = io.BytesIO()
        new.save(buf, format="PNG")
        with open(tmp, "wb") as f:
            f.write(buf.getvalue()[: len(buf.getvalue()) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp))

    for overwrite in (True, False):
        with pytest.raises(CourseSetupError, match="disk is full") as info:
            save_file(target, half_then_full, overwrite=overwrite)
        assert "untouched" in str(info.value) and "Free some space" in str(info.value)
        assert target.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["mau.png"]  # no temp file, no mau-2.png


def test_a_file_where_a_folder_should_be(tmp_path):
    (tmp_path / "outputs").write_text("not a folder")
    for target in (tmp_path / "outputs" / "a.png", tmp_path / "outputs" / "deeper" / "a.png"):
        with pytest.raises(CourseInputError, match="a file has that name") as info:
            save_file(target, _writer(b"x"))
        assert f"'{tmp_path / 'outputs'}'" in str(info.value)
    assert (tmp_path / "outputs").read_text() == "not a folder"


def test_a_folder_where_a_file_should_be(tmp_path):
    (tmp_path / "page.png").mkdir()
    with pytest.raises(CourseInputError, match="is a folder, not a file name"):
        save_file(tmp_path / "page.png", _writer(b"x"), overwrite=True)
    with pytest.raises(CourseInputError, match="is a folder"):
        save_file(tmp_path, _writer(b"x"))


def test_a_writer_that_meets_a_folder(tmp_path):
    def into_a_folder(tmp):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(tmp))

    with pytest.raises(CourseInputError, match="is a folder"):
        save_file(tmp_path / "a.png", into_a_folder)

    def not_a_folder(tmp):
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(tmp))

    with pytest.raises(CourseInputError, match="to be a folder"):
        save_file(tmp_path / "a.png", not_a_folder)
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_extension(tmp_path):
    img = Image.new("RGB", (8, 8), "red")
    with pytest.raises(CourseInputError, match=r"ends in '\.xyz'.*\.png"):
        save_image(img, tmp_path / "cat.xyz")
    with pytest.raises(CourseInputError, match="has no extension"):
        save_image(img, tmp_path / "cat")
    with pytest.raises(CourseInputError, match="no writer knows the format 'NOPE'"):
        save_image(img, tmp_path / "cat.png", format="NOPE")
    assert list(tmp_path.iterdir()) == []


def test_a_see_through_picture_as_jpeg(tmp_path):
    (tmp_path / "cat.jpg").write_bytes(b"the earlier jpeg")
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 128))
    with pytest.raises(CourseInputError, match=r"see-through picture needs \.png.*convert\('RGB'\)"):
        save_image(rgba, tmp_path / "cat.jpg", overwrite=True)
    assert (tmp_path / "cat.jpg").read_bytes() == b"the earlier jpeg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.jpg"]


def test_other_errors_of_the_writer_pass_through_and_leave_nothing(tmp_path):
    def broken(tmp):
        Path(tmp).write_bytes(b"half")
        raise ZeroDivisionError("a bug in the writer")

    with pytest.raises(ZeroDivisionError):
        save_file(tmp_path / "a.png", broken)
    assert list(tmp_path.iterdir()) == []


# --- metadata -----------------------------------------------------------------------------------
def test_portable_text_drops_absolute_paths():
    assert portable_text(paths.REPO_ROOT / "assets" / "models" / "minisd-cats") == "assets/models/minisd-cats"
    assert portable_text("/somewhere/else/model") == "model"
    assert portable_text("a ginger cat") == "a ginger cat" and portable_text(7) == "7"
    assert str(Path.home()) not in portable_text(f"loaded from {Path.home()}/x")


def test_generation_result_save_numbers_and_has_no_absolute_path(tmp_path):
    from course_utils.generate import GenerationResult

    source = str(paths.REPO_ROOT / "assets" / "models" / "minisd-cats")
    r = GenerationResult(images=[Image.new("RGB", (8, 8), "red")], params={"seed": 3, "model_source": source})
    first, second = r.save(tmp_path / "cat.png"), r.save(tmp_path / "cat.png")
    assert first == tmp_path / "cat.png" and second == tmp_path / "cat-2.png"
    with Image.open(second) as back:
        assert back.text == {"seed": "3", "model_source": "assets/models/minisd-cats"}
    assert str(paths.REPO_ROOT).encode() not in second.read_bytes()
    assert r.save(tmp_path / "cat.png", overwrite=True) == tmp_path / "cat.png"


# --- the course's savers go through save_file ---------------------------------------------------------
def test_styles_savers_never_overwrite_silently(tmp_path):
    page = Image.new("L", (16, 16), 255)
    a = styles.save_png_300dpi(page, tmp_path / "page.png")
    b = styles.save_png_300dpi(page, tmp_path / "page.png")
    assert (a.name, b.name) == ("page.png", "page-2.png")
    assert styles.save_png_300dpi(page, tmp_path / "page.png", overwrite=True) == a
    p1 = styles.save_print_png(page, tmp_path / "print.png")
    p2 = styles.save_print_png(page, tmp_path / "print.png", dpi=150)
    assert (p1.name, p2.name) == ("print.png", "print-2.png")
    with Image.open(p1) as one, Image.open(p2) as two:
        assert round(one.info["dpi"][0]) == 300 and round(two.info["dpi"][0]) == 150


def test_styles_saver_errors_are_course_errors(tmp_path):
    (tmp_path / "pages").write_text("a file")
    with pytest.raises(CourseInputError, match="a file has that name"):
        styles.save_png_300dpi(Image.new("L", (4, 4)), tmp_path / "pages" / "p.png")
    (tmp_path / "print.png").mkdir()
    with pytest.raises(CourseInputError, match="is a folder"):
        styles.save_print_png(Image.new("RGBA", (4, 4)), tmp_path / "print.png")


def test_make_gif_numbers_and_says_where(tmp_path):
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "blue")]
    one = plots.make_gif(frames, tmp_path / "anim.gif")
    two = plots.make_gif(frames, tmp_path / "anim.gif")
    assert one.path == tmp_path / "anim.gif" and two.path == tmp_path / "anim-2.gif"
    assert two.path.read_bytes() == bytes(two) and isinstance(two, bytes) and len(two) == len(one)
    assert plots.make_gif(frames).path is None
    assert plots.make_gif(frames, tmp_path / "anim.gif", overwrite=True).path == one.path
    (tmp_path / "blocked").write_text("x")
    with pytest.raises(CourseInputError, match="a file has that name"):
        plots.make_gif(frames, tmp_path / "blocked" / "anim.gif")


def test_output_dir_is_made_and_refuses_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "outs"))
    assert paths.output_dir("08") == tmp_path / "outs" / "08" and (tmp_path / "outs" / "08").is_dir()
    (tmp_path / "outs" / "09").write_text("a file")
    with pytest.raises(CourseInputError, match=r"COURSE_OUTPUT_DIR=.*a file has that name"):
        paths.output_dir("09")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("COURSE_OUTPUT_DIR", "~/course-outputs")
    assert paths.output_dir() == tmp_path / "course-outputs"


def test_the_tests_do_not_write_into_the_course_outputs_folder():
    assert Path(os.environ["COURSE_OUTPUT_DIR"]).resolve() != (paths.REPO_ROOT / "outputs").resolve()


# --- the save button ------------------------------------------------------------------------------
def test_save_button_shows_the_numbered_path(tmp_path):
    img = Image.new("RGB", (4, 4), "red")
    box = save_button(lambda: img, tmp_path / "x.png")
    assert box.click() == tmp_path / "x.png"
    assert box.click() == tmp_path / "x-2.png" == box.last_path
    assert str(tmp_path / "x-2.png") in box.status.value and "already there and is kept" in box.status.value
    assert save_button(lambda: img, tmp_path / "x.png", overwrite=True).click() == tmp_path / "x.png"


def test_save_button_shows_the_error_and_clears_saved(tmp_path):
    img = Image.new("RGB", (4, 4), "red")
    target = {"path": tmp_path / "ok.png"}
    box = save_button(lambda: img, lambda: target["path"])
    box.click()
    assert "Saved" in box.status.value
    (tmp_path / "blocked").write_text("a file")
    target["path"] = tmp_path / "blocked" / "x.png"
    with pytest.raises(CourseInputError, match="a file has that name") as info:
        save_image(img, target["path"])
    assert box.click() is None and box.last_path is None
    assert "Saved" not in box.status.value and "⚠️" in box.status.value
    assert html.escape(str(info.value)) in box.status.value  # the course's message, word for word


def test_save_button_shows_a_disk_full_error_of_its_saver(tmp_path):
    img = Image.new("RGB", (4, 4), "red")

    def full(picture, path):
        return save_file(path, lambda tmp: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left")))

    box = save_button(lambda: img, tmp_path / "x.png", saver=full)
    box.click()
    assert "disk is full" in box.status.value and "Saved" not in box.status.value
    assert "CourseSetupError" not in box.status.value  # the message itself, not a stack trace's last line


def test_save_button_explains_a_raw_error_of_a_saver_of_ones_own(tmp_path):
    img = Image.new("RGBA", (4, 4))
    box = save_button(lambda: img, tmp_path / "x.jpg", saver=lambda picture, path: picture.save(path))
    box.click()
    assert "see-through picture needs .png" in box.status.value and "Saved" not in box.status.value


def test_save_button_uses_the_path_its_saver_returns(tmp_path):
    page = Image.new("L", (8, 8), 255)
    box = save_button(lambda: page, tmp_path / "page.png", saver=styles.save_png_300dpi)
    box.click()
    assert box.click() == tmp_path / "page-2.png"
    assert str(tmp_path / "page-2.png") in box.status.value
