"""What one learner's kernel needs, chapter by chapter: ``make classroom``.

For a teacher sizing a JupyterHub: every notebook is run top to bottom in a fresh kernel, as a learner
would with Run All, and the kernel reports its peak memory (the largest resident set it reached) and
the CPU time it used; the wall time is measured around it. The table goes to
``outputs/classroom.md`` (a new name if one is there) and is what ``docs/teaching.md`` quotes.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from .paths import REPO_ROOT

# Appended to each notebook: the kernel's own account of what it used (Linux reports ru_maxrss in KiB).
_REPORT = """
import json, resource
_self = resource.getrusage(resource.RUSAGE_SELF)
_kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print("COURSE-CLASSROOM " + json.dumps({"peak_mib": max(_self.ru_maxrss, _kids.ru_maxrss) / 1024,
                                         "cpu_s": _self.ru_utime + _self.ru_stime + _kids.ru_utime + _kids.ru_stime}))
"""


def run_notebook(notebook: Path, extra_code: str | None = None, timeout: int = 900):
    """`notebook` run top to bottom in a fresh kernel, in its own folder, with `extra_code` as a last cell;
    returns the executed notebook (``nbformat.NotebookNode``). Shared by `make classroom` and `make site`."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    if extra_code:
        nb.cells.append(nbformat.v4.new_code_cell(extra_code))
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    return nb


def measure(notebook: Path, timeout: int = 900) -> dict:
    """Run `notebook` in a fresh kernel; return its peak memory (MiB), CPU seconds and wall seconds."""
    t0 = time.perf_counter()
    nb = run_notebook(notebook, _REPORT, timeout)
    wall = time.perf_counter() - t0
    for out in nb.cells[-1].outputs:
        text = out.get("text", "")
        if "COURSE-CLASSROOM " in text:
            found = json.loads(text.split("COURSE-CLASSROOM ", 1)[1])
            return {"notebook": str(notebook.relative_to(REPO_ROOT)), "wall_s": wall, **found}
    raise RuntimeError(f"{notebook}: the kernel did not report its use")


def table(rows: list[dict], header: str) -> str:
    lines = [header, "", "| notebook | peak memory (MiB) | CPU time (s) | wall time (s) |", "|---|---:|---:|---:|"]
    lines += [f"| {r['notebook']} | {r['peak_mib']:.0f} | {r['cpu_s']:.1f} | {r['wall_s']:.1f} |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> Path:
    from .device import cpu_description
    from .paths import output_dir
    from .saving import save_file

    parser = argparse.ArgumentParser(prog="make classroom", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook of the course")
    args = parser.parse_args(argv)
    books = [p.resolve() for p in args.notebooks] or sorted((REPO_ROOT / "notebooks").rglob("*.ipynb"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    target = output_dir() / "classroom.md"  # before the notebooks' own output folder is moved aside
    rows = []
    before = os.environ.get("COURSE_OUTPUT_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["COURSE_OUTPUT_DIR"] = tmp  # what the notebooks save goes to a scratch folder
        for book in books:
            rows.append(measure(book))
            r = rows[-1]
            print(f"{r['notebook']}: peak {r['peak_mib']:.0f} MiB, CPU {r['cpu_s']:.1f} s, wall {r['wall_s']:.1f} s",
                  flush=True)
    if before is None:
        os.environ.pop("COURSE_OUTPUT_DIR")
    else:
        os.environ["COURSE_OUTPUT_DIR"] = before
    header = (f"# One learner's kernel, chapter by chapter\n\nMeasured by `make classroom` on {cpu_description()}, "
              f"{os.cpu_count()} cores, with the embedded model: each notebook run top to bottom in a fresh kernel.")
    report = table(rows, header)
    path = save_file(target, lambda t: Path(t).write_text(report), what="report")
    print(report)
    print(f"written to {path}")
    return path


if __name__ == "__main__":
    main()
