"""Grade a batch of submissions: collect, check, evaluate in parallel, record with nbgrader.

A batch never stops for one student: intake (``grader.intake``) flags a folder it cannot trust (a
link, too many files, an unsafe archive member) and stages no notebook for it; a notebook that
cannot be read is flagged with its reason and skipped by nbgrader (its file stays in ``submitted/``,
renamed ``<id>.ipynb.unreadable`` so that nbgrader's own ``autograde`` passes it by instead of
erasing its report); one whose run fails is graded with the failure as its message and flagged;
nbgrader then records everyone else in one pass. Previous results are replaced only once the new
ones are written.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tqdm import tqdm

from grader import course
from grader.checks import SubmissionProblem, read_submission
from grader.evaluate import Evaluation, evaluate_submission, flagged_without_grading
from grader.intake import (
    Submission,
    collect,
    collect_submitted,
    known_ids,
    remember_ids,
    set_aside_unreadable,
    stage,
)
from grader.lms import Roster
from grader.master import Master, load_master
from grader.paths import autograded_folder, master_folder, master_ids, master_path
from grader.permissions import protect_course_files
from grader.preprocessors import submission_key
from grader.report import REPORT_NAME, read_report, write_report
from grader.secret import course_secret
from grader.text import one_line
from grader.verdict import ReferenceFailure

PREVIOUS_RESULTS = ".grader_previous"
#: the fewest students a recording process is given: below this its start (a fork, nbgrader's
#: set-up, opening the gradebook) costs about what it saves
STUDENTS_PER_RECORDER = 5


class BatchReports(list):
    """One report per student, and ``skipped``: the entries not graded, each with why."""

    def __init__(self, reports: list[dict[str, Any]], skipped: list[str]) -> None:
        super().__init__(reports)
        self.skipped = skipped


def _evaluate(master: Master, submission: Submission, secret: bytes) -> Evaluation:
    """Intake checks, then the sandboxed evaluation; never raises for a student's file."""
    if submission.problem or submission.notebook is None:
        reason = submission.problem or "no notebook in the submission"
        return _with_notes(flagged_without_grading(master, submission.student, reason), submission)
    path = submission.notebook
    try:
        notebook = read_submission(path)
    except SubmissionProblem as problem:
        return _with_notes(
            flagged_without_grading(master, submission.student, str(problem)), submission
        )
    try:
        evaluation = evaluate_submission(master, notebook, submission.student, secret)
    except ReferenceFailure as failure:
        return flagged_without_grading(master, submission.student, f"not graded: {failure}")
    except Exception as error:  # a grader fault on one submission must not stop the batch
        reason = f"the grader failed on this submission ({type(error).__name__}: {error})"
        return flagged_without_grading(master, submission.student, one_line(reason))
    return _with_notes(evaluation, submission)


def _with_notes(evaluation: Evaluation, submission: Submission) -> Evaluation:
    """Flag ``evaluation`` with what intake noticed (an id shared with another folder)."""
    for note in submission.notes:
        evaluation.flag(note)
    return evaluation


