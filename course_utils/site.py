"""``make site``: the course as static web pages, with every picture, readable without running anything.

Every notebook is run top to bottom in a fresh kernel (`classroom.run_notebook`) and written as HTML by
nbconvert into ``build/site/``, beside an ``index.html`` that lists both paths chapter by chapter. Links
between notebooks point to their pages; Leonardo's boxes and the "Try it" boxes are HTML outputs, so they
show as boxes. Sliders and buttons need a running kernel: the pages show the picture each widget made
first, or nothing for a widget, and say so at the top.
"""

from __future__ import annotations

import argparse
import html
import os
import re
from pathlib import Path

from .paths import REPO_ROOT

SITE = REPO_ROOT / "build" / "site"
_BANNER = ("<div style='padding:8px 12px;margin:8px 0;border:1px solid #ccc;border-radius:6px;background:#f7f7f7'>"
           "A page of the diffusion course, run on a CPU with the course's embedded model. Sliders and buttons "
           "need a running notebook: open <code>{source}</code> in JupyterLab to use them. "
           "<a href='{index}'>All chapters</a></div>")


def _title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            if first.startswith("#"):
                return first.lstrip("#").strip()
    return "untitled"


def page(notebook: Path, out_dir: Path = SITE) -> tuple[Path, str]:
    """Run `notebook` and write its HTML page under `out_dir`; returns the page and the chapter's title."""
    from nbconvert import HTMLExporter

    from .classroom import run_notebook

    nb = run_notebook(notebook)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    rel = notebook.relative_to(REPO_ROOT / "notebooks").with_suffix(".html")
    target = out_dir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    body = re.sub(r'href="([^"#:]+)\.ipynb', r'href="\1.html', body)  # links between notebooks
    index = os.path.relpath(out_dir / "index.html", target.parent)
    banner = _BANNER.format(source=html.escape(str(notebook.relative_to(REPO_ROOT))), index=index)
    body = re.sub(r"(<body[^>]*>)", r"\1" + banner.replace("\\", "\\\\"), body, count=1)
    target.write_text(body, encoding="utf-8")
    return target, _title(nb)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="make site", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook of the course")
    parser.add_argument("--out", type=Path, default=SITE)
    args = parser.parse_args(argv)
    books = [p.resolve() for p in args.notebooks] or sorted((REPO_ROOT / "notebooks").rglob("*.ipynb"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    entries = []
    for book in books:  # what the notebooks save goes to outputs/, as for a learner (never overwritten)
        target, title = page(book, args.out)
        entries.append((target.relative_to(args.out), title))
        print(f"{target.relative_to(args.out)}: {title}", flush=True)
    items = "\n".join(f"<li><a href='{html.escape(str(rel))}'>{html.escape(title)}</a> <small>"
                      f"({html.escape(str(rel.parent)) if str(rel.parent) != '.' else 'start here'})</small></li>"
                      for rel, title in entries)
    index = args.out / "index.html"
    index.write_text("<!doctype html><meta charset='utf-8'><title>From noise to MAU: the diffusion course</title>"
                     "<body style='font-family:sans-serif;max-width:50em;margin:2em auto'>"
                     "<h1>From noise to MAU: the diffusion course</h1>"
                     "<p>Every chapter in two versions: <b>technical</b> (the maths and the code) and "
                     f"<b>practical</b> (pictures and sliders).</p><ul>{items}</ul></body>", encoding="utf-8")
    print(f"open {index}")
    return index


if __name__ == "__main__":
    main()
