"""The course's layout: nbgrader's folders and one master and one release per assignment."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = [
    "01_finite_differences",
    "02_symbolic_differentiation",
    "03_forward_mode",
    "04_computational_graphs",
    "05_value_engine",
    "06_neural_networks",
    "07_tensor_engine",
    "08_vanishing_gradients",
    "09_fixing_gradient_flow",
]


def _course_config() -> Config:
    config = Config()
    namespace = {"get_config": lambda: config}
    exec(
        compile((ROOT / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec"), namespace
    )
    return config


def test_nbgrader_reads_masters_from_solutions_and_releases_into_course():
    course_directory = _course_config().CourseDirectory
    assert course_directory.source_directory == "solutions"
    assert course_directory.release_directory == "course"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_assignment_has_a_master_and_a_release(assignment):
    master = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    release = ROOT / "course" / assignment / f"{assignment}.ipynb"
    assert master.is_file(), f"missing master {master}"
    assert release.is_file(), f"missing student release {release}"
    nbformat.validate(nbformat.read(master, as_version=4))


def test_no_other_assignments_hide_in_solutions_or_course():
    for folder in ("solutions", "course"):
        present = sorted(p.name for p in (ROOT / folder).iterdir() if p.is_dir())
        assert set(present) <= set(ASSIGNMENTS), f"{folder}/ holds unknown folders {present}"


# --------------------------------------------------------------------------------------------
# The library: packages that follow the course, modules split by concern, no cycles
# --------------------------------------------------------------------------------------------

LIBRARY = ROOT / "autodiff_lib"
PACKAGES = ("autodiff_lib.scalar", "autodiff_lib.tensors", "autodiff_lib.nn", "autodiff_lib.lab")


def _library_modules() -> dict[str, Path]:
    """Every module of autodiff_lib by dotted name (packages by their ``__init__``)."""
    modules = {}
    for path in sorted(LIBRARY.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def _imported_modules(path: Path, known: set[str]) -> set[str]:
    """The library modules ``path`` imports anywhere in it (inside functions too)."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                imported.add(submodule if submodule in known else node.module)
    return {name for name in imported if name in known}


def test_no_library_module_is_over_800_lines():
    too_long = {
        name: n
        for name, path in _library_modules().items()
        if (n := len(path.read_text().splitlines())) > 800
    }
    assert not too_long, f"split these by concern: {too_long}"


def test_no_import_cycle_between_library_modules_function_level_imports_included():
    modules = _library_modules()
    graph = {name: _imported_modules(path, set(modules)) for name, path in modules.items()}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = path[path.index(name) :] + [name]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert "autodiff_lib.tensors.ops" in graph["autodiff_lib.nn.functional"], "checked edges"


def test_no_private_name_is_imported_across_library_modules():
    offenders = []
    for name, path in _library_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autodiff_lib"):
                private = [a.name for a in node.names if a.name.startswith("_") and a.name != "*"]
                offenders += [f"{name}: from {node.module} import {p}" for p in private]
    assert not offenders, offenders


def test_the_top_level_names_are_the_packages_all_each_once():
    import autodiff_lib
    from autodiff_lib import scalar, tensors

    names = autodiff_lib.__all__
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert set(scalar.__all__) | set(tensors.__all__) <= set(names)
    for name in names:
        assert getattr(autodiff_lib, name) is not None, name
    for package in PACKAGES:
        assert package.rpartition(".")[2] in names
    for module in (scalar, tensors):
        exported = module.__all__
        assert len(exported) == len(set(exported)), module.__name__


def test_relu_sigmoid_tanh_and_softmax_are_one_function_each():
    import autodiff_lib as ad
    import autodiff_lib.nn.functional as F

    for name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax"):
        assert getattr(F, name) is getattr(ad.tensors.ops, name) is getattr(ad.Tensor, name)
    for name in ("relu", "sigmoid", "tanh"):
        assert getattr(F, name) is getattr(ad, name)


