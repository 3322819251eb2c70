"""Canvas and Moodle: their downloads graded under the roster's ids, their grade imports written."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import kit  # noqa: E402
import pytest

from grader import batch, lms  # noqa: E402
from grader.cli import main  # noqa: E402
from grader.export import export_rows  # noqa: E402

ASSIGNMENT = kit.ASSIGNMENT
CANVAS_ROSTER = (
    "Student,ID,SIS User ID,SIS Login ID,Section\n"
    "    Points Possible,,,,\n"
    '"Lovelace, Ada",101,S001,ada,Section A\n'
    '"Babbage, Charles",102,S002,charles,Section A\n'
)
MOODLE_ROSTER = (
    "Identifier,Full name,Email address,Status,Grade\n"
    "Participant 100001,Ada Lovelace,ada@uni.example,Submitted,\n"
    "Participant 100002,Charles Babbage,charles@uni.example,Submitted,\n"
)


def notebook_text(root: Path, exercise: str) -> str:
    return json.dumps(kit.submission(root, exercise))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = kit.make_course(tmp_path_factory.mktemp("lms") / "course")
    (root / ".course_secret").write_text("lms-secret\n")
    return root


@pytest.fixture(scope="module")
def canvas(course, tmp_path_factory):
    """Canvas's flat download: two roster students (one late, resubmitted), one unknown user."""
    folder = tmp_path_factory.mktemp("canvas")
    archive = folder / "submissions.zip"
    right, wrong = (
        notebook_text(course, kit.master_solution(course)),
        notebook_text(course, kit.wrong_tanh(course)),
    )
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(f"lovelaceada_101_9001_{ASSIGNMENT}.ipynb", right)
        bundle.writestr(f"babbagecharles_late_102_9002_{ASSIGNMENT}-1.ipynb", wrong)
        bundle.writestr(f"hopper_103_9003_{ASSIGNMENT}.ipynb", right)
        bundle.writestr("readme.txt", "not a submission")
    (folder / "roster.csv").write_text(CANVAS_ROSTER)
    roster = lms.load_roster(folder / "roster.csv")
    reports = batch.autograde(course, ASSIGNMENT, archive, progress=False, roster=roster)
    return {"reports": {r["student"]: r for r in reports}, "skipped": reports.skipped,
            "roster": roster, "folder": folder}  # fmt: skip


def test_canvas_flat_download_is_graded_under_the_rosters_ids(canvas):
    reports = canvas["reports"]
    assert (reports["ada"]["score"], reports["ada"]["flagged"]) == (3.0, False)
    assert (reports["charles"]["score"], reports["charles"]["flagged"]) == (1.0, False)
    assert "'readme.txt': not a folder, not graded" in canvas["skipped"]


def test_a_canvas_user_missing_from_the_roster_is_graded_and_flagged(canvas):
    (unknown,) = [s for s in canvas["reports"] if s not in ("ada", "charles")]
    assert unknown == "hopper_103"
    result = canvas["reports"][unknown]
    assert result["score"] == 3.0 and result["flagged"]
    assert "canvas user 103 ('hopper') is not in the roster" in result["reason"]


def test_moodle_folders_are_graded_under_the_rosters_ids(course, tmp_path):
    download = tmp_path / "moodle"
    kit.write(
        kit.submission(course, kit.master_solution(course)),
        download / "Ada Lovelace_100001_assignsubmission_file_" / f"{ASSIGNMENT}.ipynb",
    )
    kit.write(
        kit.submission(course, kit.wrong_tanh(course)),
        download / "Charles Babbage_100002_assignsubmission_file_" / f"{ASSIGNMENT}.ipynb",
    )
    (tmp_path / "worksheet.csv").write_text(MOODLE_ROSTER)
    roster = lms.load_roster(tmp_path / "worksheet.csv")
    reports = {r["student"]: r for r in batch.autograde(
        course, ASSIGNMENT, download, progress=False, roster=roster)}  # fmt: skip
    assert reports["ada@uni.example"]["score"] == 3.0
    assert reports["charles@uni.example"]["score"] == 1.0
    # without a roster, an id from the name (not Moodle's whole folder name)
    plain = {r["student"] for r in batch.autograde(course, ASSIGNMENT, download, progress=False)}
    assert plain == {"Ada_Lovelace_100001", "Charles_Babbage_100002"}


