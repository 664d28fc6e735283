"""The learner's story, in a real browser: JupyterLab, the practical chapter 7, a slider that moves.

This test starts JupyterLab on a free loopback port, opens a copy of
``notebooks/practical/07_parameters.ipynb`` in Debian's headless Chromium through Playwright, runs
every cell, drags the "guidance scale" slider of the parameter dashboard, and checks that the
picture changed and that no cell shows an error. Screenshots go to ``test-artifacts/browser/``.

Without Chromium the test is skipped with a sentence saying how to install it, except where
``COURSE_REQUIRE_BROWSER=1`` (CI sets it), where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = Path(os.environ.get("COURSE_BROWSER_NOTEBOOK", REPO / "notebooks" / "practical" / "07_parameters.ipynb"))
ARTIFACTS = REPO / "test-artifacts" / "browser"
SLIDER_LABEL = "guidance scale"
INSTALL_HINT = ("Chromium was not found, so the browser test is skipped. Install it with "
                "`sudo apt-get install chromium` (Debian/Ubuntu) or point COURSE_CHROMIUM at a Chromium or "
                "Chrome executable; CI installs it and always runs this test.")


def _chromium() -> str | None:
    for candidate in (os.environ.get("COURSE_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
                      shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser_path():
    path = _chromium()
    if path is None:
        if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(INSTALL_HINT.replace("is skipped", "cannot run") + " (COURSE_REQUIRE_BROWSER=1)")
        pytest.skip(INSTALL_HINT)
    pytest.importorskip("playwright.sync_api", reason="the playwright package is missing: run `make install`")
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a temporary folder that holds a copy of the notebook (the repo stays clean)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    home = root / ".jupyter-home"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_WAIT_POLICY="PASSIVE",
               MPLBACKEND="module://matplotlib_inline.backend_inline", JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    # Render every cell (no virtual scrolling), so that the dashboard stays in the page wherever it is.
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env["JUPYTERLAB_SETTINGS_DIR"] = str(home / "settings")
    # the kernel must be this environment's Python, with course_utils importable
    log = open(root / "jupyterlab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            log.close()
            pytest.fail("JupyterLab did not start:\n" + (root / "jupyterlab.log").read_text()[-3000:])
        time.sleep(0.5)
    yield dict(base=base, token=token, root=root, log=root / "jupyterlab.log")
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


# JavaScript: the dashboard's picture, found from the slider's label (ipywidgets puts a new blob URL
# in its src at each update)
_FIND_PICTURE = f"""() => {{
    const label = [...document.querySelectorAll('.widget-slider .widget-label')]
        .find(l => l.textContent.trim() === {json.dumps(SLIDER_LABEL)});
    let box = label && label.closest('.widget-vbox');
    while (box && !box.querySelector('img')) box = box.parentElement.closest('.widget-vbox, .widget-hbox');
    return box && box.querySelector('img');
}}"""


def _dashboard_image_src(page) -> str | None:
    return page.evaluate(f"() => {{ const img = ({_FIND_PICTURE})(); return img ? img.src : null; }}")


def _guidance_value(page) -> str:
    slider = page.locator(".widget-slider", has=page.locator(".widget-label", has_text=SLIDER_LABEL)).first
    return slider.locator(".widget-readout").inner_text().strip()


@pytest.mark.skipif(not NOTEBOOK.exists(), reason="the practical chapter 7 notebook is not there")
def test_dashboard_slider_redraws_the_picture_in_jupyterlab(browser_path, lab):
    from playwright.sync_api import sync_playwright

    url = f"{lab['base']}/lab/tree/{NOTEBOOK.name}?token={lab['token']}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(url)
            page.locator(".jp-Notebook").wait_for(timeout=60_000)
            page.wait_for_timeout(2000)
            dialog = page.locator(".jp-Dialog")
            if dialog.count():  # JupyterLab may ask which kernel to start: the notebook's own
                dialog.locator(".jp-mod-accept").first.click()
            news = page.get_by_role("button", name="No", exact=True)
            if news.count():  # the "official Jupyter news?" toast
                news.first.click()
            # wait for the kernel to be ready before running anything
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
            _shot(page, "1-opened")

            # Run > Run All Cells
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            # all cells done: no "[*]" prompt left and the kernel idle again
            deadline = time.time() + 240
            while True:
                page.wait_for_timeout(1000)
                busy = page.locator(".jp-InputPrompt", has_text="[*]").count()
                idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()
                if not busy and idle:
                    break
                assert time.time() < deadline, "the notebook did not finish running within 240 s"
            _shot(page, "2-ran-all-cells")

            text = page.locator(".jp-Notebook").inner_text()
            assert "Traceback (most recent call last)" not in text, "a cell shows an error: see 2-ran-all-cells.png"
            assert "Error displaying widget" not in text, "a widget failed to display"

            # find the dashboard and its picture
            slider = page.locator(".widget-slider", has=page.locator(".widget-label", has_text=SLIDER_LABEL)).first
            handle = slider.locator(".noUi-handle").first
            handle.scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            before_src = _dashboard_image_src(page)
            before_value = _guidance_value(page)
            assert before_src, "the dashboard's picture is not on the page"
            _shot(page, "3-dashboard-before")

            # drag the guidance slider's handle to the left, as a learner would with the mouse
            box = handle.bounding_box()
            assert box, "the guidance slider has no handle on screen"
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x - 60, y, steps=8)
            page.mouse.up()

            changed = f"(before) => {{ const img = ({_FIND_PICTURE})(); return img && img.src !== before; }}"
            page.wait_for_function(changed, arg=before_src, timeout=60_000)
            after_value = _guidance_value(page)
            _shot(page, "4-dashboard-after")
            assert after_value != before_value, f"the slider still reads {before_value}"
            assert _dashboard_image_src(page) != before_src
            text = page.locator(".jp-Notebook").inner_text()
            assert "Traceback (most recent call last)" not in text
            assert f"guidance {float(after_value):g}" in text, "the caption does not show the new guidance"
            assert not errors, f"errors in the page's JavaScript: {errors}"
        except Exception:
            _shot(page, "failure")
            (ARTIFACTS / "jupyterlab.log").write_text(Path(lab["log"]).read_text())
            raise
        finally:
            browser.close()
