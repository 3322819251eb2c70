"""What a student gets runs top to bottom: only the self-checks of unfinished exercises fail.

The lesson standard: the released notebook executes with errors only where an exercise is
unfinished, every later demo that needs the student's code says so instead of crashing, and
every self-check fails on an unfinished exercise (a self-check that passes on blank code
would teach nothing).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
RELEASED = sorted((ROOT / "course").glob("*/*.ipynb"))


def _errors_by_cell(notebook: nbformat.NotebookNode) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                errors.setdefault(grade_id, []).append(output.ename)
    return errors


@pytest.mark.parametrize("released", RELEASED, ids=lambda path: path.parent.name)
def test_unfinished_release_fails_only_in_its_self_checks(released, tmp_path):
    # run a copy, as a student would, so that nothing is written into course/
    copy = tmp_path / released.name
    shutil.copy(released, copy)
    notebook = nbformat.read(copy, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()

    errors = _errors_by_cell(notebook)
    self_checks = [
        cell.metadata["nbgrader"]["grade_id"]
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
    ]
    assert self_checks, "a released lesson has graded self-check cells"
    outside_self_checks = {cell: names for cell, names in errors.items() if cell not in self_checks}
    assert outside_self_checks == {}, "cells other than self-checks crashed"
    assert [cell for cell in self_checks if cell not in errors] == [], (
        "self-checks that pass on an unfinished notebook"
    )
    assert {name for names in errors.values() for name in names} == {"NotImplementedError"}
