"""Every COURSE_* setting is checked: at load_pipeline() (before anything loads) and by check_setup()."""

import os

import pytest

import course_utils as cu
import course_utils.models as M
from course_utils import settings as S
from course_utils.errors import CourseSetupError


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for name in [n for n in os.environ if n.startswith("COURSE_") and n != "COURSE_OUTPUT_DIR"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    M.clear_cache()
    yield
    M.clear_cache()


BAD = [
    ("COURSE_MODEL", "nonsense", "neither a model the course knows"),
    ("COURSE_DEVICE", "banana", "not a device name"),
    ("COURSE_DEVICE", "cuda", "asks for a CUDA GPU"),
    ("COURSE_DTYPE", "float16", "on the CPU"),
    ("COURSE_DTYPE", "float8", "not a number format"),
    ("COURSE_CPU_THREADS", "999", "from 1 to 2"),
    ("COURSE_CPU_THREADS", "0", "from 1 to 2"),
    ("COURSE_CPU_THREADS", "two", "from 1 to 2"),
]


@pytest.mark.parametrize("name, value, says", BAD)
def test_a_bad_loading_setting_stops_load_pipeline_with_its_name(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(CourseSetupError) as err:
        cu.load_pipeline("embedded", device="cpu", verbose=False)
    text = str(err.value)
    assert f"{name}={value!r}" in text and says in text
    assert f"unset {name}" in text and "use 'auto'" not in text  # a way out, not a circle
    assert not M.loaded_models()  # nothing was loaded


@pytest.mark.parametrize("name, value, says", BAD + [
    ("COURSE_CAT_PHOTO", "/no/such/cat.jpg", "does not exist"),
    ("COURSE_OUTPUT_DIR", "/etc/hostname/outputs", "is a file"),
])
def test_check_setup_shows_a_bad_setting_as_a_problem(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    rows = [c for c in cu.check_setup() if c.name == f"setting {name}"]
    assert len(rows) == 1 and not rows[0].ok and says in rows[0].advice
    assert "⚠️" in cu.setup_table() and "⚠️" in cu.settings_table()


def test_a_broken_cat_photo_is_caught(monkeypatch, tmp_path):
    broken = tmp_path / "cat.jpg"
    broken.write_bytes(b"not a picture at all")
    monkeypatch.setenv("COURSE_CAT_PHOTO", str(broken))
    assert [p.name for p in S.setting_problems()] == ["COURSE_CAT_PHOTO"]
    with pytest.raises(CourseSetupError, match="COURSE_CAT_PHOTO"):
        S.check_settings(["COURSE_CAT_PHOTO"])


def test_a_read_only_output_dir_is_caught(monkeypatch, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    real_access = os.access
    # faked as well as set, because root may write in a 0o500 folder
    monkeypatch.setattr("os.access", lambda p, mode: False if str(p) == str(locked) else real_access(p, mode))
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(locked / "outputs"))
    assert "does not let the course write" in S.setting_problems(["COURSE_OUTPUT_DIR"])[0].message


def test_good_settings_pass_and_empty_counts_as_unset(monkeypatch, tmp_path, tiny_model_dir):
    for name, value in [("COURSE_MODEL", "embedded"), ("COURSE_MODEL", "auto"), ("COURSE_MODEL", str(tiny_model_dir)),
                        ("COURSE_MODEL", "owner/some-model"), ("COURSE_DEVICE", "cpu"), ("COURSE_DTYPE", "float32"),
                        ("COURSE_CPU_THREADS", "2"), ("COURSE_CAT_PHOTO", str(cu.images.MAU_PATH)),
                        ("COURSE_OUTPUT_DIR", str(tmp_path / "new" / "folder")), ("COURSE_MODEL", "  ")]:
        monkeypatch.setenv(name, value)
        assert S.setting_problems([name]) == [], (name, value)
    assert not (tmp_path / "new").exists()  # checking never creates the folder


def test_a_typo_in_a_setting_name_is_reported_with_the_likely_name(monkeypatch):
    monkeypatch.setenv("COURSE_MODLE", "embedded")
    (problem,) = S.setting_problems()
    assert problem.name == "COURSE_MODLE" and "did you mean COURSE_MODEL?" in problem.message
    row = next(c for c in cu.check_setup() if c.name == "setting COURSE_MODLE")
    assert not row.ok


def test_no_settings_is_one_ok_row(monkeypatch):
    monkeypatch.delenv("COURSE_OUTPUT_DIR")
    rows = [c for c in cu.check_setup() if "COURSE" in c.name]
    assert [(r.name, r.found, r.ok) for r in rows] == [("COURSE_* settings", "none set", True)]


def test_every_setting_the_package_reads_is_declared():
    import re
    from pathlib import Path

    root = Path(cu.__file__).parent
    read = set()
    for path in root.rglob("*.py"):
        if path.name == "settings.py":  # names a typo as an example
            continue
        read |= set(re.findall(r"\b(COURSE_[A-Z_]+)\b", path.read_text()))
    assert read <= set(S.SETTINGS), read - set(S.SETTINGS)
    assert {"COURSE_MODEL", "COURSE_DEVICE", "COURSE_DTYPE", "COURSE_CPU_THREADS", "COURSE_CAT_PHOTO",
            "COURSE_OUTPUT_DIR"} <= set(S.CHECKS)
