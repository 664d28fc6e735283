"""The course's settings: environment variables named ``COURSE_*``, each checked before it is used.

Taught in: chapter 0 (welcome: checking your setup).

A learner sets them in the terminal before starting JupyterLab (``export COURSE_MODEL=embedded``)
or in a notebook before the first picture (``os.environ["COURSE_MODEL"] = "embedded"``). An empty
value counts as unset. `setting_problems` says what is wrong with each one that is set;
`check_settings` raises one `CourseSetupError` listing them all, and `load_pipeline` calls it before
it loads anything, so that a typo never silently changes what the course does.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import CourseInputError, CourseSetupError

#: Every variable the course reads, and what it does.
SETTINGS: dict[str, str] = {
    "COURSE_MODEL": "which model draws: 'embedded', 'sd15', 'sd-turbo', a hub id 'owner/name' or a model folder",
    "COURSE_DEVICE": "where to compute: 'cpu', 'cuda', 'cuda:1' or 'mps'",
    "COURSE_DTYPE": "the number format: 'float32', 'float16' or 'bfloat16' (half precision only on a GPU)",
    "COURSE_CPU_THREADS": "CPU threads for small models such as the embedded one (1 up to the number of cores)",
    "COURSE_CAT_PHOTO": "a photo of your own cat, used wherever the course uses MAU",
    "COURSE_OUTPUT_DIR": "the folder the course writes its files to (default: outputs/ in the course folder)",
    "COURSE_TORCH": "which torch build make installs: 'cpu', 'cuda' (default: cuda where nvidia-smi lists a GPU)",
    # read by the course's own tests only
    "COURSE_CHROMIUM": "the browser the course's own tests drive (tests only)",
    "COURSE_BROWSER_NOTEBOOK": "the notebook the browser test opens (tests only)",
    "COURSE_REQUIRE_BROWSER": "make the browser test fail instead of skip without a browser (tests only)",
    "COURSE_STRICT_CHECKS": "1 turns a failed Try-it check into an error, so the tests notice it (tests only)",
}

#: The settings `load_pipeline` needs to be right before it loads a model.
LOADING = ("COURSE_MODEL", "COURSE_DEVICE", "COURSE_DTYPE", "COURSE_CPU_THREADS")


@dataclass(frozen=True)
class SettingProblem:
    """One setting that cannot be used: its name, its value and a message that names both and says
    what to do."""

    name: str
    value: str
    message: str

    def __str__(self) -> str:
        return self.message


def setting(name: str) -> str | None:
    """The value of one ``COURSE_*`` variable, stripped; None when it is unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or None


def _how_to_unset(name: str) -> str:
    return (f"Fix it, or unset it (`unset {name}` in the terminal before starting JupyterLab, or "
            f"`del os.environ[{name!r}]` in the notebook) to use the course's default.")


def cpu_thread_setting() -> int | None:
    """``COURSE_CPU_THREADS`` as a number of threads from 1 to the machine's cores, or None when unset.

    Raises `CourseSetupError` for anything else: more threads than cores make them wait for each
    other (a picture of the embedded model took 47 times as long with 999 threads).
    """
    value = setting("COURSE_CPU_THREADS")
    if value is None:
        return None
    cores = os.cpu_count() or 1
    try:
        n = int(value)
    except ValueError:
        n = None
    if n is None or not 1 <= n <= cores:
        raise CourseSetupError(
            f"COURSE_CPU_THREADS={value!r} must be a whole number of threads from 1 to {cores} (this machine's "
            f"cores); 1 is fastest for the embedded model. {_how_to_unset('COURSE_CPU_THREADS')}")
    return n


def _check_model(value: str) -> str | None:
    from .models import REGISTRY, check_model_folder, lookup_model

    if value == "auto":
        return None
    if value not in REGISTRY and Path(value).expanduser().is_dir():
        damaged = check_model_folder(Path(value).expanduser())
        if damaged:
            return (f"COURSE_MODEL={value!r} names a folder that is not a usable diffusers model: "
                    + "; ".join(damaged) + ". " + _how_to_unset("COURSE_MODEL"))
        return None
    try:
        lookup_model(value)
    except CourseInputError:
        return (f"COURSE_MODEL={value!r} is neither a model the course knows ({', '.join(REGISTRY)}), a folder "
                f"holding a model_index.json, nor a hub id like 'owner/name'. {_how_to_unset('COURSE_MODEL')}")
    return None


def _check_device(value: str) -> str | None:
    from .device import parse_device

    try:
        parse_device(value, "COURSE_DEVICE")
    except CourseInputError as e:
        return f"{e} {_how_to_unset('COURSE_DEVICE')}"
    return None


