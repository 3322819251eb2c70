"""A mistake the lesson warns about fails the visible self-check with the hint that names it.

Each case takes a master's exercise cell, makes one of the mistakes of
``benchmarks/mutants/<id>.py``, runs the setup cells, the mutated exercise and the visible part of
the self-check in one namespace (no kernel, no grader), and expects the self-check's
``AssertionError`` to carry the hint written for that mistake.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import nbformat
import pytest

from grader.master import strip_hidden

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent

INTEGER_SHIFT = (
    "    x = np.asarray(x, dtype=float)\n    grad = np.zeros_like(x)",
    "    x = np.asarray(x)\n    grad = np.zeros_like(x, dtype=float)",
)
INTEGER_SHIFT_INT_GRAD = (
    "    x = np.asarray(x, dtype=float)\n    grad = np.zeros_like(x)",
    "    x = np.asarray(x)\n    grad = np.zeros_like(x)",
)
INTEGER_SHIFT_JACOBIAN = (
    "    x = np.asarray(x, dtype=float)\n    columns = []",
    "    x = np.asarray(x)\n    columns = []",
)

CASES = [
    pytest.param(
        "01_finite_differences",
        "ex_numerical_gradient",
        INTEGER_SHIFT,
        "test_numerical_gradient",
        "is x an integer array? numpy truncates",
        id="01-integer-x-float-gradient",
    ),
    pytest.param(
        "01_finite_differences",
        "ex_numerical_gradient",
        INTEGER_SHIFT_INT_GRAD,
        "test_numerical_gradient",
        "is x an integer array? numpy truncates",
        id="01-integer-x-integer-gradient",
    ),
    pytest.param(
        "01_finite_differences",
        "ex_numerical_gradient",
        INTEGER_SHIFT_JACOBIAN,
        "test_numerical_jacobian",
        "is x an integer array? numpy truncates",
        id="01-integer-x-jacobian",
    ),
]


def master_cells(assignment: str) -> dict[str, nbformat.NotebookNode]:
    path = REPO / "solutions" / assignment / f"{assignment}.ipynb"
    cells = nbformat.read(path, as_version=4).cells
    return {c.metadata["nbgrader"]["grade_id"]: c for c in cells if c.cell_type == "code"}


def run_self_check(assignment: str, exercise: str, mistake, test: str | None) -> None:
    cells = master_cells(assignment)
    source = cells[exercise].source
    if mistake is not None:
        find, replace = mistake
        assert find in source, f"{exercise} no longer contains {find!r}"
        source = source.replace(find, replace)
    namespace: dict = {"__name__": "__main__"}
    for grade_id, cell in cells.items():
        if grade_id.startswith("setup"):
            exec(compile(cell.source, grade_id, "exec"), namespace)
    exec(compile(source, exercise, "exec"), namespace)
    exec(compile(strip_hidden(cells[test].source), test, "exec"), namespace)


@pytest.mark.parametrize(("assignment", "exercise", "mistake", "test", "hint"), CASES)
def test_the_self_check_names_the_mistake(assignment, exercise, mistake, test, hint):
    with pytest.raises(AssertionError) as failure:
        run_self_check(assignment, exercise, mistake, test)
    assert hint in str(failure.value), (
        f"{test} failed on the mistake but without the hint {hint!r}:\n{failure.value}"
    )


@pytest.mark.parametrize(("assignment", "exercise", "mistake", "test", "hint"), CASES)
def test_the_master_passes_the_same_self_check(assignment, exercise, mistake, test, hint):
    run_self_check(assignment, exercise, None, test)
