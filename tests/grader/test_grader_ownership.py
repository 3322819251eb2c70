"""One bug, one exercise: a graded cell is re-graded on its own code with the master's rest.

Unit tests of what a cell owns and how sources are spliced, then graded submissions: a bug in
03's ``Dual`` no longer costs the ``jvp`` marks, a ``**`` bug in 05 costs only the power test,
a bug in the exercise a test owns is never forgiven, and nothing of the re-grading run (which
holds the master's code) reaches the student.
"""

from __future__ import annotations

import ast
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from benchmarks import mutation_testing as mt
from grader import checks, evaluate, ownership
from grader.evaluate import evaluate_submission
from grader.master import load_master, strip_hidden
from grader.paths import master_ids, master_path
from grader.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = master_ids(ROOT)


def _master(assignment):
    return load_master(master_path(ROOT, assignment))


# --------------------------------------------------------------------------- what a cell owns


def test_exercises_follow_the_notebooks_exercise_headings():
    found = ownership.exercises(_master("03_forward_mode"))
    assert [(e.cells, e.tests) for e in found] == [
        (("ex_dual",), ("test_dual_arithmetic", "test_dual_functions")),
        (("ex_jvp",), ("test_jvp", "test_jacobian_forward")),
    ]
    found = ownership.exercises(_master("07_tensor_engine"))
    assert len(found) == 8 and found[-1].cells == ("ex_train_step",)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_cell_has_an_exercise_and_valid_owned_names(assignment):
    master = _master(assignment)
    sources = {cell.grade_id: cell.source for cell in master.exercises}
    for cell in master.graded_tests:
        exercise = ownership.exercise_of(master, cell.grade_id)
        assert exercise is not None and exercise.cells, cell.grade_id
        names = ownership.owned_names(master.hidden_tests[cell.grade_id])
        if names:
            for cell_id in exercise.cells:
                ownership.check_owned_names(sources[cell_id], names)
        # the master's own code, swapped in for itself, is the master
        assert ownership.sources_with_reference(master, sources, cell.grade_id) is not None


def test_05_tests_own_one_rule_each_and_backward_owns_the_traversal():
    master = _master("05_value_engine")
    owned = {
        cell.grade_id: ownership.owned_names(master.hidden_tests[cell.grade_id])
        for cell in master.graded_tests
    }
    assert owned["test_pow_grads"] == ("Value.__pow__",)
    assert owned["test_neuron"] == ("Value.__init__", "Value.backward")
    named = {name for names in owned.values() if names for name in names}
    (value_cell,) = master.exercises
    methods = {f"Value.{name}" for name in re.findall(r"^    def (\w+)", value_cell.source, re.M)}
    assert named == methods - {"Value.__repr__"}  # every rule and the traversal; repr is given


def test_an_owned_name_the_master_does_not_define_is_an_authoring_error():
    with pytest.raises(ownership.OwnershipError, match="does not define"):
        ownership.check_owned_names("class Value:\n    def exp(self): ...", ("Value.expp",))


def test_splice_keeps_the_students_owned_methods_and_helpers_and_the_masters_rest():
    master = "class V:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n"
    student = (
        "def helper():\n    return 30\n\n"
        "class V:\n    def f(self):\n        return 10\n\n"
        "    def g(self):\n        return self._mine() + helper()\n\n"
        "    def _mine(self):\n        return 5\n"
    )
    scope: dict = {}
    exec(ownership.splice(master, student, ("V.g",)), scope)
    assert (scope["V"]().f(), scope["V"]().g()) == (1, 35)


@pytest.mark.parametrize(
    "student",
    [
        "class V:\n    def f(self):\n        return 10\n",  # lacks the owned g
        "class V:\n    def g(self:\n",  # a syntax error
        "x = y" + ".a" * 200_000,  # too long to parse here
        "x = (" + "-" * 150_000 + "1)",  # too deep for the parser
    ],
)
def test_splice_gives_none_for_code_it_cannot_use(student):
    master = "class V:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n"
    assert ownership.splice(master, student, ("V.g",)) is None


# --------------------------------------------------------------------------- graded submissions


@pytest.fixture(scope="module")
def graders():
    made: dict = {}

    def grader(assignment):
        if assignment not in made:
            made[assignment] = mt.ReferenceGrader(_master(assignment))
        return made[assignment]

    return grader


