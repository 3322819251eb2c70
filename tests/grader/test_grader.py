"""The grader's parts: verdicts, checks before running, seeds, and the sandbox itself."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import nbformat
import pytest

from grader import checks, secret, verdict
from grader.driver import run_in_sandbox
from grader.master import load_master, split_hidden
from grader.sandbox import Limits, bubblewrap_available

REPO = Path(__file__).resolve().parents[2]
FIXTURE_MASTER = REPO / "tests/fixtures/grader/solutions/tiny_value/tiny_value.ipynb"


# --- verdicts -------------------------------------------------------------------------------


def case(name, value, hints=(), rel=1e-6, abs_tol=1e-9):
    return {"name": name, "value": value, "rel": rel, "abs": abs_tol, "hints": list(hints)}


def test_numbers_match_within_relative_and_absolute_tolerance():
    assert verdict.values_match(1.0 + 5e-7, 1.0, 1e-6, 0.0)
    assert not verdict.values_match(1.0 + 5e-6, 1.0, 1e-6, 0.0)
    assert verdict.values_match(1e-10, 0.0, 1e-6, 1e-9)
    assert not verdict.values_match(True, 1.0, 1e-6, 1e-9)  # a bool is not the number 1
    assert verdict.values_match([1.0, [2.0]], [1.0, [2.0 + 1e-12]], 1e-6, 1e-9)
    assert not verdict.values_match([1.0], [1.0, 2.0], 1e-6, 1e-9)
    assert not verdict.values_match({"float": "nan"}, 0.5, 1e-6, 1e-9)
    assert verdict.values_match({"float": "inf"}, {"float": "inf"}, 1e-6, 1e-9)


def test_failing_case_names_expected_actual_and_the_matching_hint():
    reference = case(
        "d/dx tanh(x) at x = 0.5000",
        0.7864477329659274,
        hints=[["Did you use 1 - tanh(x) instead of 1 - tanh(x)**2?", 0.5378828427399902]],
    )
    student = {"name": reference["name"], "value": 0.5378828427399902}
    message = verdict.case_message(reference, student)
    assert message == (
        "d/dx tanh(x) at x = 0.5000: expected 0.7864477329659274, got 0.5378828427399902. "
        "Did you use 1 - tanh(x) instead of 1 - tanh(x)**2?"
    )
    other = verdict.case_message(reference, {"name": reference["name"], "value": 2.0})
    assert "Did you use" not in other


def test_a_cell_passes_only_when_every_case_passes():
    reference = {"cases": [case("a", 1.0), case("b", 2.0)], "error": None}
    good = {"cases": [case("a", 1.0), case("b", 2.0)], "error": None}
    half = {"cases": [case("a", 1.0), case("b", 3.0)], "error": None}
    short = {"cases": [case("a", 1.0)], "error": None}
    assert verdict.decide("t", reference, good).passed
    assert verdict.decide("t", reference, good).message == "All 2 hidden checks passed."
    assert not verdict.decide("t", reference, half).passed
    assert "only 1 of 2 checks ran" in verdict.decide("t", reference, short).message
    renamed = {"cases": [case("x", 1.0), case("b", 2.0)], "error": None}
    assert not verdict.decide("t", reference, renamed).passed


def test_student_exception_names_their_own_line_and_student_text_is_cleaned():
    error = {
        "ename": "ZeroDivisionError",
        "evalue": "division by zero",
        "frames": [["ex", 3, "1/0"]],
    }
    message = verdict.case_message(case("c", 1.0), {"name": "c", "error": error})
    assert (
        message
        == "c: your code raised ZeroDivisionError: division by zero (cell ex, line 3: `1/0`)."
    )
    forged = {"ename": "E\x1b[2J", "evalue": "x" * 10_000 + "\u202e", "frames": []}
    text = verdict.case_message(case("c", 1.0), {"name": "c", "error": forged})
    assert "\x1b" not in text and "\u202e" not in text and len(text) < 400
    long_value = verdict.case_message(case("c", "x"), {"name": "c", "value": "y" * 100_000})
    assert len(long_value) < 400


def test_a_master_failing_one_of_its_own_cases_is_an_authoring_error():
    broken = {"cases": [{**case("c", None), "unusable": "TypeError: oops"}], "error": None}
    with pytest.raises(verdict.ReferenceFailure, match="oops"):
        verdict.decide("t", broken, {"cases": [], "error": None})


def test_a_master_failing_its_own_test_is_an_authoring_error():
    with pytest.raises(verdict.ReferenceFailure):
        verdict.decide("t", {"cases": [], "error": {"kind": "exception"}}, None)


# --- checks before running ------------------------------------------------------------------


def test_forbidden_imports_found_statically():
    forbidden = ("autodiff_lib", "torch", "autodiff_lib.diagnostics")
    assert checks.forbidden_imports("import torch.nn as nn", forbidden) == ["torch"]
    assert checks.forbidden_imports("from autodiff_lib import Value", forbidden) == ["autodiff_lib"]
    assert checks.forbidden_imports("__import__('torch')", forbidden) == ["torch"]
    assert checks.forbidden_imports("importlib.import_module('torch')", forbidden) == ["torch"]
    assert checks.forbidden_imports("import math, numpy", forbidden) == []
    only_sub = ("autodiff_lib.diagnostics",)
    assert checks.forbidden_imports("from autodiff_lib import Tensor", only_sub) == []
    assert checks.forbidden_imports("from autodiff_lib import diagnostics", only_sub) == [
        "autodiff_lib.diagnostics"
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"cells": [', "not valid JSON"),
        ('{"cells": []}'.encode("utf-16"), "not UTF-8"),
        (b'{"cells": 3}', "not a valid Jupyter notebook"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "tiny_value.ipynb"
    path.write_bytes(content)
    with pytest.raises(checks.SubmissionProblem, match=reason):
        checks.read_submission(path)


def test_empty_notebook_and_folder_problems(tmp_path):
    empty = tmp_path / "one" / "tiny_value.ipynb"
    empty.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), empty)
    with pytest.raises(checks.SubmissionProblem, match="empty"):
        checks.read_submission(empty)
    (tmp_path / "two").mkdir()
    for name in ("tiny_value.ipynb", "copy.ipynb"):
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / "two" / name)
    with pytest.raises(checks.SubmissionProblem, match="more than one notebook"):
        checks.find_notebook(tmp_path / "two", "tiny_value")
    (tmp_path / "renamed").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "renamed" / "mine.ipynb")
    with pytest.raises(checks.SubmissionProblem, match="named mine.ipynb"):
        checks.find_notebook(tmp_path / "renamed", "tiny_value")


def _graded_ids(notebook):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells]


def test_structure_problems_catch_what_nbgrader_repairs_silently():
    master = load_master(FIXTURE_MASTER)
    original = nbformat.read(FIXTURE_MASTER, as_version=4)
    assert checks.structure_problems(master, original) == []

    def problems(edit):
        notebook = nbformat.read(FIXTURE_MASTER, as_version=4)
        edit(notebook)
        return " ".join(checks.structure_problems(master, notebook))

    index = {grade_id: i for i, grade_id in enumerate(_graded_ids(original))}
    assert "edited" in problems(lambda nb: setattr(nb.cells[index["test_mul"]], "source", "pass"))
    assert "deleted" in problems(lambda nb: nb.cells.pop(index["test_tanh"]))
    assert "more than once" in problems(lambda nb: nb.cells.append(nb.cells[index["ex_value"]]))
    assert "order" in problems(lambda nb: nb.cells.insert(0, nb.cells.pop(index["test_tanh"])))
    assert "points 2 -> 20" in problems(
        lambda nb: nb.cells[index["test_tanh"]].metadata.nbgrader.update(points=20)
    )


def test_hidden_part_is_split_from_the_visible_self_check():
    visible, hidden = split_hidden(
        "assert ok\n### BEGIN HIDDEN TESTS\ndef hidden_test(check, rng):\n"
        "    pass\n### END HIDDEN TESTS"
    )
    assert visible == "assert ok"
    assert hidden.startswith("def hidden_test(check, rng):")


# --- seeds ----------------------------------------------------------------------------------


def test_course_secret_is_created_once_with_mode_600(tmp_path, monkeypatch):
    monkeypatch.delenv(secret.ENV_VAR, raising=False)
    first = secret.course_secret(tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / ".course_secret").st_mode) == 0o600
    assert secret.course_secret(tmp_path) == first and len(first) >= 32
    monkeypatch.setenv(secret.ENV_VAR, "from-the-environment")
    assert secret.course_secret(tmp_path) == b"from-the-environment"


def test_seeds_differ_by_student_cell_secret_and_submission():
    seed = secret.hidden_test_seed
    digest = secret.submission_digest({"ex": "x = 1"})
    base = seed(b"k", "a", "alice", "test_x", digest)
    assert base == seed(b"k", "a", "alice", "test_x", digest)
    changed = secret.submission_digest({"ex": "x = 1 "})
    others = {
        seed(b"k", "a", "bob", "test_x", digest),
        seed(b"k", "a", "alice", "test_y", digest),
        seed(b"other", "a", "alice", "test_x", digest),
        seed(b"k", "a", "alice", "test_x", changed),
    }
    assert len(others | {base}) == 5
    # cell boundaries are part of the digest: moving code between cells changes the inputs
    assert secret.submission_digest({"a": "xy", "b": ""}) != secret.submission_digest(
        {"a": "x", "b": "y"}
    )


# --- the sandbox ----------------------------------------------------------------------------


QUICK = Limits(cell_timeout=5)


def sandbox_run(source: str, tests=(), forbidden=("torch",), limits=QUICK):
    cells = [{"id": "ex", "kind": "solution", "source": source}]
    return run_in_sandbox(cells, list(tests), forbidden, limits, "bubblewrap")


def output_text(record) -> str:
    return json.dumps(record.outputs)


def test_bubblewrap_is_used_where_installed():
    assert bubblewrap_available(), "bubblewrap must work here (CI installs it)"


def test_sandbox_sees_no_course_no_secret_no_network(tmp_path):
    (tmp_path / ".course_secret").write_text("TOPSECRET")
    solutions, package = str(REPO / "solutions"), str(REPO / "grader")
    secret_file = str(tmp_path / ".course_secret")
    probe = f"""
