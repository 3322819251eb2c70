"""Read a master notebook: which cell is which kind, the hidden tests, the grading settings.

The kind of a cell is always read from the master (``docs/authoring.md``), never from a
submission: setup code (locked, ``grade_id`` starting with ``setup``), exercises (solution code
cells), graded tests (``grade: true`` code cells, ``test_*``) and written answers (markdown
solution cells).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

DEFAULT_FORBIDDEN = ("autodiff_lib", "torch", "jax", "autograd", "micrograd")
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
NBGRADER_KEYS = ("grade", "solution", "locked", "points", "task")


class MasterError(ValueError):
    """The master notebook breaks the authoring contract."""


@dataclass(frozen=True)
class MasterCell:
    """One cell of the master that carries nbgrader metadata."""

    grade_id: str
    cell_type: str
    source: str
    nbgrader: dict

    @property
    def is_setup(self) -> bool:
        return self.cell_type == "code" and self.locked and self.grade_id.startswith("setup")

    @property
    def is_exercise(self) -> bool:
        return self.cell_type == "code" and self.solution and not self.graded

    @property
    def is_practice(self) -> bool:
        """A hand-worked practice (``practice_*``): an exercise cell no hidden test grades,
        checked only by the visible self-check after it."""
        return self.is_exercise and self.grade_id.startswith("practice_")

    @property
    def is_graded_test(self) -> bool:
        return self.cell_type == "code" and self.graded and not self.solution

    @property
    def is_written_answer(self) -> bool:
        return self.cell_type == "markdown" and self.solution and self.graded

    @property
    def graded(self) -> bool:
        return bool(self.nbgrader.get("grade"))

    @property
    def solution(self) -> bool:
        return bool(self.nbgrader.get("solution"))

    @property
    def locked(self) -> bool:
        return bool(self.nbgrader.get("locked"))

    @property
    def points(self) -> float:
        return float(self.nbgrader.get("points", 0) or 0)


@dataclass(frozen=True)
class Master:
    """A parsed master notebook and its grading settings."""

    assignment: str
    path: Path
    cells: tuple[MasterCell, ...]
    forbidden_imports: tuple[str, ...] = DEFAULT_FORBIDDEN
    cell_timeout: float = 30.0
    notebook_timeout: float = 300.0
    hidden_tests: dict[str, str] = field(default_factory=dict)

    def by_id(self) -> dict[str, MasterCell]:
        return {cell.grade_id: cell for cell in self.cells}

    @property
    def setup_cells(self) -> list[MasterCell]:
        return [cell for cell in self.cells if cell.is_setup]

    @property
    def exercises(self) -> list[MasterCell]:
        return [cell for cell in self.cells if cell.is_exercise]

    @property
    def graded_tests(self) -> list[MasterCell]:
        return [cell for cell in self.cells if cell.is_graded_test]

    @property
    def written_answers(self) -> list[MasterCell]:
        return [cell for cell in self.cells if cell.is_written_answer]


def split_hidden(source: str) -> tuple[str, str]:
    """Split a graded cell into (visible self-check, hidden part), markers removed.

    >>> split_hidden("assert ok\\n### BEGIN HIDDEN TESTS\\ndef hidden_test(check, rng): ...\\n"
    ...              "### END HIDDEN TESTS")
    ('assert ok', 'def hidden_test(check, rng): ...')
    """
    visible, hidden, inside = [], [], False
    for line in source.split("\n"):
        if HIDDEN_BEGIN in line:
            inside = True
        elif HIDDEN_END in line:
            inside = False
        elif inside:
            hidden.append(line)
        else:
            visible.append(line)
    return "\n".join(visible), "\n".join(hidden)


def strip_hidden(source: str) -> str:
    """The source with its hidden-test region removed (what the release and feedback show)."""
    return split_hidden(source)[0]


def load_master(path: Path, hidden_tests_required: bool = True) -> Master:
    """Parse ``solutions/<id>/<id>.ipynb``; raise MasterError when it breaks the contract.

    With ``hidden_tests_required=False`` it also reads a released notebook (``course/<id>/``),
    whose cells have the same kinds and metadata but no hidden tests.
    """
    notebook = nbformat.read(path, as_version=4)
    cells = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader")
        if not meta or not meta.get("grade_id"):
            continue
        cells.append(MasterCell(meta["grade_id"], cell.cell_type, cell.source, dict(meta)))
    ids = [cell.grade_id for cell in cells]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise MasterError(f"{path}: duplicate grade_id {', '.join(duplicates)}")
    hidden_tests = {}
    for cell in cells:
        if cell.is_graded_test:
            hidden = split_hidden(cell.source)[1]
            found = re.search(r"^def hidden_test\(check, rng\):", hidden, re.MULTILINE)
            if not found and not hidden_tests_required:
                continue
            if not found:
                raise MasterError(
                    f"{path}: graded cell {cell.grade_id} has no `def hidden_test(check, rng):` "
                    f"between {HIDDEN_BEGIN} and {HIDDEN_END}"
                )
            hidden_tests[cell.grade_id] = hidden
    settings = notebook.metadata.get("grader", {})
    return Master(
        assignment=path.stem,
        path=path,
        cells=tuple(cells),
        forbidden_imports=tuple(settings.get("forbidden_imports", DEFAULT_FORBIDDEN)),
        cell_timeout=float(settings.get("cell_timeout", 30)),
        notebook_timeout=float(settings.get("notebook_timeout", 300)),
        hidden_tests=hidden_tests,
    )
