"""Mutation testing: the hidden tests catch every listed bug and accept every listed alternative.

The unit tests cover how mutants are applied (no grading); the end-to-end tests grade every
mutant and alternative of every assignment that has a ``benchmarks/mutants/<id>.py``.
"""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from benchmarks import mutation_testing as mt
from grader.master import strip_hidden

ASSIGNMENTS = mt.assignments_with_mutants()


def _meta(grade_id, **flags):
    meta = {"grade_id": grade_id, "grade": False, "solution": False, "locked": True}
    meta.update(flags)
    return {"nbgrader": {**meta, "schema_version": 3, "task": False}}


def _tiny_master():
    cells = [
        new_markdown_cell("# title", metadata=_meta("intro")),
        new_code_cell("import math", metadata=_meta("setup_imports")),
        new_code_cell(
            "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            metadata=_meta("ex_f", solution=True, locked=False),
        ),
        new_code_cell(
            "assert f(1) == 2\n### BEGIN HIDDEN TESTS\ndef hidden_test(check, rng):\n"
            "    check('f(3)', lambda: check.get('f')(3))\n### END HIDDEN TESTS",
            metadata=_meta("test_f", grade=True, points=1),
        ),
    ]
    return new_notebook(cells=cells)


# --------------------------------------------------------------------------- applying mutants


def test_mutated_source_replaces_every_occurrence():
    assert mt.mutated_source("a += 1\nb += 2", "+=", "=") == "a = 1\nb = 2"


def test_mutated_source_refuses_text_that_does_not_occur():
    with pytest.raises(mt.SpecError, match="does not occur"):
        mt.mutated_source("self.grad += g", "self.grad -= g", "self.grad = g")


def test_mutated_source_refuses_a_mutant_that_changes_nothing():
    with pytest.raises(mt.SpecError, match="the same"):
        mt.mutated_source("x + 1", "x", "x")


def test_submission_swaps_the_exercise_and_hides_the_hidden_tests():
    master = _tiny_master()
    notebook = mt.submission(master, "ex_f", "def f(x):\n    return 3 * x", strip_hidden)
    sources = {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in notebook.cells}
    assert sources["ex_f"] == "def f(x):\n    return 3 * x"
    assert sources["test_f"] == "assert f(1) == 2"
    assert sources["setup_imports"] == "import math"
    assert "return 2 * x" in master.cells[2].source, "the master itself must stay untouched"
    assert "BEGIN HIDDEN TESTS" in master.cells[3].source


@pytest.mark.parametrize("cell", ["test_f", "setup_imports", "intro", "no_such_cell"])
def test_submission_only_replaces_exercise_cells(cell):
    with pytest.raises(mt.SpecError):
        mt.submission(_tiny_master(), cell, "pass", strip_hidden)


def test_load_spec_reads_mutants_and_alternatives(tmp_path):
    path = tmp_path / "99_demo.py"
    path.write_text(
        "MUTANTS = [{'cell': 'ex_f', 'find': '2 *', 'replace': '3 *', 'bug': 'wrong factor'}]\n"
        "ALTERNATIVES = [{'cell': 'ex_f', 'source': 'def f(x):\\n    return x + x', "
        "'why': 'addition'}]\n"
    )
    mutants, alternatives = mt.load_spec(path)
    assert mutants == [mt.Mutant("ex_f", "2 *", "3 *", "wrong factor")]
    assert alternatives == [mt.Alternative("ex_f", "def f(x):\n    return x + x", "addition")]


def test_load_spec_reads_a_pitfall(tmp_path):
    path = tmp_path / "99_demo.py"
    path.write_text(
        "MUTANTS = [{'cell': 'ex_f', 'find': '2 *', 'replace': '3 *', 'bug': 'wrong factor',\n"
        "            'pitfall': {'self_check': 'test_f', 'hint': 'factor 2'}}]\n"
        "ALTERNATIVES = []\n"
    )
    (mutant,), _ = mt.load_spec(path)
    assert mutant.pitfall == mt.Pitfall("test_f", "factor 2")


@pytest.mark.parametrize(
    "text",
    [
        "MUTANTS = []",  # no ALTERNATIVES
        "MUTANTS = [{'cell': 'c', 'find': 'a', 'replace': 'b', 'bug': 'x', 'pitfall': 'test_c'}]"
        "\nALTERNATIVES = []",  # a pitfall names its self-check and hint
        "MUTANTS = [{'cell': 'c', 'find': 'a', 'replace': 'b', 'bug': 'x', "
        "'pitfall': {'self_check': 'test_c', 'hint': ''}}]\nALTERNATIVES = []",
        "MUTANTS = [{'cell': 'c', 'find': 'a', 'replace': 'b', 'bug': 'x', 'extra': 1}]"
        "\nALTERNATIVES = []",
        "MUTANTS = [{'cell': 'c', 'find': 'a'}]\nALTERNATIVES = []",  # keys missing
        "MUTANTS = [{'cell': 'c', 'find': '', 'replace': 'b', 'bug': 'x'}]\nALTERNATIVES = []",
        "MUTANTS = {}\nALTERNATIVES = []",
    ],
)
def test_load_spec_refuses_malformed_files(tmp_path, text):
    path = tmp_path / "99_bad.py"
    path.write_text(text)
    with pytest.raises(mt.SpecError):
        mt.load_spec(path)


