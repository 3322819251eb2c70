"""Grade one submitted notebook against its master: the heart of the grader.

1. Structural checks and a static check of the imports (``grader.checks``).
2. A job: the master's setup cells, the student's exercise cells (in the master's order, by
   ``grade_id``) and the master's hidden tests, seeded per student.
3. The student run and the reference run (the master's exercise cells), each in its own
   sandbox, side by side.
4. Verdicts decided here (``grader.verdict``), and the outputs nbgrader records.
"""

from __future__ import annotations

import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import nbformat
from nbformat.v4 import new_output

from grader.checks import notebook_problems, student_cells
from grader.driver import RunRecord, run_in_sandbox
from grader.master import Master, strip_hidden
from grader.ownership import owned_names, ownership_key, sources_with_reference
from grader.sandbox import Limits, choose_isolation
from grader.secret import hidden_test_seed, submission_digest
from grader.text import clean
from grader.verdict import ReferenceFailure, Verdict, decide


def default_isolation() -> str:
    """The isolation for grading untrusted notebooks: ``bubblewrap``, or ``subprocess`` only
    when the instructor allowed it (``grader.sandbox.choose_isolation`` warns each time)."""
    return choose_isolation(untrusted=True)


RETRY_RUNS = 12  # re-runs of failed cells with the master's code for the rest, per submission
FEEDBACK_WIDTH = 96  # characters per line of a message in feedback and the formgrader
UNSANDBOXED_WARNING = (
    "graded WITHOUT a sandbox (bubblewrap missing, --allow-unsandboxed): this submission's code "
    "could read and change the course's files"
)


@dataclass
class TestResult:
    """One graded cell's result, as reported to instructors and in ``grade --json``."""

    id: str
    score: float
    max_score: float
    passed: bool
    message: str


@dataclass
class Evaluation:
    """Everything the grader decided about one submission."""

    assignment: str
    student: str
    flagged: bool = False
    reasons: list[str] = field(default_factory=list)
    isolation: str = ""
    graded: bool = True
    tests: list[TestResult] = field(default_factory=list)
    cell_outputs: dict[str, list[Any]] = field(default_factory=dict)
    test_outputs: dict[str, list[Any]] = field(default_factory=dict)
    started_at: float | None = None  # Unix time the evaluation started (None: not run)
    seconds: float | None = None  # its wall time: checks, both runs and the verdicts

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    @property
    def score(self) -> float:
        return sum(test.score for test in self.tests)

    @property
    def max_score(self) -> float:
        return sum(test.max_score for test in self.tests)

    def flag(self, reason: str) -> None:
        self.flagged = True
        if reason not in self.reasons:
            self.reasons.append(reason)

    def summary(self) -> dict[str, Any]:
        """The JSON-able report (no outputs)."""
        warning = UNSANDBOXED_WARNING if self.isolation == "subprocess" else ""
        return {
            "warning": warning,
            "assignment": self.assignment,
            "student": self.student,
            "score": self.score,
            "max_score": self.max_score,
            "flagged": self.flagged,
            "reason": self.reason,
            "isolation": self.isolation,
            "tests": [asdict(test) for test in self.tests],
            "started_at": self.started_at,
            "seconds": None if self.seconds is None else round(self.seconds, 3),
        }


def limits_for(master: Master) -> Limits:
    """The master's timeouts with the default memory and output limits."""
    return Limits(cell_timeout=master.cell_timeout, notebook_timeout=master.notebook_timeout)


def build_cells(
    master: Master, exercises: dict[str, str], selfchecks: bool = False
) -> list[dict[str, str]]:
    """Setup cells and exercise cells (and the visible self-checks) in the master's order."""
    cells = []
    for cell in master.cells:
        if cell.is_setup:
            cells.append({"id": cell.grade_id, "kind": "setup", "source": cell.source})
        elif cell.is_exercise:
            source = exercises.get(cell.grade_id, "")
            cells.append({"id": cell.grade_id, "kind": "solution", "source": source})
        elif cell.is_graded_test and selfchecks:
            visible = strip_hidden(cell.source)
            cells.append({"id": cell.grade_id, "kind": "selfcheck", "source": visible})
    return cells


def build_tests(master: Master, secret: bytes, student: str, digest: str) -> list[dict[str, Any]]:
    """Each graded cell's hidden test with its seed for this student's submission.

    The tests never leave the grader's process (``grader.driver``).
    """
    return [
        {
            "id": grade_id,
            "source": source,
            "seed": hidden_test_seed(secret, master.assignment, student, grade_id, digest),
        }
        for grade_id, source in master.hidden_tests.items()
    ]