def test_only_the_op_definition_api_records_graph_nodes():
    """Every built-in op goes through tensors.function.record (the one public way)."""
    makers = []
    for name, path in _library_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Node":
                makers.append(name)
    assert makers == ["autodiff_lib.tensors.function"]


MOVED = {
    "autodiff_lib.engine": "autodiff_lib.scalar.value",
    "autodiff_lib.numerical": "autodiff_lib.scalar.numerical",
    "autodiff_lib.symbolic": "autodiff_lib.scalar.symbolic",
    "autodiff_lib.forward": "autodiff_lib.scalar.forward",
    "autodiff_lib.viz": "autodiff_lib.scalar.viz",
    "autodiff_lib.nn_scalar": "autodiff_lib.scalar.nn",
    "autodiff_lib.tensor_engine": "autodiff_lib.tensors",
    "autodiff_lib.diagnostics": "autodiff_lib.lab",
    "autodiff_lib.experiments": "autodiff_lib.lab.experiments",
    "autodiff_lib.widgets": "autodiff_lib.lab.widgets",
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_module_path_still_imports_and_warns_at_the_importing_line(old):
    import importlib
    import sys

    import autodiff_lib

    new = importlib.import_module(MOVED[old])
    sys.modules.pop(old, None)
    vars(autodiff_lib).pop(old.rpartition(".")[2], None)
    with pytest.warns(DeprecationWarning, match=f"{old} has moved to {MOVED[old]}") as caught:
        module = importlib.import_module(old)
    assert module is new, "the old path is the new module itself, every name included"
    assert caught[0].filename == __file__, "the warning points at the line that imported it"
    sys.modules.pop(old, None)
    vars(autodiff_lib).pop(old.rpartition(".")[2], None)
    with pytest.warns(DeprecationWarning) as caught:
        exec(f"import {old}", {})  # an import statement: the warning points at it
    assert caught[0].filename == "<string>"


def test_an_old_module_reached_as_an_attribute_warns_at_that_line():
    import sys

    import autodiff_lib

    sys.modules.pop("autodiff_lib.nn_scalar", None)
    vars(autodiff_lib).pop("nn_scalar", None)
    with pytest.warns(DeprecationWarning, match="autodiff_lib.scalar.nn") as caught:
        mlp_class = autodiff_lib.nn_scalar.MLP  # as lesson 06 of 2025-26 wrote it
    assert mlp_class is autodiff_lib.scalar.nn.MLP
    assert caught[0].filename == __file__


def test_the_old_names_the_lessons_used_resolve_through_the_aliases():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from autodiff_lib.diagnostics import train
        from autodiff_lib.experiments import rnn_vs_gated
        from autodiff_lib.numerical import gradcheck
        from autodiff_lib.tensor_engine import Tensor

    from autodiff_lib.lab import train as new_train
    from autodiff_lib.lab.experiments import rnn_vs_gated as new_rnn_vs_gated
    from autodiff_lib.scalar.numerical import gradcheck as new_gradcheck
    from autodiff_lib.tensors import Tensor as NewTensor

    assert (train, rnn_vs_gated, gradcheck, Tensor) == (
        new_train,
        new_rnn_vs_gated,
        new_gradcheck,
        NewTensor,
    )


LIBRARY_DOCTESTED = [
    "core.rules",
    "core.topological",
    "scalar.numerical",
    "scalar.symbolic",
    "scalar.symbolic.nodes",
    "scalar.symbolic.simplification",
    "scalar.symbolic.swell",
    "scalar.forward",
    "scalar.value",
    "scalar.viz",
    "scalar.nn",
    "tensors.ops",
    "tensors.tensor_type",
    "tensors.graph",
    "tensors.gradient_check",
    "lab",
    "lab.statistics",
    "lab.recorders",
    "lab.plots",
    "lab.experiments",
    "lab.experiments.deck_chain",
    "lab.experiments.flow",
]


@pytest.mark.parametrize("module", LIBRARY_DOCTESTED)
def test_docstring_examples_of_the_library_run(module):
    """The examples in the library's docstrings are documentation: they must stay true."""
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"autodiff_lib.{module}"))
    assert result.attempted > 0 and result.failed == 0
