"""Canvas and Moodle: their submission downloads, their class rosters, their grade imports.

*Intake.* Canvas's "Download Submissions" zip is flat: one file per student and file,
``<name>[_late]_<user id>_<attachment id>_<file name>`` (a resubmission's file name gets
``-1``, ``-2``). Moodle's download is one folder per student,
``<Full Name>_<participant id>_assignsubmission_file_``. :func:`lms_entry` reads the LMS's id
out of either name, so that a roster (:func:`load_roster`) can give each submission the
student id the course uses.

*Rosters.* A CSV the LMS exports: Canvas's gradebook export (``Student``, ``ID``,
``SIS User ID``, ``SIS Login ID``, ``Section``), Moodle's grading worksheet (``Identifier``
``Participant 100001``, ``Full name``, ``Email address``, ``ID number``), or a plain
``lms_id,student_id`` file.

*Grades.* :func:`canvas_csv` writes Canvas's gradebook import (the roster's identity columns, one
column per assignment, optionally per graded test, a ``Points Possible`` row, and the flags as
``Notes``); :func:`moodle_csv` writes what Moodle's "Import grades: CSV file" maps (the user's
identity, a grade column per assignment and its feedback column holding the flag's reason).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.text import csv_cell

CANVAS_FILE = re.compile(
    r"(?P<name>[^_/]+)_(?:late_)?(?P<lms_id>\d+)_(?P<attachment>\d+)_(?P<file>.+)", re.IGNORECASE
)
MOODLE_FOLDER = re.compile(
    r"(?P<name>.+)_(?P<lms_id>\d+)_assignsubmission_(?:file|onlinetext)_?", re.IGNORECASE
)
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_IDENTITY = ("Identifier", "Full name", "Email address")


@dataclass(frozen=True)
class LmsEntry:
    """What an LMS's file or folder name says: its kind, the LMS's id, a readable name."""

    lms: str
    lms_id: str
    name: str
    file: str = ""


def lms_entry(name: str, is_file: bool) -> LmsEntry | None:
    """The LMS id in a Canvas file name or a Moodle folder name (None for other names).

    >>> lms_entry("doejane_late_123_456_05_value_engine-1.ipynb", is_file=True)
    LmsEntry(lms='canvas', lms_id='123', name='doejane', file='05_value_engine-1.ipynb')
    >>> lms_entry("Ada Lovelace_100001_assignsubmission_file_", is_file=False).lms_id
    '100001'
    """
    if is_file:
        match = CANVAS_FILE.fullmatch(name)
        if match:
            return LmsEntry("canvas", match["lms_id"], match["name"], match["file"])
        return None
    match = MOODLE_FOLDER.fullmatch(name)
    return LmsEntry("moodle", match["lms_id"], match["name"]) if match else None


def canvas_notebook_name(file: str, assignment: str) -> str:
    """The notebook's name as the student saved it: Canvas's ``-1`` resubmission suffix off."""
    if re.fullmatch(rf"{re.escape(assignment)}(-\d+)?\.ipynb", file):
        return f"{assignment}.ipynb"
    return file


@dataclass
class Roster:
    """LMS id -> the course's student id, and each student's identity columns for export."""

    kind: str  # "canvas", "moodle" or "plain"
    student_ids: dict[str, str] = field(default_factory=dict)
    identities: dict[str, dict[str, str]] = field(default_factory=dict)  # by student id

    def student_for(self, lms_id: str) -> str | None:
        return self.student_ids.get(lms_id)


def load_roster(path: Path) -> Roster:
    """A roster from an LMS's CSV export (Canvas, Moodle) or a ``lms_id,student_id`` file."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    header = set(rows[0]) if rows else set()
    if {"lms_id", "student_id"} <= header:
        roster = Roster("plain")
        for row in rows:
            roster.student_ids[row["lms_id"].strip()] = row["student_id"].strip()
        return roster
    if {"Student", "ID"} <= header:
        return _canvas_roster(rows)
    if {"Identifier", "Full name"} <= header:
        return _moodle_roster(rows)
    raise ValueError(
        f"{path.name}: not a roster (expected Canvas's gradebook export, Moodle's grading "
        "worksheet, or the columns lms_id,student_id)"
    )


