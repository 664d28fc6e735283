"""Where the course keeps its files, and where notebooks write what a learner takes home.

Taught in: chapter 8 and 9 (the manga page and the print file are written to ``outputs/``).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSETS = REPO_ROOT / "assets"


def output_dir(sub: str = "") -> Path:
    """The folder for files the notebooks make (``outputs/`` at the course's root, ignored by git).

    ``COURSE_OUTPUT_DIR`` moves it elsewhere. The folder is created if needed.
    """
    base = Path(os.environ.get("COURSE_OUTPUT_DIR") or REPO_ROOT / "outputs").expanduser()
    path = base / sub if sub else base
    path.mkdir(parents=True, exist_ok=True)
    return path