def run_exercises(
    master: Master,
    sources: dict[str, str],
    tests: list[dict[str, Any]],
    isolation: str,
) -> RunRecord:
    """Run the setup cells and these exercise sources, then the hidden tests, in the sandbox."""
    cells = build_cells(master, sources)
    return run_in_sandbox(cells, tests, master.forbidden_imports, limits_for(master), isolation)


def run_reference(
    master: Master, student: str, secret: bytes, isolation: str, digest: str
) -> RunRecord:
    """The master's own solution through the hidden tests drawn for one submission."""
    master_exercises = {cell.grade_id: cell.source for cell in master.exercises}
    tests = build_tests(master, secret, student, digest)
    return run_exercises(master, master_exercises, tests, isolation)


def evaluate_submission(
    master: Master,
    notebook: nbformat.NotebookNode,
    student: str,
    secret: bytes,
    isolation: str | None = None,
    reference: RunRecord | None = None,
    digest: str | None = None,
) -> Evaluation:
    """Grade ``notebook`` (already read and checked as a file) for ``student``.

    The hidden tests' inputs depend on ``digest``, by default the digest of the submission's
    exercise cells. ``reference`` is the master's run for the same student, secret and digest
    (:func:`run_reference`), when the caller grades many notebooks against one set of inputs
    (the mutation benchmark passes one ``digest`` for all its mutants); by default it is run
    here, beside the submission's.
    """
    isolation = isolation or default_isolation()
    evaluation = Evaluation(master.assignment, student, isolation=isolation)
    evaluation.started_at, clock = time.time(), time.monotonic()
    for problem in notebook_problems(master, notebook):
        evaluation.flag(problem)
    exercises = student_cells(master, notebook)
    master_exercises = {cell.grade_id: cell.source for cell in master.exercises}
    digest = digest or submission_digest(exercises)
    tests = build_tests(master, secret, student, digest)
    limits = limits_for(master)

    with ThreadPoolExecutor(max_workers=2) as pool:
        if reference is None:
            reference_run = pool.submit(run_reference, master, student, secret, isolation, digest)
        student_run = pool.submit(run_exercises, master, exercises, tests, isolation).result()
        if reference is None:
            reference = reference_run.result()
    if reference.problem or set(reference.results) != set(master.hidden_tests):
        raise ReferenceFailure(
            f"the master of {master.assignment} did not run to the end: {reference.problem}"
        )
    if student_run.problem:
        evaluation.flag(student_run.problem)
    for reason in student_run.flags:
        evaluation.flag(reason)
    for reason in cell_errors(student_run, master_exercises):
        evaluation.flag(reason)
    for grade_id in student_run.truncated:
        evaluation.flag(
            f"cell {grade_id} printed more than {limits.output_chars} characters (the rest was cut)"
        )
    evaluation.cell_outputs = {
        grade_id: [_notebook_output(output, limits.output_chars) for output in outputs[:10]]
        for grade_id, outputs in student_run.outputs.items()
        if grade_id in master_exercises
    }
    verdicts = {
        cell.grade_id: decide(
            cell.grade_id,
            reference.results[cell.grade_id],
            student_run.results.get(cell.grade_id),
            not_run_reason=student_run.problem,
        )
        for cell in master.graded_tests
    }
    if not student_run.problem:
        verdicts.update(
            retry_with_reference(master, exercises, tests, reference, verdicts, isolation)
        )
    for test_cell in master.graded_tests:
        _record(evaluation, verdicts[test_cell.grade_id], test_cell.points)
    evaluation.seconds = time.monotonic() - clock
    return evaluation


def retry_with_reference(
    master: Master,
    exercises: dict[str, str],
    tests: list[dict[str, Any]],
    reference: RunRecord,
    verdicts: dict[str, Verdict],
    isolation: str,
) -> dict[str, Verdict]:
    """The failed graded cells that pass on the student's code for what they own and the
    master's code for the rest (:mod:`grader.ownership`), as passed verdicts.

    Only a cell that failed beside a failed cell of another exercise (or, where tests name what
    they own, of another part) is retried: then its failure may come from elsewhere. Cells with
    the same swapped sources share one run (at most ``RETRY_RUNS`` runs). Such a run holds
    the master's code, so nothing of it reaches the student: its outputs, errors and flags are
    dropped, and a cell's verdict there only decides whether the cell keeps its points.
    """
    failed = [grade_id for grade_id, verdict in verdicts.items() if not verdict.passed]
    owners = {grade_id: ownership_key(master, grade_id) for grade_id in failed}
    groups: dict[tuple, list[str]] = {}
    for grade_id in failed:
        if all(owners[other] == owners[grade_id] for other in failed):
            continue
        sources = sources_with_reference(master, exercises, grade_id)
        if sources is None or sources == exercises:
            continue
        groups.setdefault(tuple(sorted(sources.items())), []).append(grade_id)
    retried: dict[str, Verdict] = {}
    runs = list(groups.items())[:RETRY_RUNS]

    def run(group: tuple[tuple, list[str]]) -> RunRecord:
        sources, ids = dict(group[0]), set(group[1])
        return run_exercises(master, sources, [t for t in tests if t["id"] in ids], isolation)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for (_, ids), record in zip(runs, pool.map(run, runs), strict=True):
            if record.problem:
                continue
            for grade_id in ids:
                verdict = decide(
                    grade_id, reference.results[grade_id], record.results.get(grade_id)
                )
                if verdict.passed:
                    retried[grade_id] = Verdict(
                        grade_id,
                        True,
                        kept_points_message(master, grade_id, verdicts[grade_id], verdict),
                        verdict.cases,
                    )
    return retried


