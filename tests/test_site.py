"""make site: a notebook becomes a page with its pictures and its coloured boxes, linked from an index."""

from course_utils import site
from course_utils.paths import REPO_ROOT


def test_a_chapter_page_keeps_its_pictures_boxes_and_links(tmp_path):
    book = REPO_ROOT / "notebooks" / "00_welcome.ipynb"
    index = site.main([str(book), "--out", str(tmp_path)])
    page = (tmp_path / "00_welcome.html").read_text()
    assert page.count("<img") >= 3  # MAU, the first picture, the four styles ...
    assert "cu-callout-leonardo" in page and "A page of the diffusion course" in page
    assert ".ipynb\"" not in page.split("</head>", 1)[1].replace("00_welcome.ipynb</code>", "")
    assert "00_welcome.html" in index.read_text() and "Welcome" in index.read_text()
