"""torch.compile on the embedded models: what `make bench-compile` measured, read back from ``compile.md``.

Taught in: chapter 6 (Compute requirements).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import CourseSetupError
from . import configs

__all__ = ["CompileFigures", "compile_figures"]


@dataclass(frozen=True)
class CompileFigures:
    """One row of the shipped ``compile.md`` (seconds; `pays_*`: pictures after which compiling has paid)."""

    model: str
    eager: float
    compiled: float
    first_cold_cache: float
    first_warm_cache: float
    pays_cold: float | None  # None: compiled is not faster, so it never pays
    pays_warm: float | None

    @property
    def saving(self) -> float:
        """The share of a picture's time that compiling saves once compiled."""
        return 1 - self.compiled / self.eager

    def sentence(self) -> str:
        pays = ("never pays: compiled is not faster" if self.pays_cold is None else
                f"pays after {self.pays_cold:.0f} pictures on a first run, "
                f"{self.pays_warm:.0f} once the cache holds it")
        return (f"{self.model}: {self.eager:.3f} s per picture eager, {self.compiled:.3f} s compiled "
                f"({self.saving:.0%} less); the first compiled picture takes {self.first_cold_cache:.0f} s "
                f"with an empty cache and {self.first_warm_cache:.1f} s with a filled one, so compiling {pays}.")


def compile_figures(path: str | Path | None = None) -> tuple[str, list[CompileFigures]]:
    """The machine line and the rows of ``compile.md`` in the embedded model's folder (`make bench-compile`
    writes it; measured on the machine its first line names, not on yours)."""
    path = Path(path) if path is not None else configs.EMBEDDED_DIR / "compile.md"
    if not path.exists():
        raise CourseSetupError(f"{path} is missing: `make bench-compile BENCH_ARGS=--save` measures torch.compile "
                               "on this machine and writes it (about 3 minutes).")
    lines = path.read_text().splitlines()
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[1].replace(".", "", 1).isdigit():
            nums = [float(c) for c in cells[1:5]]
            pays = [None if c == "never" else float(c) for c in cells[5:7]]
            rows.append(CompileFigures(cells[0], *nums, *pays))
    if not rows:
        raise CourseSetupError(f"{path} holds no table of torch.compile figures: run `make bench-compile "
                               "BENCH_ARGS=--save` again.")
    return lines[0], rows