def kept_points_message(master: Master, grade_id: str, failed: Verdict, passed: Verdict) -> str:
    """Why a cell that failed on the whole notebook keeps its points."""
    names = owned_names(master.hidden_tests[grade_id])
    if names:
        owned = ", ".join(f"`{name}`" for name in names)
        return (
            f"Full marks for {owned}: all {passed.cases} hidden checks pass with the course's code "
            f"for the rest of the cell. With all of your code this failed, because of your other "
            f"methods (they lose marks in their own tests): {failed.message}"
        )
    return (
        f"Full marks: all {passed.cases} hidden checks pass with the course's code for the other "
        f"exercises. With all of your code this failed, because of code outside this exercise "
        f"(it loses marks where it is tested): {failed.message}"
    )


def _record(evaluation: Evaluation, verdict: Verdict, points: float) -> None:
    score = points if verdict.passed else 0.0
    evaluation.tests.append(
        TestResult(verdict.grade_id, score, points, verdict.passed, verdict.message)
    )
    # wrapped, so that the hint at the end of a long message is on screen in the feedback page
    shown = textwrap.fill(
        verdict.message, FEEDBACK_WIDTH, break_long_words=False, break_on_hyphens=False
    )
    if verdict.passed:
        output = new_output("stream", name="stdout", text=shown + "\n")
    else:
        output = new_output(
            "error", ename="HiddenCheckFailed", evalue=verdict.message, traceback=[shown]
        )
    evaluation.test_outputs[verdict.grade_id] = [output]


def cell_errors(run: RunRecord, exercise_ids: Any) -> list[str]:
    """A flag for each exercise cell that raised while it ran (the rest of it did not run)."""
    reasons = []
    for grade_id, outputs in run.outputs.items():
        errors = [o for o in outputs if o.get("output_type") == "error"]
        if grade_id not in exercise_ids or not errors:
            continue
        error = errors[0]
        ename = clean(error.get("ename"), 60)
        if ename == "SyntaxError":
            text = clean(error.get("text", ""), 120)
            reasons.append(
                f"cell {grade_id} has a SyntaxError at line {error.get('lineno')}: `{text}` "
                f"(nothing in that cell was defined)"
            )
        elif ename != "TimeoutError":
            frames = error.get("frames") or [[grade_id, "?", ""]]
            reasons.append(
                f"cell {grade_id} raised {ename} at line {frames[-1][1]} "
                f"({clean(error.get('evalue'), 120)}): the lines after it did not run"
            )
    return reasons


def _notebook_output(output: dict[str, Any], limit: int) -> Any:
    """A runner output as an nbformat output (it comes from the student's process: bounded,
    cleaned text only, student frames only in tracebacks)."""
    kind = output.get("output_type")
    if kind == "stream":
        name = "stderr" if output.get("name") == "stderr" else "stdout"
        return new_output("stream", name=name, text=clean(output.get("text", ""), limit + 100))
    if kind == "execute_result":
        text = clean(output.get("text", ""), limit)
        return new_output("execute_result", data={"text/plain": text})
    frames = [
        f"  cell {clean(cell, 60)}, line {line}: {clean(code, 200)}"
        for cell, line, code in (output.get("frames") or [])[-5:]
        if isinstance(output.get("frames"), list)
    ]
    ename, evalue = clean(output.get("ename"), 100), clean(output.get("evalue"), 500)
    return new_output(
        "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}", *frames]
    )


def flagged_without_grading(master: Master, student: str, reason: str) -> Evaluation:
    """The evaluation of a submission that could not be read: every graded cell at 0."""
    evaluation = Evaluation(master.assignment, student, isolation="none", graded=False)
    evaluation.flag(reason)
    for cell in master.graded_tests:
        evaluation.tests.append(
            TestResult(cell.grade_id, 0.0, cell.points, False, f"Not graded: {reason}.")
        )
    return evaluation
