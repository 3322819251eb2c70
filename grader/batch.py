"""Grade a batch of submissions: collect, check, evaluate in parallel, record with nbgrader.

A batch never stops for one student: a submission that cannot be read is flagged with its
reason and skipped by nbgrader (its file stays in ``submitted/``); one whose run fails is graded
with the failure as its message and flagged; nbgrader then records everyone else in one pass.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from grader import course
from grader.checks import SubmissionProblem, find_notebook, read_submission
from grader.evaluate import Evaluation, evaluate_submission, flagged_without_grading
from grader.master import Master, load_master
from grader.nbgrader_setup import SOURCE_DIRECTORY
from grader.preprocessors import PRECOMPUTED, submission_key
from grader.report import REPORT_NAME, read_report, write_report
from grader.secret import course_secret
from grader.verdict import ReferenceFailure

ZIP_MAX_BYTES = 1024**3


@dataclass
class Submission:
    """One student's folder in ``submitted/<student>/<assignment>/``."""

    student: str
    folder: Path


def master_path(course_root: Path, assignment: str) -> Path:
    return course_root / SOURCE_DIRECTORY / assignment / f"{assignment}.ipynb"


def collect(source: Path, assignment: str, extract_to: Path) -> dict[str, Path]:
    """Student id -> folder holding that student's files, from a folder or an LMS zip.

    Accepted layouts: ``DIR/<student>/<files>``, nbgrader's ``DIR/<student>/<assignment>/``,
    the same inside a zip, or inside one folder wrapping them. Folder names become student ids
    (characters other than letters, digits and ``_.@+-`` turn into ``_``).
    """
    if source.is_file() and zipfile.is_zipfile(source):
        source = _extract(source, extract_to)
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is neither a folder nor a zip of submissions")
    source = _unwrap(source)
    folders: dict[str, Path] = {}
    for entry in _visible(source):
        if not entry.is_dir():
            continue
        student = student_id(entry.name, taken=folders)
        nested = entry / assignment
        folders[student] = nested if nested.is_dir() else entry
    return folders


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX")))


def _unwrap(source: Path) -> Path:
    """An LMS zip often wraps the student folders in one more folder: look inside it."""
    entries = _visible(source)
    if len(entries) == 1 and entries[0].is_dir():
        inner = _visible(entries[0])
        if inner and all(p.is_dir() for p in inner):
            if entries[0].name == "submitted" or len(inner) > 1:
                return entries[0]
    return source


def student_id(folder_name: str, taken: dict[str, Path]) -> str:
    """A usable nbgrader student id for a folder name, unique within the batch.

    >>> student_id("Doe, Jane (12)", {})
    'Doe__Jane__12_'
    """
    base = re.sub(r"[^A-Za-z0-9_.@+-]", "_", folder_name).lstrip(".") or "student"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}_{number}", number + 1
    return candidate


def _extract(archive: Path, target: Path) -> Path:
    """Unpack a zip safely (no absolute paths, no ``..``, bounded size)."""
    with zipfile.ZipFile(archive) as bundle:
        total = sum(info.file_size for info in bundle.infolist())
        if total > ZIP_MAX_BYTES:
            raise ValueError(f"{archive} unpacks to {total} bytes, more than {ZIP_MAX_BYTES}")
        for info in bundle.infolist():
            name = Path(info.filename)
            if name.is_absolute() or ".." in name.parts:
                raise ValueError(f"{archive} holds an unsafe path: {info.filename}")
        bundle.extractall(target)
    return target