def test_a_roster_giving_one_id_to_two_users_flags_both_and_merges_neither(course, tmp_path):
    download = tmp_path / "moodle"
    for name in ("Ada Lovelace_100001", "Ada Lovelace_100002"):
        kit.write(
            kit.submission(course, kit.wrong_tanh(course)),
            download / f"{name}_assignsubmission_file_" / f"{ASSIGNMENT}.ipynb",
        )
    (tmp_path / "roster.csv").write_text("lms_id,student_id\n100001,ada\n100002,ada\n")
    roster = lms.load_roster(tmp_path / "roster.csv")
    reports = batch.autograde(course, ASSIGNMENT, download, progress=False, roster=roster)
    assert len(reports) == 2 and len({r["student"] for r in reports}) == 2
    assert all(r["flagged"] and "the roster gives student id 'ada'" in r["reason"] for r in reports)


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_canvas_import_has_identity_points_possible_scores_and_notes(course, canvas):
    text = lms.canvas_csv(export_rows(course), canvas["roster"], per_test=True)
    rows = rows_of(text)
    header = text.splitlines()[0].split(",")
    assert header[:5] == list(lms.CANVAS_IDENTITY) and header[-1] == "Notes"
    assert f"{ASSIGNMENT} test_tanh" in header
    points = rows[0]
    assert points["Student"] == "Points Possible"
    assert float(points[ASSIGNMENT]) == 4.0  # 3 autograded + 1 written
    by_login = {row["SIS Login ID"]: row for row in rows[1:]}
    ada, charles = by_login["ada"], by_login["charles"]
    assert (ada["Student"], ada["ID"], ada["Section"]) == ("Lovelace, Ada", "101", "Section A")
    assert float(ada[ASSIGNMENT]) == 3.0 and float(charles[ASSIGNMENT]) == 1.0
    assert float(charles[f"{ASSIGNMENT} test_tanh"]) == 0.0
    assert "flagged: " in by_login["hopper_103"]["Notes"] and ada["Notes"] == ""


def test_moodle_import_has_identity_grade_and_feedback_columns(course, canvas):
    worksheet = course.parent / "worksheet.csv"
    worksheet.write_text(MOODLE_ROSTER)
    rows = rows_of(lms.moodle_csv(export_rows(course), lms.load_roster(worksheet)))
    assert list(rows[0])[:3] == list(lms.MOODLE_IDENTITY)
    assert {ASSIGNMENT, f"{ASSIGNMENT} feedback"} <= set(rows[0])
    hopper = [row for row in rows if row["Email address"] == "hopper_103"]
    assert hopper and hopper[0][f"{ASSIGNMENT} feedback"].startswith("flagged: ")


def test_export_command_writes_the_lms_formats(course, canvas, tmp_path, capsys):
    roster = canvas["folder"] / "roster.csv"
    out = tmp_path / "canvas.csv"
    assert main(["--course-dir", str(course), "export", "--format", "canvas",
                 "--roster", str(roster), "--csv", str(out)]) == 0  # fmt: skip
    assert rows_of(out.read_text())[0]["Student"] == "Points Possible"


def test_a_download_with_nothing_to_grade_fails_with_a_hint(course, tmp_path, capsys):
    empty = tmp_path / "flat"
    empty.mkdir()
    (empty / "grades.pdf").write_text("not a notebook")
    assert main(["--course-dir", str(course), "autograde", ASSIGNMENT,
                 "--submissions", str(empty)]) == 1  # fmt: skip
    error = capsys.readouterr().err
    assert "nothing was graded" in error and "Canvas's flat download" in error