import os, socket
print("repo", os.path.exists({solutions!r}), os.path.exists({package!r}))
print("secret", os.path.exists({secret_file!r}), "TOPSECRET" in str(os.environ))
print("cwd", os.getcwd(), os.listdir("."))
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    print("network yes")
except OSError:
    print("network no")
try:
    open("/usr/evil", "w")
except OSError:
    print("usr read-only")
print("uid", os.getuid())
"""
    text = output_text(sandbox_run(probe))
    assert "repo False False" in text
    assert "secret False False" in text
    assert "cwd /home/student []" in text
    assert "network no" in text and "usr read-only" in text
    assert "uid 0" not in text


def test_forbidden_modules_are_guarded_and_hidden():
    source = """
import sys
try:
    import torch
except ImportError as error:
    print("guard:", error)
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "ForbiddenImportGuard"]
import torch
print("after removing the guard:", getattr(torch, "__version__", "no torch here"))
"""
    text = output_text(sandbox_run(source))
    assert "importing torch earns no marks" in text
    assert "no torch here" in text


def test_submodule_entry_blocks_only_that_submodule():
    source = """
import autodiff_lib
print("Value:", autodiff_lib.Value(2.0).data)
try:
    import autodiff_lib.diagnostics
except ImportError as error:
    print("blocked:", error)
