"""The gradient-flow explorer of lesson 08 in a real JupyterLab, driven in headless Chromium.

The test writes a small notebook that builds ``gradient_flow_explorer()`` (as lesson 08 does),
runs it in JupyterLab, moves the depth slider (typing one value into its readout, so there is a
single change) and picks another activation in the dropdown. After each change it waits until
the plot image stops changing and checks that the plot is the one FOR THE NEW SETTINGS:

- the kernel's explorer (read by running a probe cell in the browser) reports the new settings
  in its result and its figure title, and drew exactly once per change;
- the image the browser shows is the PNG the kernel rendered for them (same SHA-256);
- that PNG equals the one this test process renders itself for the same settings.

Screenshots go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import base64
import hashlib
import json

import nbformat
import pytest
from browser_support import (
    ARTIFACTS,
    chromium_page,
    jupyter_lab,
    open_and_run_all,
    run_cell_and_read_output,
    wait_for_kernel_idle,
    wait_for_stable_src,
)
from playwright.sync_api import sync_playwright

from autodiff_lib.lab.experiments import gradient_flow
from autodiff_lib.lab.widgets import new_gradient_flow_figure, render_gradient_flow

pytestmark = pytest.mark.xdist_group("browser")

START = {"depth": 5, "activation": "sigmoid"}
PROBE = """\
import hashlib, json
print(json.dumps({
    "settings": explorer.settings,
    "title": explorer.result.title,
    "depth": explorer.result.depth,
    "activation": explorer.result.activation,
    "redraws": explorer.redraws,
    "png_sha256": hashlib.sha256(explorer.png).hexdigest(),
}))"""
IMAGE = ".widget-output img"


def _write_notebook(folder) -> str:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "from autodiff_lib.lab.widgets import gradient_flow_explorer\n"
            f"explorer = gradient_flow_explorer(depth={START['depth']}, "
            f"activation={START['activation']!r})\n"
            "explorer"
        ),
        nbformat.v4.new_code_cell(PROBE),
    ]
    nbformat.write(notebook, folder / "explorer.ipynb")
    return "explorer.ipynb"


def _kernel_state(page) -> dict:
    return json.loads(run_cell_and_read_output(page, 1).strip().splitlines()[-1])


def _png_in_browser(src: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix), f"the plot is not an inline PNG: {src[:60]}"
    return base64.b64decode(src[len(prefix) :])


def _expected_png(depth: int, activation: str) -> bytes:
    result = gradient_flow(depth=depth, activation=activation, width=32, batch=64, seed=0)
    return render_gradient_flow(result, new_gradient_flow_figure())


def _set_depth(page, depth: int) -> None:
    readout = page.locator(".widget-slider .widget-readout").first
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(depth))
    page.keyboard.press("Enter")


def _check_shows(page, src: str, state: dict, depth: int, activation: str, redraws: int):
    assert state["settings"]["depth"] == depth and state["depth"] == depth, state["settings"]
    assert state["activation"] == activation, state["settings"]
    assert f"depth {depth}, {activation}," in state["title"], state["title"]
    assert state["redraws"] == redraws, (
        f"expected {redraws} redraws (one per change), the kernel counted {state['redraws']}"
    )
    shown = _png_in_browser(src)
    assert hashlib.sha256(shown).hexdigest() == state["png_sha256"], (
        "the browser shows a different image from the one the kernel drew last"
    )
    assert shown == _expected_png(depth, activation), (
        f"the image shown is not the plot for depth {depth}, {activation}"
    )


def test_explorer_redraws_for_new_depth_and_activation(tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    notebook = _write_notebook(tmp_path)
    (tmp_path / "state").mkdir()
    with jupyter_lab(tmp_path, tmp_path / "state") as url, sync_playwright() as playwright:
        with chromium_page(playwright, tmp_path / "chromium-profile") as page:
            open_and_run_all(page, url, notebook)
            page.wait_for_selector(IMAGE, timeout=120_000)
            wait_for_kernel_idle(page)
            first_src = wait_for_stable_src(page, IMAGE)
            page.screenshot(path=ARTIFACTS / "explorer-1-start.png", full_page=True)
            _check_shows(page, first_src, _kernel_state(page), **START, redraws=1)

            _set_depth(page, 37)
            depth_src = wait_for_stable_src(page, IMAGE, different_from=first_src)
            page.screenshot(path=ARTIFACTS / "explorer-2-depth-37.png", full_page=True)
            _check_shows(page, depth_src, _kernel_state(page), 37, "sigmoid", redraws=2)

            dropdown = page.locator(".widget-dropdown:has(label:text-is('activation')) select")
            dropdown.select_option("relu")
            relu_src = wait_for_stable_src(page, IMAGE, different_from=depth_src)
            page.screenshot(path=ARTIFACTS / "explorer-3-relu.png", full_page=True)
            _check_shows(page, relu_src, _kernel_state(page), 37, "relu", redraws=3)
