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
