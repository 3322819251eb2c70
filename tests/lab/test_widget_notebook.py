"""The gradient-flow explorer of lesson 08, executed headless (nbclient, no browser).

Runs lesson 08's own explorer cell (taken from the master notebook) followed by cells that move
the controls, with ``store_widget_state=True``, then checks the Python side: the widget models
saved in the notebook (slider, dropdowns, output), that each control change redrew the plot
exactly once, and that the image in the ``Output`` model is the plot for the new settings.
The JavaScript side is covered by ``test_browser_widgets.py``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autodiff_lib.lab.experiments import gradient_flow
from autodiff_lib.lab.widgets import new_gradient_flow_figure, render_gradient_flow

ROOT = Path(__file__).resolve().parents[2]
MASTER_08 = ROOT / "solutions" / "08_vanishing_gradients" / "08_vanishing_gradients.ipynb"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# one worker executes the shared notebook once for all the tests of this module
pytestmark = pytest.mark.xdist_group("widget_notebook")


def _lesson_explorer_source() -> str:
    master = nbformat.read(MASTER_08, as_version=4)
    cells = [
        c for c in master.cells if c.cell_type == "code" and "gradient_flow_explorer(" in c.source
    ]
    assert len(cells) == 1, "lesson 08 should build the explorer in exactly one cell"
    return cells[0].source


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [
        nbformat.v4.new_code_cell(_lesson_explorer_source()),
        nbformat.v4.new_code_cell("explorer.depth.value = 9"),
        nbformat.v4.new_code_cell("explorer.activation.value = 'tanh'"),
        nbformat.v4.new_code_cell(
            "import json\n"
            "print(json.dumps({'settings': explorer.settings, 'title': explorer.result.title,\n"
            "                  'redraws': explorer.redraws,\n"
            "                  'first_to_last': explorer.result.first_to_last_ratio}))"
        ),
    ]
    folder = tmp_path_factory.mktemp("widget-notebook")
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return notebook


def _models(notebook) -> dict[str, dict]:
    return notebook.metadata["widgets"][WIDGET_STATE]["state"]


def _model(notebook, name: str, description: str | None = None) -> dict:
    found = [
        model["state"]
        for model in _models(notebook).values()
        if model["model_name"] == name
        and (description is None or model["state"].get("description") == description)
    ]
    assert len(found) == 1, f"expected one {name} {description or ''}, found {len(found)}"
    return found[0]


def test_controls_are_saved_with_their_final_values(executed):
    slider = _model(executed, "IntSliderModel", "depth")
    assert (slider["min"], slider["max"], slider["value"]) == (1, 50, 9)
    activation = _model(executed, "DropdownModel", "activation")
    labels = activation["_options_labels"]
    assert {"sigmoid", "tanh", "relu"} <= set(labels)
    assert labels[activation["index"]] == "tanh"
    for description in ("init", "norm"):
        _model(executed, "DropdownModel", description)
    assert _model(executed, "CheckboxModel", "residual connections")["value"] is False


def test_the_lesson_cell_displays_the_explorer(executed):
    views = [o for o in executed.cells[0].outputs if WIDGET_VIEW in o.get("data", {})]
    assert len(views) == 1, "the explorer cell should display one widget"
    model_id = views[0]["data"][WIDGET_VIEW]["model_id"]
    assert _models(executed)[model_id]["model_name"] == "VBoxModel"


def test_each_change_redraws_once_for_the_new_settings(executed):
    state = json.loads(executed.cells[3].outputs[0]["text"])
    assert state["settings"]["depth"] == 9 and state["settings"]["activation"] == "tanh"
    assert state["title"].startswith("depth 9, tanh, init pytorch_default")
    assert state["redraws"] == 3, "initial draw + one redraw per control change"


def test_output_holds_the_plot_of_the_new_settings(executed):
    output = _model(executed, "OutputModel")
    images = [o for o in output["outputs"] if "image/png" in o.get("data", {})]
    assert len(images) == 1, "the Output should hold exactly one (the latest) plot"
    assert (
        images[0]["data"]["text/plain"]
        == "<Figure: depth 9, tanh, init pytorch_default, plain, no norm>"
    )
    expected = render_gradient_flow(
        gradient_flow(depth=9, activation="tanh", width=32, batch=64, seed=0),
        new_gradient_flow_figure(),
    )
    assert base64.b64decode(images[0]["data"]["image/png"]) == expected