def _check_dtype(value: str) -> str | None:
    from .device import get_device, get_dtype

    device = "cpu" if setting_problems(("COURSE_DEVICE",)) else get_device()
    try:
        get_dtype(device, value)
    except CourseInputError as e:
        message = re.sub(r"^dtype=\S+", f"COURSE_DTYPE={value!r}", str(e)).split(" Leave dtype unset")[0]
        return f"{message} {_how_to_unset('COURSE_DTYPE')}"
    return None


def _check_threads(value: str) -> str | None:
    try:
        cpu_thread_setting()
    except CourseSetupError as e:
        return str(e)
    return None


def _check_photo(value: str) -> str | None:
    from .images import load_image

    try:
        load_image(value)
    except CourseInputError as e:
        return f"COURSE_CAT_PHOTO={value!r} cannot be used: {e} {_how_to_unset('COURSE_CAT_PHOTO')}"
    return None


def _check_output_dir(value: str) -> str | None:
    from .saving import blocking_file

    folder = Path(value).expanduser()
    blocker = blocking_file(folder)
    if blocker is not None:
        return (f"COURSE_OUTPUT_DIR={value!r}: '{blocker}' is a file, so the folder cannot be made there. "
                + _how_to_unset("COURSE_OUTPUT_DIR"))
    probe = folder
    while not probe.exists() and probe.parent != probe:  # the nearest part of the path that exists decides
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        return (f"COURSE_OUTPUT_DIR={value!r}: this computer does not let the course write in '{probe}'. "
                + _how_to_unset("COURSE_OUTPUT_DIR"))
    return None


def _check_browser(value: str) -> str | None:
    if Path(value).expanduser().is_file():
        return None
    return f"COURSE_CHROMIUM={value!r}: no program at that path. {_how_to_unset('COURSE_CHROMIUM')}"


CHECKS = {
    "COURSE_MODEL": _check_model,
    "COURSE_DEVICE": _check_device,
    "COURSE_DTYPE": _check_dtype,
    "COURSE_CPU_THREADS": _check_threads,
    "COURSE_CAT_PHOTO": _check_photo,
    "COURSE_OUTPUT_DIR": _check_output_dir,
    "COURSE_CHROMIUM": _check_browser,
}


def unknown_settings() -> list[SettingProblem]:
    """``COURSE_*`` variables the course does not read (a typo such as ``COURSE_MODLE``)."""
    out = []
    for name in sorted(os.environ):
        if name.startswith("COURSE_") and name not in SETTINGS:
            close = difflib.get_close_matches(name, SETTINGS, n=1)
            hint = f"did you mean {close[0]}?" if close else f"the course reads {', '.join(list(SETTINGS)[:6])}."
            out.append(SettingProblem(name, os.environ[name],
                                      f"{name} is not a variable the course reads: {hint}"))
    return out


def setting_problems(names=None) -> list[SettingProblem]:
    """What is wrong with the ``COURSE_*`` variables that are set (all of `SETTINGS`, or `names`).

    Unset and empty variables are fine: the course then uses its default. Variables the course does
    not read are reported too when `names` is None.
    """
    out = []
    for name in SETTINGS if names is None else names:
        value = setting(name)
        check = CHECKS.get(name)
        if value is not None and check is not None:
            problem = check(value)
            if problem:
                out.append(SettingProblem(name, value, problem))
    return out + (unknown_settings() if names is None else [])


def check_settings(names=LOADING) -> None:
    """Raise one `CourseSetupError` that lists every unusable setting among `names`."""
    problems = setting_problems(names)
    if problems:
        lines = "\n".join(f"- {p}" for p in problems)
        raise CourseSetupError(f"{'A setting' if len(problems) == 1 else 'Some settings'} of the course "
                               f"cannot be used:\n{lines}")


def settings_table() -> str:
    """The learner's settings as a Markdown table: what each does, its value now, and whether it can be
    used (show it with ``display(Markdown(...))``)."""
    problems = {p.name: p for p in setting_problems()}
    rows = ["| | setting | what it does | now |", "|---|---|---|---|"]
    for name, what in SETTINGS.items():
        if "(tests only)" in what:
            continue
        value = setting(name)
        mark = "⚠️" if name in problems else "✅"
        rows.append(f"| {mark} | `{name}` | {what} | {'not set (default)' if value is None else f'`{value}`'} |")
    for name, p in problems.items():
        if name not in SETTINGS:
            rows.append(f"| ⚠️ | `{name}` | {p.message} | `{p.value}` |")
    return "\n".join(rows)
