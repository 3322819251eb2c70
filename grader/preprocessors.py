"""The grader's two steps inside nbgrader's ``Autograde`` pipeline.

``HiddenTestGrader`` replaces nbgrader's ``Execute``: it grades the submission with
``grader.evaluate`` (sandboxed runs, verdicts decided outside them) and writes the outputs
nbgrader's ``SaveAutoGrades`` scores: a short pass line or an ``error`` holding only the
teaching message. ``RecordGraderReport`` runs after ``SaveAutoGrades``: it writes the sidecar
``grader_report.json`` and marks a flagged submission's grades as needing manual review.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import GetGrades, NbGraderPreprocessor, OverwriteCells
from traitlets import Dict, Unicode

from grader.checks import SubmissionProblem, edited_test, read_submission
from grader.evaluate import Evaluation, evaluate_submission
from grader.master import load_master, strip_hidden
from grader.paths import AUTOGRADED_DIRECTORY, SUBMITTED_DIRECTORY, master_path, notebook_name
from grader.report import write_report
from grader.secret import course_secret

FLAG_COMMENT = "Flagged by the grader for a human to check: "


def submission_key(assignment: str, student: str, path: Path) -> str:
    """The key of a submitted file in ``HiddenTestGrader.precomputed``."""
    return f"{assignment}/{student}/{hashlib.sha256(path.read_bytes()).hexdigest()}"


def grade_file(
    course_root: Path, assignment: str, student: str, path: Path, secret: bytes
) -> Evaluation:
    """Evaluate the submitted file ``path`` (the batch's and nbgrader's shared entry point)."""
    master = load_master(master_path(course_root, assignment))
    notebook = read_submission(path)
    return evaluate_submission(master, notebook, student, secret)


class RestoreHiddenTests(OverwriteCells):
    """nbgrader's ``OverwriteCells`` (locked cells restored from the gradebook), quiet about a
    graded cell exactly as released.

    The release removes each graded cell's hidden tests, so nbgrader would warn "checksum has
    changed" for every graded cell of every submission; an edited cell is still reported (and
    flagged by the grader's own checks, ``grader.checks.structure_problems``).
    """

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and utils.is_locked(cell):
            try:
                source = self.gradebook.find_source_cell(
                    grade_id, self.notebook_id, self.assignment_id
                ).source
            except MissingEntry:
                source = None
            if source is not None and not edited_test(cell.source, source):
                cell.source = source
        return super().preprocess_cell(cell, resources, cell_index)


class HiddenTestGrader(NbGraderPreprocessor):
    """Grade by hidden tests run in a sandbox, instead of executing the notebook in a kernel."""

    course_root = Unicode("", help="The course directory (default: the working directory).").tag(
        config=True
    )
    secret_root = Unicode("", help="Where .course_secret lives (default: course_root).").tag(
        config=True
    )
    submitted_directory = Unicode(SUBMITTED_DIRECTORY).tag(config=True)
    precomputed = Dict(
        help="Evaluations computed ahead of nbgrader (in parallel, by the grader's batch), by "
        "submission_key: a submission found here is not run again."
    ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        root = Path(self.course_root or os.getcwd())
        assignment, student = info["assignment"], info["student"]
        notebook = notebook_name(info["notebook"])
        path = root / self.submitted_directory / student / assignment / notebook
        evaluation = self.precomputed.get(submission_key(assignment, student, path))
        if evaluation is None:
            try:
                secret = course_secret(Path(self.secret_root or root))
                evaluation = grade_file(root, assignment, student, path, secret)
            except SubmissionProblem as problem:
                raise RuntimeError(f"submission of {student} cannot be read: {problem}") from None
        resources["grader"] = evaluation
        for cell in nb.cells:
            self._fill(cell, evaluation)
        return nb, resources

    def _fill(self, cell, evaluation: Evaluation) -> None:
        if cell.cell_type != "code":
            return
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in evaluation.test_outputs:
            cell.source = strip_hidden(cell.source)
            cell.outputs = evaluation.test_outputs[grade_id]
        elif grade_id in evaluation.cell_outputs:
            cell.outputs = evaluation.cell_outputs[grade_id]
        else:
            cell.outputs = []
        cell.execution_count = None


class RecordGraderReport(NbGraderPreprocessor):
    """Write ``grader_report.json``; show the grader's flag in the gradebook.

    A flagged submission is marked in nbgrader's own terms, so the formgrader shows it: the
    notebook's ``flagged`` (the flag icon of the submission list), every grade "needs manual
    grade", and the reason as the automatic comment of the first exercise cell (shown beside
    that cell when grading, and in the feedback). A submission graded again without a flag
    loses the mark.
    """

    autograded_directory = Unicode(AUTOGRADED_DIRECTORY).tag(config=True)

    def preprocess(self, nb, resources):
        evaluation: Evaluation | None = resources.get("grader")
        if evaluation is None:
            return nb, resources
        info = resources["nbgrader"]
        pending = sum(
            float(cell.metadata.nbgrader["points"])
            for cell in nb.cells
            if utils.is_grade(cell)
            and utils.is_solution(cell)
            and utils.determine_grade(cell)[0] is None
        )
        exercise = next(
            (c for c in nb.cells if utils.is_solution(c) and c.cell_type == "code"), None
        )
        self._record_flag(info, evaluation, exercise)
        report = {**evaluation.summary(), "manual_pending": pending}
        folder = Path(self.autograded_directory) / info["student"] / info["assignment"]
        write_report(folder, report)
        return nb, resources

    def _record_flag(self, info: dict[str, Any], evaluation: Evaluation, exercise: Any) -> None:
        with Gradebook(info["db_url"]) as gradebook:
            submission = gradebook.find_submission_notebook(
                info["notebook"], info["assignment"], info["student"]
            )
            submission.flagged = evaluation.flagged
            if evaluation.flagged:
                for grade in submission.grades:
                    grade.needs_manual_grade = True
            if exercise is not None:
                comment = gradebook.find_comment(
                    exercise.metadata.nbgrader["grade_id"],
                    info["notebook"],
                    info["assignment"],
                    info["student"],
                )
                comment.auto_comment = (
                    f"{FLAG_COMMENT}{evaluation.reason}" if evaluation.flagged else None
                )
            gradebook.db.commit()


class GetGradesMarkingPending(GetGrades):
    """nbgrader's ``GetGrades``, which also marks a written answer nobody has graded yet.

    nbgrader stores 0 as the score of an answer that needs a manual grade until a grader gives
    one, so its feedback shows "0.0 / 2.0" beside an answer no one has read. A cell whose grade
    still needs a manual score gets ``metadata.nbgrader.pending = True``; the course's feedback
    page (``grader/templates/feedback.html.j2``) then says "not graded yet" instead of a score.
    """

    def _get_score(self, cell: Any, resources: Any) -> None:
        super()._get_score(cell, resources)
        grade = self.gradebook.find_grade(
            cell.metadata["nbgrader"]["grade_id"],
            self.notebook_id,
            self.assignment_id,
            self.student_id,
        )
        if grade.needs_manual_grade and grade.manual_score is None:
            cell.metadata.nbgrader["pending"] = True
