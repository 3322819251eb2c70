"""Grading one assignment of a folder that holds several, and grading chosen students only."""

from __future__ import annotations

from pathlib import Path

import kit  # noqa: E402
import pytest

from grader import batch  # noqa: E402

ASSIGNMENT = kit.ASSIGNMENT
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
OTHER = "other_assignment"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = kit.make_course(tmp_path_factory.mktemp("selection") / "course")
    (root / ".course_secret").write_text("selection-secret\n")
    return root


def nbgrader_folder(root: Path, folder: Path) -> Path:
    """``DIR/<student>/<assignment>/`` for two assignments; bob handed in only the other one."""
    right = kit.submission(root, kit.master_solution(root))
    wrong = kit.submission(root, kit.wrong_tanh(root))
    kit.write(right, folder / "alice" / ASSIGNMENT / NOTEBOOK)
    kit.write(wrong, folder / "alice" / OTHER / f"{OTHER}.ipynb")
    kit.write(wrong, folder / "bob" / OTHER / f"{OTHER}.ipynb")
    kit.write(wrong, folder / "carol" / ASSIGNMENT / NOTEBOOK)
    return folder


def test_students_without_the_assignment_are_reported_missing_not_graded(course, tmp_path):
    folder = nbgrader_folder(course, tmp_path / "all_assignments")
    reports = batch.autograde(course, ASSIGNMENT, folder, progress=False)
    assert sorted(r["student"] for r in reports) == ["alice", "carol"]
    assert not any(r["flagged"] for r in reports)
    assert f"'bob': no {ASSIGNMENT} (missing, not graded)" in reports.skipped
    assert not (course / "submitted" / "bob").exists()
    # only the notebook of this assignment is staged: nothing of the other one
    staged = course / "submitted" / "alice" / ASSIGNMENT
    assert sorted(p.name for p in staged.iterdir()) == [
        "submission_secret.txt",
        "timestamp.txt",
        NOTEBOOK,
    ]


def test_grading_submitted_itself_reports_who_did_not_hand_in(course, tmp_path):
    nbgrader_folder(course, tmp_path / "first")
    batch.autograde(course, ASSIGNMENT, tmp_path / "first", progress=False)
    kit.write(
        kit.submission(course, kit.master_solution(course)),
        course / "submitted" / "dora" / OTHER / f"{OTHER}.ipynb",
    )
    reports = batch.autograde(course, ASSIGNMENT, progress=False)
    assert {"alice", "carol"} <= {r["student"] for r in reports}
    assert f"'dora': no {ASSIGNMENT} (missing, not graded)" in reports.skipped


def test_only_the_chosen_students_are_graded_and_the_others_keep_their_results(course, tmp_path):
    folder = nbgrader_folder(course, tmp_path / "first")
    batch.autograde(course, ASSIGNMENT, folder, progress=False)
    alice_report = course / "autograded" / "alice" / ASSIGNMENT / "grader_report.json"
    before = alice_report.read_bytes()
    # carol fixes her tanh; alice's folder now holds a wrong notebook, but alice is not chosen
    kit.write(
        kit.submission(course, kit.master_solution(course)),
        folder / "carol" / ASSIGNMENT / NOTEBOOK,
    )
    kit.write(
        kit.submission(course, kit.wrong_tanh(course)), folder / "alice" / ASSIGNMENT / NOTEBOOK
    )
    reports = batch.autograde(course, ASSIGNMENT, folder, progress=False, students=["carol", "zed"])
    assert [(r["student"], r["score"]) for r in reports] == [("carol", 3.0)]
    assert "'zed': no submission from this student" in reports.skipped
    assert alice_report.read_bytes() == before


def test_nbgrader_is_quiet_about_graded_cells_as_released_and_not_about_edited_ones(
    course, tmp_path
):
    from grader import course as nbgrader_course

    honest = kit.submission(course, kit.wrong_tanh(course))
    edited = kit.submission(course, kit.wrong_tanh(course))
    kit.cell(edited, "test_tanh").source += "\nassert True  # my own line"
    kit.write(honest, tmp_path / "batch" / "honest" / NOTEBOOK)
    kit.write(edited, tmp_path / "batch" / "editor" / NOTEBOOK)
    batch.autograde(course, ASSIGNMENT, tmp_path / "batch", progress=False)
    log = nbgrader_course.autograde(course, ASSIGNMENT, ["honest", "editor"])
    changed = [line for line in log.splitlines() if "has changed" in line]
    assert changed and all("test_tanh" in line for line in changed)
    assert len(changed) == 1  # the edited cell only; before, every graded cell of both