"""
    text = output_text(sandbox_run(source, forbidden=("autodiff_lib.diagnostics",)))
    assert "Value: 2.0" in text
    assert "blocked:" in text and "autodiff_lib.diagnostics" in text


def test_outputs_are_truncated_and_exceptions_point_at_the_students_line():
    source = "print('x' * 100000)\ndef f():\n    return 1 / 0\nf()"
    record = sandbox_run(source, limits=Limits(cell_timeout=5, output_chars=1000))
    stream, error = record.outputs["ex"]
    assert len(stream["text"]) < 1100 and "characters of output cut" in stream["text"]
    assert record.truncated == ["ex"]
    assert error["ename"] == "ZeroDivisionError"
    assert error["frames"][-1] == ["ex", 3, "return 1 / 0"]


def test_hidden_test_source_seed_tolerances_and_hints_never_reach_the_students_process():
    """The student's code spies on every message its process receives and on every string in
    its memory, then returns all of it as a result: none of the hidden test is in there."""
    source = """
import gc, sys
runner = sys.modules["__main__"]
LOG = []
receive = runner.Channel.receive
def spy(self):
    message = receive(self)
    LOG.append(repr(message))
    return message
runner.Channel.receive = spy
def f(x):
    return x
def leak():
    strings = [o for o in gc.get_objects() if isinstance(o, str) and "LEAK" in o]
    return " ".join(LOG) + " ".join(strings)
