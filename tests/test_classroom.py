"""make classroom: a notebook run in a fresh kernel reports its peak memory and CPU time."""

import nbformat

from course_utils import classroom


def test_a_kernel_reports_what_it_used(tmp_path, monkeypatch):
    book = tmp_path / "big.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("block = bytearray(300 * 2**20)  # 300 MiB\nsum(range(10**6))"))
    nbformat.write(nb, book)
    monkeypatch.setattr(classroom, "REPO_ROOT", tmp_path)
    row = classroom.measure(book)
    assert row["notebook"] == "big.ipynb"
    assert row["peak_mib"] > 300 and row["cpu_s"] > 0 and row["wall_s"] >= row["cpu_s"] * 0.2
    text = classroom.table([row], "# title")
    assert "| big.ipynb | " in text and text.startswith("# title")
