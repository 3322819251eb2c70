"""Every figure of a lesson is followed by a caption (lesson standards, "Figures").

A figure cell is a code cell of a master, other than an exercise or a graded test, that calls
``plt.show()``, ``draw_graph(...)`` or ``plot_grad_flow(...)`` outside a function or class body.
The cell right after it must be a markdown caption starting with ``**Figure.**`` followed by at
least one sentence on what the figure shows and what to see in it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from figure_support import probe_cell, readability_problems
from nbclient import NotebookClient

from grader.release import master_ids

REPO = Path(__file__).resolve().parent.parent
MASTERS = master_ids(REPO)
FIGURE_CALLS = {"show", "draw_graph", "plot_grad_flow"}


def makes_figure(source: str) -> bool:
    def visit(node: ast.AST) -> bool:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            return False
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in FIGURE_CALLS:
                return True
        return any(visit(child) for child in ast.iter_child_nodes(node))

    return visit(ast.parse(source))


def figure_cells(assignment: str):
    path = REPO / "solutions" / assignment / f"{assignment}.ipynb"
    cells = nbformat.read(path, as_version=4).cells
    for index, cell in enumerate(cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("solution") or meta.get("grade"):
            continue
        if makes_figure(cell.source):
            following = cells[index + 1] if index + 1 < len(cells) else None
            yield meta.get("grade_id"), following


def test_the_detector_finds_figures_only_outside_definitions():
    assert makes_figure("fig, ax = plt.subplots()\nplt.show()")
    assert makes_figure("try:\n    plot_grad_flow(model.named_parameters())\nexcept E:\n    pass")
    assert not makes_figure("def plot(values):\n    plt.plot(values)\n    plt.show()")


@pytest.mark.parametrize("assignment", MASTERS)
def test_every_figure_is_followed_by_a_caption(assignment):
    figures = list(figure_cells(assignment))
    assert figures, f"{assignment} has no figures"
    for grade_id, following in figures:
        assert following is not None and following.cell_type == "markdown", (
            f"{assignment}: figure cell {grade_id} is not followed by a markdown caption"
        )
        caption = following.source.strip()
        assert caption.startswith("**Figure.** "), (
            f"{assignment}: the cell after figure {grade_id} does not start with '**Figure.**'"
        )
        sentences = re.findall(r"[^.!?]{20,}[.!?]", caption[len("**Figure.** ") :])
        assert sentences, f"{assignment}: the caption of {grade_id} says nothing: {caption!r}"


def _probe(tmp_path, source: str) -> list[str]:
    """Run ``source`` in a kernel behind the figure probe; the readability problems found."""
    record = tmp_path / "figures.jsonl"
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(probe_cell(record)), nbformat.v4.new_code_cell(source)]
    )
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    return readability_problems(record)


def test_the_probe_finds_curves_told_apart_by_colour_alone_and_legends_over_data(tmp_path):
    colour_only = (
        "import matplotlib.pyplot as plt\nimport numpy as np\nx = np.linspace(0, 1, 50)\n"
        "fig, ax = plt.subplots()\n"
        "ax.plot(x, x, color='red', label='a')\nax.plot(x, 1 - x, color='blue', label='b')\n"
        "ax.plot(x, x * x, color='red', ls='--', label='c')\nax.legend(loc='center')\n"
    )
    problems = _probe(tmp_path, colour_only)
    assert any("['a', 'b']" in p and "colour alone" in p for p in problems), problems
    assert any("legend covers" in p for p in problems), problems
    course_style = (
        "import matplotlib.pyplot as plt\nimport numpy as np\n"
        "from autodiff_lib.style import use_course_style\nuse_course_style()\n"
        "x = np.linspace(0, 1, 50)\nfig, ax = plt.subplots()\n"
        "for k in range(5):\n    ax.plot(x, x + k, label=f'k = {k}')\nax.legend(loc='upper left')\n"
    )
    assert _probe(tmp_path / "styled", course_style) == []


@pytest.mark.parametrize("assignment", MASTERS)
def test_every_interactive_widget_has_a_static_figure_after_it(assignment):
    # a static copy (HTML, PDF) shows no widget: the figure after it shows what it would
    cells = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    cells = cells.cells
    for index, cell in enumerate(cells):
        if cell.cell_type == "code" and "_explorer(" in cell.source:
            following = cells[index + 1]
            assert following.cell_type == "code" and makes_figure(following.source), (
                f"{assignment}: the widget in cell {index} has no static figure after it"
            )
            assert cells[index + 2].source.startswith("**Figure.** ")
