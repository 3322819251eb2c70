"""One bug, one exercise: which code a graded cell owns, and its sources with the master's rest.

A graded cell tests its own exercise, but its checks call code of other exercises too (03's
``jvp`` runs the student's ``Dual``; 07's ``train_step`` their VJPs). So that a bug costs
marks only in the exercise it is in, a graded cell that fails is graded once more on the
student's code for what the cell **owns** and the master's code for everything else
(:func:`sources_with_reference`); when it passes there, the failure came from elsewhere and
the cell keeps its points (``grader.evaluate``).

What a cell owns is, by default, its exercise: the run of exercise cells just before the run
of graded cells it is in (``## Exercise 2``: the cell ``ex_jvp``, then ``test_jvp`` and
``test_jacobian_forward``). Where one exercise cell holds several graded parts (05's ``Value``:
one method per rule, ``backward`` for the traversal), a hidden test names what it owns in a
literal before ``def hidden_test``::

    OWNS = ("Value.__pow__",)

and the student's definitions of those names (methods as ``Class.method``, functions and
classes by name) replace the master's in the master's cell; the student's own helpers (names
the master does not define) come along.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass

from grader.checks import parse_code
from grader.master import Master


class OwnershipError(ValueError):
    """A hidden test's ``OWNS`` breaks the authoring contract."""


@dataclass(frozen=True)
class Exercise:
    """A run of exercise cells and the run of graded cells that tests them."""

    cells: tuple[str, ...]
    tests: tuple[str, ...]


def exercises(master: Master) -> list[Exercise]:
    """The master's exercises in order: each run of exercise cells with the graded cells after.

    Setup cells, practice cells (no hidden test grades them), written answers and other cells
    neither start nor end a run.
    """
    found: list[Exercise] = []
    cells: list[str] = []
    tests: list[str] = []
    for cell in master.cells:
        if cell.is_exercise and not cell.is_practice:
            if tests:
                found.append(Exercise(tuple(cells), tuple(tests)))
                cells, tests = [], []
            cells.append(cell.grade_id)
        elif cell.is_graded_test:
            tests.append(cell.grade_id)
    if tests:
        found.append(Exercise(tuple(cells), tuple(tests)))
    return found


def exercise_of(master: Master, grade_id: str) -> Exercise | None:
    """The exercise an exercise cell or a graded cell belongs to (None for other cells)."""
    return next((e for e in exercises(master) if grade_id in e.cells + e.tests), None)


def ownership_key(master: Master, grade_id: str) -> tuple:
    """What a graded cell owns: its exercise's cells and its ``OWNS`` names (None: all)."""
    exercise = exercise_of(master, grade_id)
    cells = exercise.cells if exercise else ()
    return cells, owned_names(master.hidden_tests[grade_id])


@functools.lru_cache(maxsize=256)
def owned_names(hidden_source: str) -> tuple[str, ...] | None:
    """The names in a hidden test's ``OWNS = (...)`` literal, or None when it has none."""
    for node in _parse(hidden_source).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "OWNS"
        ):
            names = ast.literal_eval(node.value)
            if not isinstance(names, tuple | list) or not all(isinstance(n, str) for n in names):
                raise OwnershipError("OWNS must be a tuple of names such as 'Value.__pow__'")
            return tuple(names)
    return None


def _parse(source: str) -> ast.Module:
    """The master's code as a syntax tree (it parses: the master ran)."""
    tree = parse_code(source)
    if tree is None:
        raise OwnershipError("a master cell that does not parse")
    return tree


def _definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    """Top-level functions and classes by name, and each class's methods as ``Class.name``."""
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found[node.name] = node
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    found[f"{node.name}.{item.name}"] = item
    return found


def check_owned_names(master_source: str, names: tuple[str, ...]) -> None:
    """Raise OwnershipError unless every owned name is a definition of the master's cell."""
    defined = _definitions(_parse(master_source))
    missing = [name for name in names if name not in defined]
    if missing:
        raise OwnershipError(f"OWNS names {missing} that the exercise cell does not define")


def splice(master_source: str, student_source: str, names: tuple[str, ...]) -> str | None:
    """The master's cell with the student's definitions of those ``names`` it defines (and the
    student's own helpers, the names the master does not define) in place of the master's; the
    master's cell unchanged when it defines none of them.

    None when the student's cell does not parse or lacks one of those names.

    >>> master = "class V:\\n def f(self):\\n  return 1\\n def g(self):\\n  return 2"
    >>> student = master.replace("1", "10").replace("2", "20")
    >>> exec(splice(master, student, ("V.g",)), scope := {})
    >>> scope["V"]().f(), scope["V"]().g()
    (1, 20)
    """
    master = _parse(master_source)
    ours = _definitions(master)
    names = tuple(name for name in names if name in ours)
    if not names:
        return master_source
    student = parse_code(student_source)
    if student is None:
        return None
    theirs = _definitions(student)
    if any(name not in theirs for name in names):
        return None
    helpers = {name: node for name, node in theirs.items() if name not in ours}
    body: list[ast.stmt] = []
    for node in master.body:
        name = getattr(node, "name", None)
        if name in names:
            body.append(theirs[name])
            continue
        if isinstance(node, ast.ClassDef):
            items = [
                theirs[key]
                if (key := f"{node.name}.{getattr(item, 'name', '')}") in names
                else item
                for item in node.body
            ]
            items += [helpers.pop(key) for key in list(helpers) if key.startswith(f"{node.name}.")]
            node.body = items
        body.append(node)
    body += [node for key, node in helpers.items() if "." not in key]
    master.body = body
    try:
        return ast.unparse(master)
    except (RecursionError, ValueError, MemoryError):
        return None


def sources_with_reference(
    master: Master, student_sources: dict[str, str], grade_id: str
) -> dict[str, str] | None:
    """Exercise sources for re-grading the graded cell ``grade_id``: the student's code for
    what it owns, the master's for every other exercise. None when there is nothing to swap
    (a cell outside any exercise) or the student's owned code cannot be spliced."""
    exercise = exercise_of(master, grade_id)
    if exercise is None:
        return None
    names = owned_names(master.hidden_tests[grade_id])
    sources = {cell.grade_id: cell.source for cell in master.exercises}
    for cell_id in exercise.cells:
        student = student_sources.get(cell_id, "")
        spliced = student if names is None else splice(sources[cell_id], student, names)
        if spliced is None:
            return None
        sources[cell_id] = spliced
    return sources