def autograde(
    course_root: Path,
    assignment: str,
    submissions: Path | None = None,
    workers: int = 2,
    secret_root: Path | None = None,
    progress: bool = True,
    students: list[str] | None = None,
    roster: Roster | None = None,
) -> BatchReports:
    """Grade every submission of ``assignment``; return one report per student.

    ``submissions`` is a folder or zip of student folders (default: ``submitted/`` as it is);
    ``students`` (ids) grades only those, leaving everyone else's results as they are;
    ``roster`` maps the LMS ids of Canvas and Moodle downloads to student ids (``grader.lms``).
    A student's previous ``autograded/`` results are set aside, not deleted, until the new
    ones are written: if the batch stops (an error, an interrupt), every student without new
    results gets the previous ones back.
    """
    if not course.assignment_known(course_root, assignment):
        raise course.CourseError(
            f"{assignment} is not in the gradebook: run `python -m grader release {assignment}`"
        )
    master = load_master(master_path(course_root, assignment))
    secret = course_secret(secret_root or course_root)
    _settle_previous(course_root, assignment)
    with tempfile.TemporaryDirectory(prefix="grader-zip-") as unpacked:
        if submissions is None:
            collected = collect_submitted(course_root, assignment)
        else:
            collected = collect(
                submissions,
                assignment,
                Path(unpacked),
                known_ids(course_root),
                tuple(a for a in master_ids(course_root) if a != assignment),
                roster,
            )
        if students is not None:
            collected = collected.only(students)
        staged = stage(course_root, assignment, collected)
        remember_ids(course_root, collected.ids)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        jobs = pool.map(lambda s: _evaluate(master, s, secret), staged)
        evaluations = list(
            tqdm(jobs, total=len(staged), desc=f"grading {assignment}", disable=not progress)
        )
    try:
        for submission in staged:
            _set_aside(course_root, submission.student, assignment)
        reports = _record(course_root, master, staged, evaluations, secret_root, workers)
    finally:
        _settle_previous(course_root, assignment)
        protect_course_files(course_root)
    return BatchReports(reports, collected.skipped)


def _record(
    course_root: Path,
    master: Master,
    staged: list[Submission],
    evaluations: list[Evaluation],
    secret_root: Path | None,
    workers: int,
) -> list[dict[str, Any]]:
    """Write every student's results: reports of the unreadable, nbgrader for the rest.

    nbgrader's passes (one per shard of students, ``workers`` at once) are handed the
    evaluations made here (``precomputed``), so they record them instead of grading again.
    """
    assignment = master.assignment
    unreadable = {e.student: e for e in evaluations if not e.graded}
    graded = [e.student for e in evaluations if e.student not in unreadable]
    for student, evaluation in unreadable.items():
        write_report(autograded_folder(course_root, student, assignment), _report(evaluation))
        set_aside_unreadable(course_root, student, assignment)
    precomputed = {
        submission_key(assignment, submission.student, submission.notebook): evaluation
        for submission, evaluation in zip(staged, evaluations, strict=True)
        if evaluation.graded and submission.notebook is not None
    }
    failures = record_in_shards(course_root, assignment, graded, secret_root, precomputed, workers)
    reports = []
    for evaluation in evaluations:
        path = autograded_folder(course_root, evaluation.student, assignment) / REPORT_NAME
        if evaluation.student in failures:
            _restore_previous(course_root, evaluation.student, assignment)
            failure = f"nbgrader could not record this submission ({failures[evaluation.student]})"
            reason = "; ".join([*evaluation.reasons, failure])
            evaluation = flagged_without_grading(master, evaluation.student, reason)
            write_report(path.parent, _report(evaluation))
        reports.append(read_report(path))
    return reports


def _previous_folder(course_root: Path, student: str, assignment: str) -> Path:
    return course_root / PREVIOUS_RESULTS / student / assignment


def _set_aside(course_root: Path, student: str, assignment: str) -> None:
    """Move a student's previous results out of nbgrader's way (kept until settled)."""
    live = autograded_folder(course_root, student, assignment)
    if os.path.lexists(live):
        backup = _previous_folder(course_root, student, assignment)
        backup.parent.mkdir(parents=True, exist_ok=True)
        os.rename(live, backup)


def _restore_previous(course_root: Path, student: str, assignment: str) -> None:
    """Put a student's previous results back in place of whatever the new pass left."""
    backup = _previous_folder(course_root, student, assignment)
    if not os.path.lexists(backup):
        return
    live = autograded_folder(course_root, student, assignment)
    if os.path.lexists(live):
        shutil.rmtree(live)
    live.parent.mkdir(parents=True, exist_ok=True)
    os.rename(backup, live)


def _settle_previous(course_root: Path, assignment: str) -> None:
    """Drop the previous results of students whose new results are complete; restore the rest.

    Run at the end of every batch, and at its start for what a killed batch left behind.
    """
    for backup in sorted((course_root / PREVIOUS_RESULTS).glob(f"*/{assignment}")):
        student = backup.parent.name
        if (autograded_folder(course_root, student, assignment) / REPORT_NAME).exists():
            shutil.rmtree(backup)
        else:
            _restore_previous(course_root, student, assignment)