def _submission(grader, changes: dict[str, list[tuple[str, str]]]):
    """The master with its hidden tests removed and text replaced in its exercise cells."""
    notebook = nbformat.read(grader.master.path, as_version=4)
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            cell.source = strip_hidden(cell.source)
        for find, replace in changes.get(meta.get("grade_id"), []):
            assert find in cell.source, (meta.get("grade_id"), find)
            cell.source = cell.source.replace(find, replace)
    return notebook


def _grade(grader, changes: dict[str, list[tuple[str, str]]]):
    """The graded submission: its evaluation and {test id: TestResult}."""
    evaluation = evaluate_submission(
        grader.master, _submission(grader, changes), mt.STUDENT, mt.SECRET, grader.isolation,
        reference=grader.reference, digest=grader.digest,
    )  # fmt: skip
    return evaluation, {test.id: test for test in evaluation.tests}


QUOTIENT_WITHOUT_SQUARE = (
    "tangent = (self.tangent * other.value - self.value * other.tangent) / other.value**2",
    "tangent = (self.tangent * other.value - self.value * other.tangent) / other.value",
)


def test_03_a_quotient_rule_bug_costs_the_dual_tests_only(graders):
    evaluation, tests = _grade(graders("03_forward_mode"), {"ex_dual": [QUOTIENT_WITHOUT_SQUARE]})
    assert not tests["test_dual_arithmetic"].passed
    assert tests["test_jvp"].passed and tests["test_jacobian_forward"].passed
    message = tests["test_jvp"].message
    assert message.startswith("Full marks: all") and "outside this exercise" in message
    assert not evaluation.flagged


def test_03_a_jvp_bug_is_never_forgiven_even_beside_a_dual_bug(graders):
    jvp_bug = ("out = f([Dual(xj, vj) for xj, vj in zip(x, v)])",
               "out = f([Dual(xj, 1.0) for xj, vj in zip(x, v)])")  # fmt: skip
    _, tests = _grade(
        graders("03_forward_mode"), {"ex_dual": [QUOTIENT_WITHOUT_SQUARE], "ex_jvp": [jvp_bug]}
    )
    assert not tests["test_jvp"].passed
    assert not tests["test_jvp"].message.startswith("Full marks")


def test_05_a_power_rule_bug_costs_the_power_test_only(graders):
    power_bug = ("self.grad += exponent * self.data ** (exponent - 1) * out.grad",
                 "self.grad += exponent * self.data ** exponent * out.grad")  # fmt: skip
    evaluation, tests = _grade(graders("05_value_engine"), {"value_impl": [power_bug]})
    assert [t for t, result in tests.items() if not result.passed] == ["test_pow_grads"]
    assert evaluation.score == evaluation.max_score - 1
    kept = [result.message for result in tests.values() if result.message.startswith("Full")]
    assert kept and all("because of your other methods" in message for message in kept)


def test_05_a_tanh_bug_costs_the_activation_test_only(graders):
    tanh_bug = ("self.grad += (1 - t * t) * out.grad", "self.grad += (1 - t) * out.grad")
    _, tests = _grade(graders("05_value_engine"), {"value_impl": [tanh_bug]})
    assert [t for t, result in tests.items() if not result.passed] == ["test_activation_grads"]


def test_a_rule_that_overwrites_a_reused_nodes_grad_costs_its_own_test(graders):
    # = for += in the rule of *: x * y + x catches it in the * test; the accumulation and
    # reflected tests that failed too keep their points (their failure comes from *)
    accumulate_bug = ("self.grad += other.data * out.grad", "self.grad = other.data * out.grad")
    _, tests = _grade(graders("05_value_engine"), {"value_impl": [accumulate_bug]})
    assert [t for t, result in tests.items() if not result.passed] == ["test_mul_div_grads"]
    assert "add to it (self.grad += ...)" in tests["test_mul_div_grads"].message
    assert tests["test_accumulation"].message.startswith("Full marks for `Value.__init__`")


