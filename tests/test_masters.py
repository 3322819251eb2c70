"""Every master in ``solutions/`` keeps the authoring contract (``docs/authoring.md``).

For each master: it runs top to bottom; it grades at full marks through ``grade --json``; its
released student version grades 0 and holds no solution code, no hidden tests, no outputs;
and ``course/`` is what ``release`` generates from the masters today.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest
from figure_support import probe_cell, readability_problems
from nbclient import NotebookClient

from grader.cli import main
from grader.master import load_master
from grader.paths import master_ids
from grader.release import stale

REPO = Path(__file__).resolve().parent.parent
MASTERS = master_ids(REPO)
MARKERS = (
    "### BEGIN SOLUTION",
    "### END SOLUTION",
    "### BEGIN HIDDEN TESTS",
    "### END HIDDEN TESTS",
)


@pytest.fixture(autouse=True)
def course_secret(monkeypatch):
    monkeypatch.setenv("AUTODIFF_COURSE_SECRET", "test-masters")
    monkeypatch.setenv("MPLBACKEND", "Agg")


def master_file(assignment: str) -> Path:
    return REPO / "solutions" / assignment / f"{assignment}.ipynb"


def release_file(assignment: str) -> Path:
    return REPO / "course" / assignment / f"{assignment}.ipynb"


def grade(assignment: str, notebook: Path) -> dict:
    output = io.StringIO()
    with redirect_stdout(output):
        assert main(["grade", assignment, str(notebook), "--json"]) == 0
    return json.loads(output.getvalue())


def solution_lines(source: str) -> set[str]:
    """Lines only found inside ``### BEGIN/END SOLUTION`` regions of a master cell."""
    inside, outside, within = set(), set(), False
    for line in source.splitlines():
        if "### BEGIN SOLUTION" in line:
            within = True
        elif "### END SOLUTION" in line:
            within = False
        else:
            (inside if within else outside).add(line.strip())
    return {line for line in inside - outside if len(line) >= 8 and not line.startswith("#")}


def test_there_are_masters():
    assert MASTERS, "no master notebooks in solutions/"


@pytest.mark.parametrize("assignment", MASTERS)
def test_master_runs_top_to_bottom_and_its_figures_read_without_colour(assignment, tmp_path):
    """Every cell runs; every figure's labelled curves differ by line style or marker, not by
    colour alone, and no legend covers data points (tests/figure_support.py)."""
    notebook = nbformat.read(master_file(assignment), as_version=4)
    record = tmp_path / "figures.jsonl"
    notebook.cells.insert(0, nbformat.v4.new_code_cell(probe_cell(record)))
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(master_file(assignment).parent)}},
    )
    client.execute()
    assert record.exists(), f"{assignment} drew no figure"
    problems = readability_problems(record)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("assignment", MASTERS)
def test_master_full_marks_and_release_zero(assignment):
    assert release_file(assignment).exists(), f"run `python -m grader release {assignment}`"
    master = grade(assignment, master_file(assignment))
    assert not master["flagged"], master["reason"]
    failed = [t["message"] for t in master["tests"] if not t["passed"]]
    assert master["score"] == master["max_score"] > 0, failed
    release = grade(assignment, release_file(assignment))
    assert not release["flagged"], release["reason"]
    passed = [t["id"] for t in release["tests"] if t["passed"]]
    assert release["score"] == 0, f"the blank release passes {passed}"
    assert release["manual_pending"] == 0


@pytest.mark.parametrize("assignment", MASTERS)
def test_release_holds_no_solutions_hidden_tests_or_outputs(assignment):
    assert release_file(assignment).exists(), f"run `python -m grader release {assignment}`"
    released = nbformat.read(release_file(assignment), as_version=4)
    master = load_master(master_file(assignment))
    text = release_file(assignment).read_text(encoding="utf-8")
    for marker in MARKERS:
        assert marker not in text
    assert "def hidden_test" not in text
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in released.cells}
    for cell in released.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    for cell in master.cells:
        if cell.solution:
            leaked = solution_lines(cell.source) & {
                line.strip() for line in by_id[cell.grade_id].source.splitlines()
            }
            assert not leaked, f"{cell.grade_id} shows solution lines: {sorted(leaked)[:3]}"


def test_course_is_up_to_date_with_the_masters():
    problems = stale(REPO, MASTERS)
    assert not problems, "\n".join(problems)


def test_release_check_reports_a_stale_course(tmp_path):
    from grader.course import generate_assignment

    shutil.copytree(REPO / "tests/fixtures/grader/solutions", tmp_path / "solutions")
    assert stale(tmp_path, ["tiny_value"]) == ["tiny_value: not released (course/ has no folder)"]
    generate_assignment(tmp_path, "tiny_value")
    assert stale(tmp_path, ["tiny_value"]) == []
    released = tmp_path / "course" / "tiny_value" / "tiny_value.ipynb"
    released.write_text(re.sub("Tiny Value", "Tiny value", released.read_text()))
    assert stale(tmp_path, ["tiny_value"]) == [
        "tiny_value: tiny_value.ipynb differs from its master (run `python -m grader release`)"
    ]
    assert main(["--course-dir", str(tmp_path), "release", "--check"]) == 1


def test_release_writes_the_student_version_and_the_executed_master(tmp_path, capsys):
    shutil.copytree(REPO / "tests/fixtures/grader/solutions", tmp_path / "solutions")
    assert main(["--course-dir", str(tmp_path), "release", "tiny_value"]) == 0
    assert "wrote build/solutions/tiny_value.ipynb" in capsys.readouterr().out
    student = nbformat.read(tmp_path / "course/tiny_value/tiny_value.ipynb", as_version=4)
    assert "raise NotImplementedError()" in student.cells[2].source
    executed = nbformat.read(tmp_path / "build/solutions/tiny_value.ipynb", as_version=4)
    demo = [c for c in executed.cells if "demo cells are not run" in c.source][0]
    assert "reference library" in demo.outputs[0]["text"]
    assert main(["--course-dir", str(tmp_path), "release", "--check"]) == 0
