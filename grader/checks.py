"""Checks made before any student code runs: the file, the notebook's structure, the imports.

Each check returns plain sentences a student can act on. A problem found here flags the
submission for the instructor; the same checks and messages are what ``grader validate`` shows
students before they submit.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat

from grader.master import Master, strip_hidden

NBGRADER_FIELDS = ("grade", "solution", "points", "task")


class SubmissionProblem(Exception):
    """A submission that cannot be graded normally; the message says why."""


def find_notebook(folder: Path, assignment: str) -> Path:
    """The one notebook of a student's folder, named ``<assignment>.ipynb``."""
    notebooks = sorted(
        p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and p.is_file()
    )
    expected = f"{assignment}.ipynb"
    if not notebooks:
        raise SubmissionProblem(f"no notebook in the submission (expected {expected})")
    if len(notebooks) > 1:
        names = ", ".join(str(p.relative_to(folder)) for p in notebooks)
        raise SubmissionProblem(f"more than one notebook in one submission: {names}")
    if notebooks[0].name != expected:
        raise SubmissionProblem(f"the notebook is named {notebooks[0].name}, expected {expected}")
    return notebooks[0]


def read_submission(path: Path) -> nbformat.NotebookNode:
    """Read and validate a submitted notebook file."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SubmissionProblem(
            f"the notebook is not UTF-8 text (byte {error.start}); save it again from Jupyter"
        ) from None
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise SubmissionProblem(
            f"the notebook is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}); it was probably edited outside Jupyter or cut short"
        ) from None
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds for malformed notebooks
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise SubmissionProblem(f"not a valid Jupyter notebook: {first_line[:200]}") from None
    if not notebook.cells:
        raise SubmissionProblem("the notebook is empty (no cells)")
    return notebook


def _nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def structure_problems(master: Master, notebook: nbformat.NotebookNode) -> list[str]:
    """Differences between a submission and the master that nbgrader would silently repair.

    Graded and exercise cells must all be present once, in the master's order, with the
    master's nbgrader metadata; graded test cells must not be edited.
    """
    master_cells = master.by_id()
    tracked = [c.grade_id for c in master.cells if c.graded or c.solution]
    problems: list[str] = []
    seen: list[str] = []
    for cell in notebook.cells:
        meta = _nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if not grade_id:
            continue
        source_cell = master_cells.get(grade_id)
        if source_cell is None:
            problems.append(f"cell {grade_id!r} has nbgrader metadata but is not in the master")
            continue
        if grade_id in seen and grade_id in tracked:
            problems.append(f"cell {grade_id} appears more than once (duplicated cell)")
            continue
        seen.append(grade_id)
        changed = [
            f"{key} {source_cell.nbgrader.get(key)!r} -> {meta.get(key)!r}"
            for key in NBGRADER_FIELDS
            if _normalise(key, meta.get(key)) != _normalise(key, source_cell.nbgrader.get(key))
        ]
        if cell.cell_type != source_cell.cell_type:
            changed.append(f"cell type {source_cell.cell_type} -> {cell.cell_type}")
        if changed:
            problems.append(f"cell {grade_id}: nbgrader metadata changed ({'; '.join(changed)})")
        if source_cell.is_graded_test and _edited_test(cell.source, source_cell.source):
            problems.append(f"graded cell {grade_id} was edited (graded with the original)")
    missing = [grade_id for grade_id in tracked if grade_id not in seen]
    if missing:
        problems.append(f"cells deleted or their metadata removed: {', '.join(missing)}")
    order = [grade_id for grade_id in seen if grade_id in tracked]
    if order != [grade_id for grade_id in tracked if grade_id in order]:
        problems.append("graded or exercise cells were moved out of the master's order")
    return problems


def _normalise(key: str, value):
    if key == "points":
        return float(value or 0)
    return bool(value)


def _edited_test(submitted: str, master_source: str) -> bool:
    """True unless the cell reads as released (hidden part removed) or as in the master."""

    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip().splitlines()]

    return lines(submitted) not in (lines(strip_hidden(master_source)), lines(master_source))


def forbidden_imports(source: str, forbidden: tuple[str, ...]) -> list[str]:
    """Modules from ``forbidden`` that ``source`` imports, found statically.

    Covers ``import m``, ``from m import x`` (``x`` may be a forbidden submodule) and
    ``__import__("m")`` / ``importlib.import_module("m")`` with a literal name.

    >>> forbidden_imports("from autodiff_lib import Value", ("autodiff_lib",))
    ['autodiff_lib']
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            function = node.func
            name = getattr(function, "attr", None) or getattr(function, "id", "")
            if name in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                imported.append(node.args[0].value)
    found = []
    for module in imported:
        for name in forbidden:
            if (module == name or module.startswith(name + ".")) and name not in found:
                found.append(name)
    return found
