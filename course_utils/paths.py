"""Where the course keeps its files, and where notebooks write what a learner takes home.

Taught in: chapter 8 and 9 (the manga page and the print file are written to ``outputs/``).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSETS = REPO_ROOT / "assets"
MODELS = ASSETS / "models"  # the embedded model's folder is MODELS / "minisd-cats"
CONFIGS = ASSETS / "configs"  # real models' configs (no weights), for chapter 6's counts
REQUIREMENTS = REPO_ROOT / "requirements.txt"


def output_dir(sub: str = "") -> Path:
    """The folder for files the notebooks make (``outputs/`` at the course's root, ignored by git).

    ``COURSE_OUTPUT_DIR`` moves it elsewhere. The folder is created if needed; a file standing where
    the folder should be, or a folder the computer does not let the course write in, raises an error
    that says what to do (`CourseInputError` or `CourseSetupError`). Files saved there by the course's
    helpers never overwrite an earlier one unless asked (see `course_utils.saving`).
    """
    from .saving import ensure_folder

    env = os.environ.get("COURSE_OUTPUT_DIR")
    base = Path(env or REPO_ROOT / "outputs").expanduser()
    path = base / sub if sub else base
    label = "COURSE_OUTPUT_DIR" if env else "output_dir"
    return ensure_folder(path, label=label, what="output folder")
