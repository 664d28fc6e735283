"""Repository rules: notebooks are committed without outputs, and all weights are safetensors."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_notebooks_have_no_outputs():
    dirty = []
    for nb in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in nb.parts:
            continue
        cells = json.loads(nb.read_text())["cells"]
        if any(c.get("outputs") or c.get("execution_count") for c in cells if c["cell_type"] == "code"):
            dirty.append(str(nb.relative_to(ROOT)))
    assert not dirty, f"strip outputs before committing (jupyter nbconvert --clear-output --inplace): {dirty}"


def test_no_pickled_weights_in_assets():
    bad = [p for p in (ROOT / "assets").rglob("*") if p.suffix in {".bin", ".pt", ".pth", ".ckpt", ".pkl"}]
    assert not bad, f"weights must be safetensors: {bad}"


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_no_notebook_or_helper_hard_codes_one_models_size():
    """Sizes come from the pipeline (`cu.picture_size(pipe)`), never from a number that fits one model:
    `fit_square(mau, 64)` broke chapter 5 with Stable Diffusion's 512-pixel pictures."""
    import json
    import re

    offenders = {
        r"fit_square\([^,()]+,\s*(64|512)\)": "the picture size of one model (64: embedded, 512: SD 1.5)",
        r"token_heatmaps\([^)]*size=\d": "a heat-map size of one model",
        r"resolutions=\[\d+\]": "an attention resolution of one model",
        r"1/32\b": "the embedded model's token count",
    }
    found = []
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        for k, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "code":
                for line in "".join(cell["source"]).splitlines():
                    found += [f"{path.name} cell {k}: {line.strip()} ({why})" for pat, why in offenders.items()
                              if re.search(pat, line)]
    for path in sorted((ROOT / "course_utils").rglob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            found += [f"{path.relative_to(ROOT)}:{n}: {line.strip()} ({why})" for pat, why in offenders.items()
                      if re.search(pat, line.split("#")[0]) and "e.g." not in line]
    assert not found, "\n".join(found)


def _bare_verdicts(source: str) -> list[str]:
    """Plain-text prints in `source` that state a verdict with no assert before them and no if/else around them."""
    import re

    literal = re.compile(r'^(\s*)print\(\s*"([^"{}]*)"\s*\)', re.M)
    verdict = re.compile(r"\b(more|less|faster|slower|identical|rises|falls|better|worse|higher|lower|same|"
                         r"settled|matches|fits|changed|differs?)\b", re.I)
    return [m.group(2) for m in literal.finditer(source)
            if verdict.search(m.group(2)) and "assert " not in source[:m.start()] and m.group(1) == ""]


def test_a_printed_verdict_is_backed_by_the_numbers():
    """A sentence printed as plain text (no numbers in it) that states a verdict ("identical", "faster",
    "matches" ...) must come after an assert that checks it, or inside an if/else that chose it: a verdict
    printed unconditionally is how notebooks came to contradict the numbers beside them."""
    import json

    assert _bare_verdicts('x = 1\nprint("the layout settles faster than the detail")\n') == [
        "the layout settles faster than the detail"]
    assert _bare_verdicts('assert a < b\nprint("faster")\n') == []
    assert _bare_verdicts('if a < b:\n    print("faster")\n') == []
    bare = []
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        for k, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "code":
                where = f"{path.parent.name}/{path.name} cell {k}"
                bare += [f"{where}: {v[:80]}" for v in _bare_verdicts("".join(cell["source"]))]
    assert not bare, "\n".join(bare)


def test_the_binder_image_installs_the_learners_set_with_cpu_torch():
    """binder/ (repo2docker: Binder, Zero to JupyterHub) takes requirements.txt and nothing from the developer
    set, offers PyTorch's CPU index, runs a supported Python, and installs the course after."""
    import os
    import re

    binder = ROOT / "binder"
    req = (binder / "requirements.txt").read_text().splitlines()
    lines = [ln.strip() for ln in req if ln.strip() and not ln.startswith("#")]
    assert lines == ["--extra-index-url https://download.pytorch.org/whl/cpu", "-r ../requirements.txt"]
    assert (binder / lines[1].split()[1]).resolve() == ROOT / "requirements.txt"
    version = re.fullmatch(r"python-(3\.\d+)\n", (binder / "runtime.txt").read_text()).group(1)
    assert version in ("3.11", "3.12", "3.13")
    post = binder / "postBuild"
    assert os.access(post, os.X_OK) and "--no-deps -e ." in post.read_text()
