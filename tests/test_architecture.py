"""The package's house rules (docs/architecture.md), checked: small modules, private names kept at home,
nothing run on import, one set of argument checks."""

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course_utils"
MAX_MODULE_LINES = 520  # "about 500"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_modules_stay_small():
    big = [f"{p.relative_to(ROOT)}: {n} lines" for p in _modules()
           if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES]
    assert not big, "split these into modules of one idea each:\n" + "\n".join(big)


def _course_aliases(tree: ast.AST) -> dict[str, str]:
    """Names bound to course_utils modules by the imports of `tree` (alias -> module)."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update({a.asname or a.name.split(".")[0]: a.name for a in node.names
                            if a.name.startswith("course_utils")})
        elif isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("course_utils")):
            aliases.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
    return aliases


def _private_uses(source: str, where: str) -> list[str]:
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("course_utils")):
            found += [f"{where}: from {node.module} import {a.name}" for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__")]
    aliases = _course_aliases(tree)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name) and node.value.id in aliases):
            found.append(f"{where}: {node.value.id}.{node.attr}")
    return found


def _notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    lines = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))


def test_no_private_name_is_used_outside_its_module():
    found = []
    for path in [*_modules(), *sorted((ROOT / "tests").glob("*.py"))]:
        found += _private_uses(path.read_text(), str(path.relative_to(ROOT)))
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        found += _private_uses(_notebook_code(path), str(path.relative_to(ROOT)))
    assert not found, "make these public in their module, or call a public function:\n" + "\n".join(found)


def test_the_rule_finds_a_private_name():
    source = "import course_utils.models as M\nfrom course_utils.generate import _hidden\nM._PIPELINES\n"
    assert len(_private_uses(source, "x")) == 2


def test_nothing_runs_on_import():
    """Importing every module leaves the environment variables and torch's thread count as they were."""
    names = [_module_name(p) for p in _modules() if p.name != "install_torch.py"]
    # the libraries' own import-time settings (diffusers' training utilities set an inductor cache folder)
    # are taken before the snapshot: the rule is about the course's code
    code = ("import os, importlib, torch, diffusers.training_utils, transformers\n"
            "before = (dict(os.environ), torch.get_num_threads())\n"
            f"for name in {names!r}:\n    importlib.import_module(name)\n"
            "after = (dict(os.environ), torch.get_num_threads())\n"
            "changed = sorted(k for k in set(before[0]) | set(after[0]) if before[0].get(k) != after[0].get(k))\n"
            "print(changed, before[1] == after[1])\n")
    env = {k: v for k, v in __import__("os").environ.items() if not k.endswith("_VERBOSITY")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[] True", out.stdout


def test_one_set_of_argument_checks():
    """No module writes its own whole-number or number check again: they are course_utils.checks."""
    again = [f"{p.relative_to(ROOT)}: {n.name}" for p in _modules() for n in ast.walk(ast.parse(p.read_text()))
             if isinstance(n, ast.FunctionDef) and n.name in {"_check_int", "_check_float", "_is_int", "_is_real",
                                                               "_check_colour", "_check_pair"}]
    assert not again, "use course_utils.checks:\n" + "\n".join(again)