def test_cells_failing_in_one_exercise_only_are_not_re_graded(monkeypatch):
    # their failure cannot come from elsewhere: no second run, nothing forgiven
    master = _master("03_forward_mode")
    monkeypatch.setattr(evaluate, "run_exercises", lambda *args: pytest.fail("re-graded"))
    failed = {
        "test_dual_arithmetic": Verdict("test_dual_arithmetic", True, "", 1),
        "test_dual_functions": Verdict("test_dual_functions", True, "", 1),
        "test_jvp": Verdict("test_jvp", False, "wrong", 1),
        "test_jacobian_forward": Verdict("test_jacobian_forward", False, "wrong", 1),
    }
    sources = {cell.grade_id: cell.source for cell in master.exercises}
    assert evaluate.retry_with_reference(master, sources, [], None, failed, "subprocess") == {}


# the student's jvp tells the master's Dual (quotient rule right) from their own (wrong)
_LEAKY_JVP = """
import sys


def whose_dual():
    probe = Dual(1.0, 1.0) / Dual(2.0, 0.0)
    whose = "MASTER" if probe.tangent == 0.5 else "OWN"
    return "LEAK-" + whose + "-" + repr(Dual.__truediv__.__code__.co_consts)


def leak():
    tag = whose_dual()
    print(tag)
    print(tag, file=sys.stderr)
    with open("/tmp/grader-leak-test.txt", "w") as handle:
        handle.write(tag)
    if "MASTER" in tag and RAISE:
        raise RuntimeError(tag)


leak()  # when the cell runs: its output is the student's to see, in the student's own run


def jvp(f, x, v):
    leak()  # when the hidden checks call it
    out = f([Dual(xj, vj) for xj, vj in zip(x, v)])
    if isinstance(out, Dual):
        return out.value, out.tangent
    outs = [Dual.lift(o) for o in out]
    return [o.value for o in outs], [o.tangent for o in outs]
"""


@pytest.mark.parametrize("raises", [False, True], ids=["prints", "raises"])
def test_the_re_grading_run_holds_the_masters_code_but_nothing_of_it_reaches_the_student(
    graders, raises
):
    grader = graders("03_forward_mode")
    notebook = _submission(grader, {"ex_dual": [QUOTIENT_WITHOUT_SQUARE]})
    for cell in notebook.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "ex_jvp":
            start = cell.source.index("def jacobian_forward")
            cell.source = f"RAISE = {raises}\n" + _LEAKY_JVP + "\n\n" + cell.source[start:]
    evaluation = evaluate_submission(
        grader.master, notebook, mt.STUDENT, mt.SECRET, grader.isolation,
        reference=grader.reference, digest=grader.digest,
    )  # fmt: skip
    shown = json.dumps(
        [evaluation.summary(), evaluation.cell_outputs, evaluation.test_outputs], default=str
    )
    tests = {test.id: test for test in evaluation.tests}
    assert "LEAK-OWN" in shown  # the student's own run shows what it printed, as always
    assert "LEAK-MASTER" not in shown  # the re-grading run's prints, errors and files: never
    assert not Path("/tmp/grader-leak-test.txt").exists()
    # the re-grading did run: without raising, jvp passes there with the master's Dual
    assert tests["test_jvp"].passed is (not raises)
    assert "MASTER" not in tests["test_jvp"].message


def test_cells_are_parsed_one_thread_at_a_time_and_a_parser_failure_is_no_crash(monkeypatch):
    # CPython 3.11's AST constructor is not thread-safe (python/cpython#106905: "AST
    # constructor recursion depth mismatch" seen here in a threaded mutation run)
    inside, most = [0], [0]
    real_parse = ast.parse

    def counting_parse(source, *args, **kwargs):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        try:
            time.sleep(0.001)
            return real_parse(source, *args, **kwargs)
        finally:
            inside[0] -= 1

    monkeypatch.setattr(ast, "parse", counting_parse)
    with ThreadPoolExecutor(max_workers=8) as pool:
        trees = list(pool.map(checks.parse_code, ["x = 1"] * 64))
    assert all(tree is not None for tree in trees) and most[0] == 1

    def broken_parse(source, *args, **kwargs):
        raise SystemError("AST constructor recursion depth mismatch (before=30, after=23)")

    monkeypatch.setattr(ast, "parse", broken_parse)
    assert checks.parse_code("x = 1") is None
    assert checks.forbidden_imports("import torch", ("torch",)) == []  # the sandbox still hides it