"""
    test = {
        "id": "t",
        "seed": 987654321987,
        "source": (
            "def hidden_test(check, rng):\n"
            "    LEAKME_local = 0.5\n"
            "    x = rng.uniform(0, 1)\n"
            "    f = check.get('f')\n"
            "    hints = [('LEAKME', 42.4242)]\n"
            "    check('LEAKME case name', lambda: f(x), rel=0.000777, hints=hints)\n"
            "    check('leak', lambda: check.get('leak')())\n"
        ),
    }
    record = sandbox_run(source, tests=[test])
    first, leak = record.results["t"]["cases"]
    assert isinstance(first["value"], float) and repr(first["value"]) in leak["value"]
    for secret_part in ("LEAKME", "hidden_test", "0.000777", "42.4242", "987654321987", "rel"):
        assert secret_part not in leak["value"], secret_part


def test_fallback_subprocess_keeps_guard_limits_and_a_scrubbed_environment(monkeypatch):
    monkeypatch.setenv("AUTODIFF_COURSE_SECRET", "TOPSECRET")
    source = """
import os
print("env", "TOPSECRET" in str(os.environ), "cwd", os.listdir("."))
try:
    import torch
except ImportError as error:
    print("guard:", error)
try:
    hog = bytearray(3 * 1024**3)
except MemoryError:
    print("memory limited")
"""
    cells = [{"id": "ex", "kind": "solution", "source": source}]
    record = run_in_sandbox(cells, [], ("torch",), QUICK, "subprocess")
    text = output_text(record)
    assert record.isolation == "subprocess"
    assert "env False cwd []" in text
    assert "importing torch earns no marks" in text
    assert "memory limited" in text
    monkeypatch.setenv("AUTODIFF_GRADER_NO_BWRAP", "1")
    assert not bubblewrap_available()


def test_validate_tells_students_what_to_fix_before_submitting(tmp_path, capsys):

    import kit

    from grader.cli import main

    root = kit.make_course(tmp_path / "course")
    solved = kit.submission(root, kit.master_solution(root))
    solved.cells.append(nbformat.v4.new_code_cell("print('my scratch work')"))
    good = kit.write(solved, tmp_path / "a/tiny_value.ipynb")
    wrong = kit.write(kit.submission(root, kit.wrong_tanh(root)), tmp_path / "b/tiny_value.ipynb")
    cheat = kit.write(
        kit.submission(root, "from autodiff_lib import Value"), tmp_path / "c/tiny_value.ipynb"
    )
    assert main(["--course-dir", str(root), "validate", str(good)]) == 0
    out = capsys.readouterr().out
    assert "Ready to submit." in out and "1 code cell(s) you added are not run" in out
    assert main(["--course-dir", str(root), "validate", str(wrong)]) == 1
    out = capsys.readouterr().out
    assert "ok   test_mul" in out
    assert "FAIL test_tanh: AssertionError: d/dx tanh(x) at 0.5 should be 0.7864" in out
    assert main(["--course-dir", str(root), "validate", str(cheat)]) == 1
    out = capsys.readouterr().out
    assert "imports autodiff_lib" in out and "importing autodiff_lib earns no marks" in out


def test_submissions_are_collected_from_every_layout(tmp_path):
    from grader.batch import collect

    plain = tmp_path / "plain"
    (plain / "Doe, Jane").mkdir(parents=True)
    (plain / "Doe, Jane" / "tiny_value.ipynb").write_text("{}")
    (plain / "bob" / "tiny_value").mkdir(parents=True)  # nbgrader's submitted/ layout
    (plain / "bob" / "tiny_value" / "tiny_value.ipynb").write_text("{}")
    found = collect(plain, "tiny_value", tmp_path / "unused")
    assert found == {"Doe__Jane": plain / "Doe, Jane", "bob": plain / "bob" / "tiny_value"}
    wrapped = tmp_path / "wrapped" / "submitted" / "carol"
    wrapped.mkdir(parents=True)
    (wrapped / "tiny_value.ipynb").write_text("{}")
    assert collect(tmp_path / "wrapped", "tiny_value", tmp_path / "unused") == {"carol": wrapped}


def test_a_checkout_under_tmp_is_bound_on_top_of_the_private_tmp(monkeypatch, tmp_path):
    """CI often clones into /tmp: the venv and library must stay visible inside the sandbox."""
    from grader import sandbox

    venv = tmp_path / "venv"
    venv.mkdir()
    monkeypatch.setattr(sandbox, "_python_dirs", lambda: [venv])
    args = sandbox._bwrap_mounts(())
    private_tmp = next(i for i, a in enumerate(args) if a == "--tmpfs" and args[i + 1] == "/tmp")
    venv_bind = next(i for i, a in enumerate(args) if a == "--ro-bind" and args[i + 1] == str(venv))
    assert private_tmp < venv_bind
    assert ["--chdir", sandbox.STUDENT_HOME] == args[
        args.index("--chdir") : args.index("--chdir") + 2
    ]