def recorder_shards(students: list[str], workers: int) -> list[list[str]]:
    """Students dealt round-robin into at most ``workers`` shards of ``STUDENTS_PER_RECORDER``
    or more each (one shard when there are fewer), for one nbgrader pass per shard."""
    count = max(1, min(workers, len(students) // STUDENTS_PER_RECORDER))
    ordered = sorted(students)
    return [ordered[start::count] for start in range(count)]


def record_in_shards(
    course_root: Path,
    assignment: str,
    students: list[str],
    secret_root: Path | None,
    precomputed: dict[str, Evaluation],
    workers: int,
) -> dict[str, str]:
    """Record ``students`` with nbgrader, one process per shard; return why any failed.

    nbgrader's autograde converts one notebook at a time in one process, and most of a
    recording is its own Python (the gradebook, nbconvert), so shards in separate processes
    are what lets more cores help. Each shard writes other students' rows of the same gradebook
    (SQLite serialises the short write transactions). The processes are forked: a spawned one
    would import nbgrader again, which costs more than a small shard's recording.
    """
    shards = recorder_shards(students, workers)
    if len(shards) == 1:
        return _record_with_nbgrader(course_root, assignment, shards[0], secret_root, precomputed)
    failures: dict[str, str] = {}
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=len(shards), mp_context=fork) as pool:
        jobs = [
            pool.submit(
                _record_with_nbgrader, course_root, assignment, shard, secret_root, precomputed
            )
            for shard in shards
        ]
        for job in jobs:
            failures.update(job.result())
    return failures


def _record_with_nbgrader(
    course_root: Path,
    assignment: str,
    students: list[str],
    secret_root: Path | None,
    precomputed: dict[str, Evaluation],
) -> dict[str, str]:
    """Run nbgrader's autograde on ``students``; return why it failed on any of them.

    nbgrader goes through students in sorted order and, on some errors (damaged metadata),
    stops the whole pass. The first student left without a report is the one it failed on:
    it is set aside and the pass resumes with the students after it.
    """
    failures: dict[str, str] = {}
    remaining = sorted(students)
    while remaining:
        log = course.autograde(course_root, assignment, remaining, secret_root, precomputed)
        left = [
            student
            for student in remaining
            if not (autograded_folder(course_root, student, assignment) / REPORT_NAME).exists()
        ]
        if not left:
            break
        failures[left[0]] = _log_excerpt(log)
        remaining = left[1:]
    return failures


def _report(evaluation: Evaluation) -> dict[str, Any]:
    return {**evaluation.summary(), "manual_pending": 0.0}


def _log_excerpt(log: str) -> str:
    """The last exception line of nbgrader's log."""
    errors = re.findall(r"^\w*(?:Error|Exception)\b.*$", log, re.MULTILINE)
    return one_line(errors[-1] if errors else "see nbgrader's log", 300)


def grade_one(
    course_root: Path, assignment: str, notebook: Path, student: str = "student"
) -> dict[str, Any]:
    """Grade one notebook in a throwaway course directory, through the batch's path.

    The master comes from ``course_root``; so does the secret (seeds match a batch).
    """
    source = master_folder(course_root, assignment)
    if not source.is_dir():
        raise FileNotFoundError(f"no master for {assignment} in {source}")
    with tempfile.TemporaryDirectory(prefix="grader-one-") as scratch:
        root = Path(scratch)
        shutil.copytree(source, master_folder(root, assignment))
        course.generate_assignment(root, assignment)
        incoming = root / "incoming" / student
        incoming.mkdir(parents=True)
        shutil.copy2(notebook, incoming / notebook.name, follow_symlinks=False)
        (report,) = autograde(
            root, assignment, root / "incoming", 1, secret_root=course_root, progress=False
        )
    return report
