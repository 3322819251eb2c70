"""The grader's modules: no import cycle, no private name across modules, paths in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GRADER = Path(__file__).resolve().parents[2] / "grader"
MODULES = sorted(GRADER.glob("*.py"))
# the course's folder names and the notebook suffix belong to grader/paths.py only
PATH_LITERALS = ("solutions", "course", "submitted", "autograded", "feedback")


def grader_imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every ``grader.*`` import in ``path``, function-level included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("grader"):
            if node.module == "grader":
                found += [(f"grader.{alias.name}", []) for alias in node.names]
            else:
                found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.startswith("grader.")]
    return found


def import_graph() -> dict[str, set[str]]:
    return {
        f"grader.{path.stem}": {module for module, _ in grader_imports(path)} for path in MODULES
    }


def test_no_import_cycle_between_grader_modules_function_level_imports_included():
    graph = import_graph()
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycle = [*trail[trail.index(target) :], target] if target in trail else [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*trail, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_cycle_check_sees_function_level_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from grader.batch import autograde\n")
    assert grader_imports(module) == [("grader.batch", ["autograde"])]


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_no_private_name_is_imported_from_another_module(path):
    for module, names in grader_imports(path):
        private = [name for name in names if name.startswith("_")]
        assert not private, f"{path.name} imports {private} from {module}"


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_modules_stay_well_under_800_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) < 800


def path_parts(node: ast.AST) -> list[str]:
    """The course folder names and ``<...>.ipynb`` f-strings joined with ``/`` in ``node``."""
    found = []
    for join in ast.walk(node):
        if not (isinstance(join, ast.BinOp) and isinstance(join.op, ast.Div)):
            continue
        for side in (join.left, join.right):
            if isinstance(side, ast.Constant) and side.value in PATH_LITERALS:
                found.append(side.value)
            if isinstance(side, ast.JoinedStr) and ast.unparse(side).endswith(".ipynb'"):
                found.append(ast.unparse(side))
    return found


def test_the_path_check_sees_folder_names_and_notebook_names(tmp_path):
    tree = ast.parse('root / "submitted" / s / a / f"{a}.ipynb"\nprint("feedback")')
    assert sorted(path_parts(tree)) == ["f'{a}.ipynb'", "submitted"]


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != "paths.py"], ids=lambda p: p.stem)
def test_course_paths_are_computed_in_grader_paths_only(path):
    assert path_parts(ast.parse(path.read_text(encoding="utf-8"))) == []
