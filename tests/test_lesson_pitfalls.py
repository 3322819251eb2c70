"""A mistake the lesson warns about fails the visible self-check with the hint that names it.

Every mutant of ``benchmarks/mutants/<id>.py`` that carries a ``pitfall`` (a mistake the lesson
itself names) is run the way a student runs the notebook, without a kernel or the grader: the
master's setup and exercise cells in notebook order, the mutated exercise in its place, up to
the named self-check, whose visible part must raise an ``AssertionError`` carrying the hint
written for that mistake. The master itself passes the same self-checks.
"""

from __future__ import annotations

import matplotlib
import nbformat
import pytest

from benchmarks import mutation_testing as mt
from grader.master import strip_hidden

matplotlib.use("Agg")

PITFALLS = [
    pytest.param(assignment, mutant, id=f"{assignment[:2]}-{mutant.bug[:60]}")
    for assignment in mt.assignments_with_mutants()
    for mutant in mt.load_spec(mt.MUTANTS_DIR / f"{assignment}.py")[0]
    if mutant.pitfall is not None
]
SELF_CHECKS = sorted({(a.values[0], a.values[1].pitfall.self_check) for a in PITFALLS})


def master_notebook(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(mt.REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


def nbgrader_meta(cell: nbformat.NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def run_up_to_self_check(assignment: str, self_check: str, mutant: mt.Mutant | None) -> None:
    """Setup and exercise cells in order, ``mutant`` applied; then the check's visible part."""
    namespace: dict = {"__name__": "__main__"}
    for cell in master_notebook(assignment).cells:
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id", "")
        if cell.cell_type != "code":
            continue
        if grade_id == self_check:
            exec(compile(strip_hidden(cell.source), grade_id, "exec"), namespace)
            return
        if grade_id.startswith("setup") or (meta.get("solution") and not meta.get("grade")):
            source = cell.source
            if mutant is not None and grade_id == mutant.cell:
                source = mt.mutated_source(source, mutant.find, mutant.replace)
            exec(compile(source, grade_id, "exec"), namespace)
    raise AssertionError(f"{assignment} has no cell {self_check!r}")


@pytest.mark.parametrize(("assignment", "mutant"), PITFALLS)
def test_the_self_check_names_the_mistake(assignment: str, mutant: mt.Mutant) -> None:
    with pytest.raises(AssertionError) as failure:
        run_up_to_self_check(assignment, mutant.pitfall.self_check, mutant)
    assert mutant.pitfall.hint in str(failure.value), (
        f"{mutant.pitfall.self_check} failed on {mutant.bug!r} but without the hint "
        f"{mutant.pitfall.hint!r}:\n{failure.value}"
    )


@pytest.mark.parametrize(("assignment", "self_check"), SELF_CHECKS)
def test_the_master_passes_the_self_check(assignment: str, self_check: str) -> None:
    run_up_to_self_check(assignment, self_check, None)


@pytest.mark.parametrize(("assignment", "self_check"), SELF_CHECKS)
def test_a_pitfalls_self_check_is_visible_to_students(assignment: str, self_check: str) -> None:
    """The named cell is a graded test cell whose check a student can run (not hidden only)."""
    (cell,) = [
        c
        for c in master_notebook(assignment).cells
        if nbgrader_meta(c).get("grade_id") == self_check
    ]
    meta = nbgrader_meta(cell)
    assert cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")
    assert "assert" in strip_hidden(cell.source)