def _canvas_roster(rows: list[dict[str, str]]) -> Roster:
    roster = Roster("canvas")
    for row in rows:
        lms_id = (row.get("ID") or "").strip()
        if not lms_id.isdigit():  # "Points Possible" and other rows that are not students
            continue
        student = (row.get("SIS Login ID") or row.get("SIS User ID") or lms_id).strip()
        roster.student_ids[lms_id] = student
        roster.identities[student] = {column: row.get(column, "") for column in CANVAS_IDENTITY}
    return roster


def _moodle_roster(rows: list[dict[str, str]]) -> Roster:
    roster = Roster("moodle")
    for row in rows:
        lms_id = re.sub(r"\D", "", row.get("Identifier", ""))
        if not lms_id:
            continue
        student = (row.get("ID number") or row.get("Email address") or lms_id).strip()
        roster.student_ids[lms_id] = student
        roster.identities[student] = {column: row.get(column, "") for column in MOODLE_IDENTITY}
    return roster


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([csv_cell(cell) if isinstance(cell, str) else cell for cell in row])
    return buffer.getvalue()


def _by_student(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Export rows (``grader.export.export_rows``) as student -> assignment -> row."""
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        table.setdefault(row["student_id"], {})[row["assignment"]] = row
    return table


def canvas_csv(rows: list[dict[str, Any]], roster: Roster, per_test: bool = False) -> str:
    """Canvas's gradebook import: identity columns, a column per assignment (and per graded
    test with ``per_test``), a ``Points Possible`` row, the flags and reasons as ``Notes``."""
    assignments = sorted({row["assignment"] for row in rows})
    columns: list[tuple[str, str | None]] = []
    for assignment in assignments:
        columns.append((assignment, None))
        if per_test:
            tests = sorted({t for row in rows if row["assignment"] == assignment
                            for t in row.get("tests", {})})  # fmt: skip
            columns += [(assignment, test) for test in tests]
    points: dict[tuple[str, str | None], float] = {}
    for row in rows:
        points[(row["assignment"], None)] = row["max_score"]
        for test, (_, max_score) in row.get("tests", {}).items():
            points[(row["assignment"], test)] = max_score
    header = [*CANVAS_IDENTITY, *[f"{a} {t}" if t else a for a, t in columns], "Notes"]
    body: list[list[Any]] = [["Points Possible", "", "", "", "", *[points[c] for c in columns], ""]]
    for student, by_assignment in sorted(_by_student(rows).items()):
        identity = roster.identities.get(student, {"Student": student, "SIS Login ID": student})
        cells = []
        for assignment, test in columns:
            row = by_assignment.get(assignment)
            if row is None:
                cells.append("")
            elif test is None:
                cells.append(row["score"])
            else:
                cells.append(row.get("tests", {}).get(test, ("", None))[0])
        notes = "; ".join(
            f"{a}: flagged: {r['reason']}" for a, r in sorted(by_assignment.items()) if r["flagged"]
        )
        body.append([*[identity.get(c, "") for c in CANVAS_IDENTITY], *cells, notes])
    return _csv(header, body)


def moodle_csv(rows: list[dict[str, Any]], roster: Roster) -> str:
    """Moodle's "Import grades: CSV file": identity columns, then per assignment its grade and
    a feedback column (the flag's reason), to map in Moodle's import form."""
    assignments = sorted({row["assignment"] for row in rows})
    header = [*MOODLE_IDENTITY]
    for assignment in assignments:
        header += [assignment, f"{assignment} feedback"]
    body = []
    for student, by_assignment in sorted(_by_student(rows).items()):
        identity = roster.identities.get(student, {"Email address": student})
        cells: list[Any] = [identity.get(column, "") for column in MOODLE_IDENTITY]
        for assignment in assignments:
            row = by_assignment.get(assignment)
            feedback = f"flagged: {row['reason']}" if row and row["flagged"] else ""
            cells += [row["score"] if row else "", feedback]
        body.append(cells)
    return _csv(header, body)
