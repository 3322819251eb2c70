"""``grader export``: one row per student and assignment, flags included.

nbgrader's own CSV export shows a submission that could not be graded as a plain 0; this one
joins the gradebook with the grader's reports so a flagged submission says so and why.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook

from grader.paths import gradebook_exists, gradebook_url
from grader.report import reports
from grader.text import csv_cell

COLUMNS = ("student_id", "assignment", "score", "max_score", "flagged", "reason")


def export_rows(course_root: Path) -> list[dict[str, Any]]:
    """Rows for every graded submission in the gradebook and every flagged one outside it."""
    flags = reports(course_root)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    max_scores: dict[str, float] = {}
    if gradebook_exists(course_root):
        with Gradebook(gradebook_url(course_root)) as gradebook:
            for assignment in gradebook.assignments:
                max_scores[assignment.name] = float(assignment.max_score)
                for submission in assignment.submissions:
                    key = (submission.student.id, assignment.name)
                    rows[key] = _row(key, float(submission.score), float(assignment.max_score))
    for key, report in flags.items():
        if key not in rows:  # never reached nbgrader: it could not be read
            rows[key] = _row(key, 0.0, max_scores.get(key[1], float(report["max_score"])))
        rows[key]["flagged"] = bool(report.get("flagged"))
        rows[key]["reason"] = report.get("reason", "")
        rows[key]["tests"] = {
            str(test["id"]): (float(test["score"]), float(test["max_score"]))
            for test in report.get("tests", [])
        }
    return [rows[key] for key in sorted(rows, key=lambda k: (k[1], k[0]))]


def _row(key: tuple[str, str], score: float, max_score: float) -> dict[str, Any]:
    student, assignment = key
    return {
        "student_id": student,
        "assignment": assignment,
        "score": score,
        "max_score": max_score,
        "flagged": False,
        "reason": "",
    }


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV text with a header; every text cell is safe for a spreadsheet.

    Student ids and reasons come from what students sent (folder and file names): each text
    cell is bounded, without control characters, and never starts like a formula.
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) if isinstance(v, str) else v for k, v in row.items()})
    return buffer.getvalue()