def stage(course_root: Path, assignment: str, folders: dict[str, Path]) -> list[Submission]:
    """Copy each student's files to ``submitted/<student>/<assignment>/`` (nbgrader's layout)."""
    staged = []
    for student, folder in folders.items():
        target = course_root / "submitted" / student / assignment
        if folder.resolve() != target.resolve():
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(folder, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        staged.append(Submission(student, target))
    return staged


def _evaluate(master: Master, submission: Submission, secret: bytes) -> Evaluation:
    """Intake checks, then the sandboxed evaluation; never raises for a student's file."""
    try:
        path = find_notebook(submission.folder, master.assignment)
        notebook = read_submission(path)
    except SubmissionProblem as problem:
        return flagged_without_grading(master, submission.student, str(problem))
    try:
        evaluation = evaluate_submission(master, notebook, submission.student, secret)
    except ReferenceFailure as failure:
        return flagged_without_grading(master, submission.student, f"not graded: {failure}")
    except Exception as error:  # a grader fault on one submission must not stop the batch
        reason = f"the grader failed on this submission ({type(error).__name__}: {error})"
        return flagged_without_grading(master, submission.student, reason)
    PRECOMPUTED[submission_key(master.assignment, submission.student, path)] = evaluation
    return evaluation


def autograde(
    course_root: Path,
    assignment: str,
    submissions: Path | None = None,
    workers: int = 2,
    secret_root: Path | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Grade every submission of ``assignment``; return one report per student.

    ``submissions`` is a folder or zip of student folders (default: ``submitted/`` as it is).
    """
    if not course.assignment_known(course_root, assignment):
        raise course.CourseError(
            f"{assignment} is not in the gradebook: run `python -m grader release {assignment}`"
        )
    master = load_master(master_path(course_root, assignment))
    secret = course_secret(secret_root or course_root)
    with tempfile.TemporaryDirectory(prefix="grader-zip-") as unpacked:
        if submissions is None:
            submissions = course_root / "submitted"
            folders = {p.parent.name: p for p in submissions.glob(f"*/{assignment}")}
        else:
            folders = collect(submissions, assignment, Path(unpacked))
        staged = stage(course_root, assignment, folders)
    for submission in staged:
        shutil.rmtree(course_root / "autograded" / submission.student / assignment, True)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        jobs = pool.map(lambda s: _evaluate(master, s, secret), staged)
        evaluations = list(
            tqdm(jobs, total=len(staged), desc=f"grading {assignment}", disable=not progress)
        )
    unreadable = {e.student: e for e in evaluations if not e.graded}
    graded = [s.student for s in staged if s.student not in unreadable]
    for student, evaluation in unreadable.items():
        write_report(_report_folder(course_root, student, assignment), _report(evaluation))
    failures = _record_with_nbgrader(course_root, assignment, graded, secret_root)
    reports = []
    for evaluation in evaluations:
        path = _report_folder(course_root, evaluation.student, assignment) / REPORT_NAME
        if evaluation.student in failures:
            failure = f"nbgrader could not record this submission ({failures[evaluation.student]})"
            reason = "; ".join([*evaluation.reasons, failure])
            evaluation = flagged_without_grading(master, evaluation.student, reason)
            write_report(path.parent, _report(evaluation))
        reports.append(read_report(path))
    PRECOMPUTED.clear()
    return reports


def _record_with_nbgrader(
    course_root: Path, assignment: str, students: list[str], secret_root: Path | None
) -> dict[str, str]:
    """Run nbgrader's autograde on ``students``; return why it failed on any of them.

    nbgrader goes through students in sorted order and, on some errors (damaged metadata),
    stops the whole pass. The first student left without a report is the one it failed on:
    it is set aside and the pass resumes with the students after it.
    """
    failures: dict[str, str] = {}
    remaining = sorted(students)
    while remaining:
        log = course.autograde(course_root, assignment, remaining, secret_root)
        left = [
            student
            for student in remaining
            if not (_report_folder(course_root, student, assignment) / REPORT_NAME).exists()
        ]
        if not left:
            break
        failures[left[0]] = _log_excerpt(log)
        remaining = left[1:]
    return failures


def _report_folder(course_root: Path, student: str, assignment: str) -> Path:
    return course_root / "autograded" / student / assignment


def _report(evaluation: Evaluation) -> dict[str, Any]:
    return {**evaluation.summary(), "manual_pending": 0.0}


def _log_excerpt(log: str) -> str:
    """The last exception line of nbgrader's log."""
    errors = re.findall(r"^\w*(?:Error|Exception)\b.*$", log, re.MULTILINE)
    return (errors[-1] if errors else "see nbgrader's log")[:300]


def grade_one(
    course_root: Path, assignment: str, notebook: Path, student: str = "student"
) -> dict[str, Any]:
    """Grade one notebook in a throwaway course directory, through the batch's path.

    The master comes from ``course_root``; so does the secret (seeds match a batch).
    """
    source = master_path(course_root, assignment).parent
    if not source.is_dir():
        raise FileNotFoundError(f"no master for {assignment} in {source}")
    with tempfile.TemporaryDirectory(prefix="grader-one-") as scratch:
        root = Path(scratch)
        shutil.copytree(source, root / SOURCE_DIRECTORY / assignment)
        course.generate_assignment(root, assignment)
        incoming = root / "incoming" / student
        incoming.mkdir(parents=True)
        shutil.copy2(notebook, incoming / notebook.name)
        (report,) = autograde(
            root, assignment, root / "incoming", 1, secret_root=course_root, progress=False
        )
    return report
