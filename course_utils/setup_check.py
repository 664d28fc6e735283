"""Is this machine ready for the course? A table of checks, each with what to do if it fails.

Taught in: chapter 0 (welcome).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass

from .paths import REQUIREMENTS

_IMPORT_NAMES = {"pillow": "PIL", "scikit-image": "skimage", "huggingface_hub": "huggingface_hub"}
_CORE = ("torch", "diffusers", "transformers", "ipywidgets", "matplotlib", "pillow", "numpy", "safetensors")


@dataclass
class Check:
    name: str
    found: str
    expected: str
    ok: bool
    advice: str = ""


def pinned_versions() -> dict[str, str]:
    """The exact versions `requirements.txt` pins."""
    pins = {}
    if REQUIREMENTS.exists():
        for line in REQUIREMENTS.read_text().splitlines():
            line = line.split("#")[0].strip()
            if "==" in line:
                name, version = line.split("==")
                pins[name.strip().lower()] = version.strip()
    return pins


def check_setup() -> list[Check]:
    """Python, the core packages against their pins, the embedded model, the cat photo and every
    ``COURSE_*`` setting that is set (a setting that cannot be used is a failed check)."""
    pins = pinned_versions()
    out = [Check("python", sys.version.split()[0], "3.11.x", sys.version_info[:2] == (3, 11),
                 "The course is tested on Python 3.11: create the environment with `make lab`.")]
    for name in _CORE:
        want = pins.get(name, "any")
        try:
            mod = importlib.import_module(_IMPORT_NAMES.get(name, name))
            found = getattr(mod, "__version__", "?")
            ok = want == "any" or found.split("+")[0] == want
            out.append(Check(name, found, want, ok, "" if ok else
                             "A different version than the course was tested with: it may still work; "
                             "`make lab` installs the tested one in .venv."))
        except ImportError:
            out.append(Check(name, "missing", want, False, f"Install it: `pip install {name}=={want}`, "
                                                            "or run `make lab`, which installs everything."))
    from .images import MAU_PATH
    from .models import EMBEDDED_DIR, check_model_folder
    from .settings import SETTINGS, setting, setting_problems

    damaged = check_model_folder(EMBEDDED_DIR) if EMBEDDED_DIR.is_dir() else ["missing"]
    out.append(Check("embedded model", "; ".join(damaged) if damaged else "complete", str(EMBEDDED_DIR.name),
                     not damaged, "Restore it with `git checkout -- assets/models` or `make train-model`."
                     if damaged else ""))
    out.append(Check("MAU's photo", "present" if MAU_PATH.exists() else "missing", MAU_PATH.name, MAU_PATH.exists(),
                     "" if MAU_PATH.exists() else "Restore it with `git checkout -- assets/mau.jpg`."))
    problems = {p.name: p for p in setting_problems()}
    for name in [n for n in SETTINGS if setting(n) is not None or n in problems] + [
            n for n in problems if n not in SETTINGS]:
        p = problems.get(name)
        out.append(Check(f"setting {name}", setting(name) or problems[name].value,
                         SETTINGS.get(name, "not read by the course"), p is None, "" if p is None else p.message))
    if not any(c.name.startswith("setting ") for c in out):
        out.append(Check("COURSE_* settings", "none set", "optional", True,
                         "The defaults are in use; chapter 0 lists the settings."))
    return out


def setup_table(checks: list[Check] | None = None) -> str:
    """The checks as a Markdown table (show it with ``display(Markdown(...))``)."""
    checks = checks if checks is not None else check_setup()
    rows = ["| | what | found | tested with | what to do |", "|---|---|---|---|---|"]
    for c in checks:
        rows.append(f"| {'✅' if c.ok else '⚠️'} | {c.name} | {c.found} | {c.expected} | {c.advice} |")
    return "\n".join(rows)