def test_outcome_verdicts():
    assert mt.Outcome("mutant", "bug", 1.0, 2.0).ok
    assert not mt.Outcome("mutant", "bug", 2.0, 2.0).ok
    assert mt.Outcome("alternative", "why", 2.0, 2.0).ok
    assert not mt.Outcome("alternative", "why", 2.0, 2.0, flag="imports torch").ok
    assert not mt.Outcome("alternative", "why", 1.0, 2.0).ok
    assert not mt.Outcome("mutant", "bug", 0.0, 0.0, error="find missing").ok


def test_table_reports_counts_and_fraction():
    report = mt.Report(
        "99_demo",
        [
            mt.Outcome("master", "m", 3, 3),
            mt.Outcome("mutant", "a", 0, 3),
            mt.Outcome("mutant", "b", 3, 3),
            mt.Outcome("alternative", "c", 3, 3),
        ],
    )
    assert "| 99_demo | 2 | 1 | 50% | 1/1 |" in mt.table([report])
    assert not report.passed
    assert mt.describe_problems(report) == ["99_demo: mutant NOT caught: b"]


def test_write_doc_replaces_only_the_results_section(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(f"intro\n{mt.DOC_BEGIN}\nold\n{mt.DOC_END}\noutro\n")
    mt.write_doc(page, "new table")
    assert page.read_text() == f"intro\n{mt.DOC_BEGIN}\nnew table\n{mt.DOC_END}\noutro\n"


# --------------------------------------------------------------------------- the mutants files


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_mutants_file_fits_its_master(assignment):
    """At least 6 mutants and one alternative, each aimed at an exercise cell it can mutate."""
    mutants, alternatives = mt.load_spec(mt.MUTANTS_DIR / f"{assignment}.py")
    assert len(mutants) >= 6, f"{assignment}: only {len(mutants)} mutants"
    assert alternatives, f"{assignment}: no alternative solution"
    master = nbformat.read(mt.SOLUTIONS_DIR / assignment / f"{assignment}.ipynb", as_version=4)
    for mutant in mutants:
        source = mt.cell_source(master, mutant.cell)
        mt.mutated_source(source, mutant.find, mutant.replace)  # raises when it cannot apply
    for alternative in alternatives:
        mt.submission(master, alternative.cell, alternative.source, strip_hidden)


# --------------------------------------------------------------------------- end to end


def test_reference_grader_scores_like_the_grader():
    """Grading against a cached reference run gives evaluate_submission's scores."""
    from grader.evaluate import evaluate_submission
    from grader.master import load_master

    path = mt.SOLUTIONS_DIR / "05_value_engine" / "05_value_engine.ipynb"
    master_info, master = load_master(path), nbformat.read(path, as_version=4)
    grader = mt.ReferenceGrader(master_info)
    source = mt.cell_source(master, "value_impl")
    wrong_tanh = mt.mutated_source(source, "(1 - t * t) * out.grad", "(1 - t) * out.grad")
    for variant in (source, wrong_tanh):
        notebook = mt.submission(master, "value_impl", variant, strip_hidden)
        ours = grader.grade(notebook, "mutant", "variant")
        theirs = evaluate_submission(
            master_info, notebook, mt.STUDENT, mt.SECRET, digest=grader.digest
        )
        assert (ours.score, ours.max_score) == (theirs.score, theirs.max_score)
        assert ours.failed_tests == tuple(t.id for t in theirs.tests if not t.passed)
        assert ours.flag == theirs.reason
    assert ours.failed_tests, "the wrong tanh derivative must fail a graded cell"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_mutant_caught_and_every_alternative_accepted(assignment):
    report = mt.run_assignment(assignment, workers=1)
    assert report.mutants, f"{assignment}: no mutant was graded"
    assert report.passed, "\n".join(mt.describe_problems(report))


def test_a_mutant_is_attributed_to_the_function_around_its_find_text():
    source = (
        "class Value:\n    def __mul__(self, other):\n        return 1\n\n"
        "    def tanh(self):\n        t = 2\n        return t\n\n\ndef helper():\n    return 3\n"
    )
    assert mt.enclosing_function(source, "t = 2") == "Value.tanh"
    assert mt.enclosing_function(source, "return 1") == "Value.__mul__"
    assert mt.enclosing_function(source, "return 3") == "helper"
    assert mt.names_operation("Value.__mul__", "f = a * b at a=1.0: expected 2.0, got 3.0.")
    assert not mt.names_operation("Value.tanh", "f = a * b at a=1.0: expected 2.0, got 3.0.")
