"""Install the pinned torch build that fits this machine (``make`` runs it before the other requirements).

    python course_utils/install_torch.py            # what make install does
    python course_utils/install_torch.py --dry-run  # only say what it would install (pip's --dry-run --report)

PyPI's Linux torch wheel is the CUDA build: about 4 GB with its ``nvidia-*`` libraries, of no use on a laptop
without an NVIDIA GPU. So, with the version pinned in requirements.txt:

- an NVIDIA GPU (``nvidia-smi -L`` lists one): the CUDA build, from the configured index (PyPI);
- no NVIDIA GPU: the CPU build, from PyTorch's CPU wheel index (which also serves torch's few small
  dependencies). Where that index cannot be reached (an offline mirror, a closed network), it says so in
  one line and takes torch from the configured index instead.

``COURSE_TORCH=cpu`` or ``COURSE_TORCH=cuda`` overrides the choice. Standard library only: it runs before
anything else is installed, with the virtual environment's Python.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# found from this file, not course_utils.paths: this script runs before torch (which the package imports) is there
REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"


def pinned_torch(requirements: Path = REQUIREMENTS) -> str:
    """The exact torch pin of requirements.txt, e.g. ``torch==2.13.0``."""
    for line in requirements.read_text().splitlines():
        if re.match(r"\s*torch\s*==", line):
            return line.split("#")[0].replace(" ", "")
    raise SystemExit(f"{requirements} pins no torch version (a line such as torch==2.13.0)")


def has_nvidia_gpu() -> bool:
    """True when ``nvidia-smi -L`` runs and lists a GPU."""
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def choose(env: dict | None = None, gpu: bool | None = None) -> str:
    """``"cuda"`` or ``"cpu"``: ``COURSE_TORCH`` where set, else whether this machine has an NVIDIA GPU."""
    wish = (env if env is not None else os.environ).get("COURSE_TORCH", "").strip().lower()
    if wish in ("cpu", "cuda"):
        return wish
    if wish not in ("", "auto"):
        raise SystemExit(f"COURSE_TORCH={wish!r} is not understood: use cpu, cuda or leave it unset")
    return "cuda" if (has_nvidia_gpu() if gpu is None else gpu) else "cpu"


def pip_args(build: str, pin: str) -> list[str]:
    """What follows ``pip install`` for that build (the CUDA one, and the fallback, from the configured index)."""
    if build == "cuda":
        return [pin]
    return ["--index-url", CPU_INDEX, "--retries", "1", "--timeout", "20", pin]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    pin = pinned_torch()
    build = choose()
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    if "--dry-run" in argv:
        pip += ["--dry-run", "--ignore-installed", "--report", "-"]
    if build == "cuda":
        print(f"torch: an NVIDIA GPU is here, so the CUDA build of {pin} from the configured index (about 4 GB)")
        return subprocess.call(pip + pip_args(build, pin))
    print(f"torch: no NVIDIA GPU here, so the CPU build of {pin} (about 0.7 GB installed; "
          "COURSE_TORCH=cuda chooses the CUDA build)")
    if subprocess.call(pip + pip_args(build, pin), stderr=subprocess.DEVNULL) != 0:
        print("torch: PyTorch's CPU index cannot be reached; taking torch from the configured index instead")
        return subprocess.call(pip + pip_args("cuda", pin))
    return 0


if __name__ == "__main__":
    sys.exit(main())
