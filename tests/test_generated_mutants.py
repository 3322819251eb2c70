"""Generated mutants: the generator's operators and ids, and a fixed sample graded per master.

The unit tests run the generator on a small engine (no grading). The end-to-end tests grade a
few generated mutants of every master, chosen by the hash of their ids (the same on every run
while the cells do not change), and require each to be killed by the hidden tests or listed
as equivalent in ``benchmarks/mutants/equivalent.json``. The whole run is
``benchmarks/generated_mutation_testing.py``; its results are in docs/mutation-testing.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


from benchmarks import generated_mutants as gm  # noqa: E402
from benchmarks import generated_mutation_testing as gmt  # noqa: E402

ASSIGNMENTS = sorted(path.name for path in (REPO / "solutions").iterdir() if path.is_dir())

ENGINE = '''\
import math


class Value:
    """A scalar that remembers how it was computed."""

    def __init__(self, data, _children=()):
        ### BEGIN SOLUTION
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        ### END SOLUTION

    def __mul__(self, other):
        ### BEGIN SOLUTION
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out
        ### END SOLUTION

    def backward(self):
        ### BEGIN SOLUTION
        order, seen = [], set()

        def visit(v):
            if v not in seen:
                seen.add(v)
                for child in v._prev:
                    visit(child)
                order.append(v)

        visit(self)
        for v in order:
            v.grad = 0.0
        self.grad = 1.0
        for v in reversed(order):
            v._backward()
        ### END SOLUTION


def scale(x, factor=2.0):
    """Not an exercise: no markers around it, but the cell has markers elsewhere."""
    return x * factor
'''


@pytest.fixture(scope="module")
def engine_mutants():
    return gm.mutate_cell("value_impl", ENGINE)


def _changed(mutant) -> str:
    """The one line the mutant changed (for single-line mutations)."""
    before, after = ENGINE.splitlines(), mutant.source.splitlines()
    return after[mutant.line - 1].strip() if len(before) == len(after) else ""


# --------------------------------------------------------------------------- the generator


def test_mutants_parse_and_are_distinct(engine_mutants):
    assert len(engine_mutants) > 30
    sources = [mutant.source for mutant in engine_mutants]
    assert len(set(sources)) == len(sources), "two mutants with the same source"
    original = ast.dump(ast.parse(ENGINE))
    for mutant in engine_mutants:
        assert ast.dump(ast.parse(mutant.source)) != original, mutant.id


def test_mutants_change_one_place_inside_the_solution_markers(engine_mutants):
    regions = gm.solution_lines(ENGINE)
    assert regions == [(9, 12), (17, 24), (29, 43)]
    for mutant in engine_mutants:
        before, after = ENGINE.splitlines(), mutant.source.splitlines()
        first = next(i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b)
        last_before = len(before) - next(
            i for i, (a, b) in enumerate(zip(before[::-1], after[::-1], strict=False)) if a != b
        )
        assert any(start <= first + 1 and last_before <= end for start, end in regions), mutant.id
        assert after[-3:] == before[-3:], "the function without markers must not be mutated"
        assert '"""A scalar that remembers how it was computed."""' in mutant.source


def test_every_course_operator_fires_with_the_expected_change(engine_mutants):
    by_operator = {}
    for mutant in engine_mutants:
        by_operator.setdefault(mutant.operator, []).append(mutant)
    assert {name for name, _, _ in gm.COURSE_OPERATORS} - {"course.forget_to_accumulate"} <= set(
        by_operator
    )
    assert {_changed(m) for m in by_operator["course.drop_chain_factor"]} == {
        "self.grad += other.data",
        "other.grad += self.data",
    }
    (swap,) = by_operator["course.swap_child_derivatives"]
    assert "self.grad += self.data * out.grad\n            other.grad += other.data" in swap.source
    assert {_changed(m) for m in by_operator["course.reverse_traversal"]} == {"for v in order:"}
    resets = [m.source for m in by_operator["course.forget_to_reset"]]
    assert any("for v in order:\n            pass\n" in source for source in resets)
    assert {_changed(m) for m in by_operator["course.accumulate_to_assign"]} == {
        "self.grad = other.data * out.grad",
        "other.grad = self.data * out.grad",
    }
    assert any(_changed(m) == "pass" for m in by_operator["course.remove_statement"])


def test_forget_to_accumulate_and_reset_of_a_subscripted_gradient():
    cell = "def step(grads, x, g):\n    grads[0] = 0.0\n    x.grad = x.grad + g\n"
    changes = {m.operator: m.source for m in gm.mutate_cell("ex", cell)}
    assert "x.grad = g\n" in changes["course.forget_to_accumulate"]
    assert "    pass\n    x.grad" in changes["course.forget_to_reset"]


def test_mutmut_operators_are_used_except_strings(engine_mutants):
    operators = {mutant.operator for mutant in engine_mutants}
    assert {"mutmut.swap_op", "mutmut.number", "mutmut.arg_removal", "mutmut.assignment"} <= (
        operators
    )
    assert "mutmut.string" not in {name for name, _, _ in gm.OPERATORS}
    changed = {_changed(m) for m in engine_mutants if m.operator == "mutmut.swap_op"}
    assert "out = Value(self.data / other.data, (self, other))" in changed


def test_ids_are_stable_unique_and_lapse_when_the_code_changes(engine_mutants):
    ids = [mutant.id for mutant in engine_mutants]
    assert ids == [mutant.id for mutant in gm.mutate_cell("value_impl", ENGINE)]
    assert len(set(ids)) == len(ids)
    assert all(gm.ID_PATTERN.match(mutant_id) for mutant_id in ids), ids[:3]
    first = engine_mutants[0]
    assert first.id.startswith(f"value_impl:{first.operator}:{first.function}:")
    # a reworded docstring or comment (a lesson edit) keeps every judgement ...
    reworded = ENGINE.replace('"""', '"""Reworded,\n    over two lines. ', 1)
    reworded = reworded.replace("import math", "import math  # a comment")
    assert reworded != ENGINE
    assert [mutant.id for mutant in gm.mutate_cell("value_impl", reworded)] == ids
    # ... a changed line of code makes every one lapse
    recoded = ENGINE.replace("import math", "import math as m\nmath = m")
    edited = gm.mutate_cell("value_impl", recoded)
    assert not set(ids) & {mutant.id for mutant in edited}


def test_sample_is_deterministic_and_keeps_source_order(engine_mutants):
    first = gm.sample(engine_mutants, 5, "salt")
    assert first == gm.sample(engine_mutants, 5, "salt")
    assert first != gm.sample(engine_mutants, 5, "other salt")
    assert first == sorted(first, key=engine_mutants.index)


def test_mutants_name_their_function_and_its_class(engine_mutants):
    functions = {mutant.function for mutant in engine_mutants}
    assert functions == {"__init__", "__mul__", "backward"}
    qualified = {mutant.qualified_function for mutant in engine_mutants}
    assert qualified == {"Value.__init__", "Value.__mul__", "Value.backward"}
    (plain,) = gm.mutate_cell("f", "def f(x):\n    return x + 1\n")[:1]
    assert plain.qualified_function == "f"


@pytest.mark.parametrize(
    ("function", "message", "named"),
    [
        ("Value.__mul__", "x * y at x = 0.5: expected 1, got 2.", True),
        ("Value.__truediv__", "d/dy (x / y): expected 1, got 2.", True),
        ("Value.__init__", "Value(3).grad: expected 0, got None.", True),
        ("tanh", "d/dx tanh(x) at x = 0.25: expected 1, got 2.", True),
        ("central_difference", "forward difference at x = 1: expected 1, got 2.", False),
        ("tanh", "", False),
    ],
)
def test_names_operation(function, message, named):
    assert gmt.names_operation(function, message) is named


def test_results_are_classified():
    result = gmt.MutantResult("a:mutmut.number:1:0:0123456789", "a", "mutmut.number", "", "x")
    assert result.survived
    result.equivalent = "x * 1.0 and x / 1.0 are the same float"
    assert not result.survived
    result.equivalent, result.hidden_killed = "", True
    assert not result.survived


def test_equivalent_file_is_well_formed():
    data = gmt.load_equivalents()
    assert set(data) <= set(ASSIGNMENTS)
    for entries in data.values():
        assert all(len(reason) >= 20 for reason in entries.values()), "give a reason"


# --------------------------------------------------------------------------- graded sample


def _fixed_sample(assignment: str, mutants: list) -> list:
    """One course-operator mutant (when there is one) and two others, chosen by id hash."""
    course = [m for m in mutants if m.operator.startswith("course.")]
    others = [m for m in mutants if not m.operator.startswith("course.")]
    return gm.sample(course, 1, assignment) + gm.sample(others, 2, assignment)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_fixed_sample_of_generated_mutants_is_killed(assignment):
    mutants = gmt.master_mutants(assignment)
    cells = {cell for cell, _ in gmt.exercises(gmt.load_assignment_master(assignment))}
    assert {mutant.cell for mutant in mutants} == cells, "every exercise cell gets mutants"
    equivalents = gmt.load_equivalents().get(assignment, {})
    stale = set(equivalents) - {mutant.id for mutant in mutants}
    assert not stale, f"equivalent.json lists mutants the master no longer has: {sorted(stale)}"
    grader = gmt.MutantGrader(assignment)
    missed = []
    for mutant in _fixed_sample(assignment, mutants):
        result = grader.grade(mutant, selfchecks=False)
        assert not result.error, f"{mutant.id}: {result.error}"
        if not result.hidden_killed and mutant.id not in equivalents:
            missed.append(f"{mutant.id}: {result.change}")
    assert not missed, "generated mutants not caught by the hidden tests:\n" + "\n".join(missed)


@pytest.mark.parametrize("assignment", sorted(gmt.load_equivalents()))
def test_a_listed_equivalent_mutant_still_earns_full_marks(assignment):
    """The first listed equivalent mutant of each master: if the hidden tests now kill it, the
    judgement in equivalent.json is wrong (or out of date) and must be removed."""
    mutant_id = sorted(gmt.load_equivalents()[assignment])[0]
    (mutant,) = [m for m in gmt.master_mutants(assignment) if m.id == mutant_id]
    result = gmt.MutantGrader(assignment).grade(mutant, selfchecks=False)
    assert not result.error, result.error
    assert not result.hidden_killed, f"{mutant_id} is listed as equivalent but fails {result}"


def test_self_checks_pass_the_master_and_catch_a_dropped_chain_factor():
    grader = gmt.MutantGrader("04_computational_graphs")
    cells = dict(gmt.exercises(grader.master))
    assert grader.visible("ex_backward", cells["ex_backward"]) == (False, "")
    (mutant,) = [
        m
        for m in gmt.master_mutants("04_computational_graphs")
        if m.cell == "ex_backward" and m.operator == "course.drop_chain_factor"
    ]
    caught, message = grader.visible(mutant.cell, mutant.source)
    assert caught and message.startswith("test_backward_deck: AssertionError"), message
