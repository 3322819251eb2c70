"""``grader validate``: what a student can check before submitting.

The same structural checks and messages as grading, then the notebook's exercise cells and
its visible self-checks run in the same sandbox. No hidden test and no secret is involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.checks import SubmissionProblem, notebook_problems, read_submission, student_cells
from grader.driver import run_in_sandbox
from grader.evaluate import build_cells, limits_for
from grader.master import Master, load_master
from grader.paths import exchange_release_path, master_path, notebook_name, release_path
from grader.sandbox import choose_isolation
from grader.text import one_line


@dataclass
class Validation:
    """What ``validate`` found: problems to fix and the self-checks' results."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    selfchecks: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(passed for _, passed, _ in self.selfchecks)

    def text(self) -> str:
        lines = [f"problem: {problem}" for problem in self.problems]
        lines += [f"note: {note}" for note in self.notes]
        for grade_id, passed, message in self.selfchecks:
            status = "ok  " if passed else "FAIL"
            lines.append(f"{status} {grade_id}" + (f": {message}" if message else ""))
        verdict = "Ready to submit." if self.ok else "Not ready: fix the lines above first."
        return "\n".join([*lines, verdict])


def validate_notebook(path: Path, master: Master) -> Validation:
    """Check a student's notebook against ``master`` and run its visible self-checks."""
    result = Validation()
    try:
        notebook = read_submission(path)
    except SubmissionProblem as problem:
        result.problems.append(str(problem))
        return result
    if path.name != notebook_name(master.assignment):
        result.problems.append(
            f"the notebook is named {one_line(path.name, 80)}, expected "
            f"{notebook_name(master.assignment)}"
        )
    result.problems += notebook_problems(master, notebook)
    added = [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and not cell.metadata.get("nbgrader") and cell.source.strip()
    ]
    if added:
        result.notes.append(
            f"{len(added)} code cell(s) you added are not run when grading: anything your "
            "answers need must be in the exercise cells"
        )
    exercises = student_cells(master, notebook)
    cells = build_cells(master, exercises, selfchecks=True)
    run = run_in_sandbox(
        cells, [], master.forbidden_imports, limits_for(master), choose_isolation(untrusted=False)
    )
    if run.problem:
        result.problems.append(run.problem)
    for cell in cells:
        errors = [o for o in run.outputs.get(cell["id"], []) if o["output_type"] == "error"]
        if cell["kind"] == "solution" and errors:
            result.problems.append(f"cell {cell['id']} raised {_error_text(errors[0])}")
        elif cell["kind"] == "selfcheck" and cell["id"] in run.outputs:
            message = _error_text(errors[0]) if errors else ""
            result.selfchecks.append((cell["id"], not errors, message))
    return result


def _error_text(error: dict) -> str:
    text = f"{error.get('ename')}: {error.get('evalue')}"
    frames = error.get("frames") or []
    if frames:
        cell, line, code = frames[-1]
        text += f" (cell {cell}, line {line}: {code})"
    return text


def validate_path(path: Path, course_root: Path, assignment: str | None = None) -> Validation:
    """Validate ``path`` against the release of ``assignment`` (default: the file's name).

    The released notebook has the master's cells and metadata, so a student needs nothing else:
    ``course/<id>/<id>.ipynb`` of ``course_root``, or the release in nbgrader's exchange (on a
    JupyterHub, where students have no course folder); the master is used when there is no
    release yet.
    """
    assignment = assignment or path.stem
    candidates = [
        release_path(course_root, assignment),
        exchange_release_path(assignment, path.resolve().parent),
        master_path(course_root, assignment),
    ]
    for reference in candidates:
        if reference is not None and reference.is_file():
            return validate_notebook(path, load_master(reference, hidden_tests_required=False))
    return Validation(problems=[f"no assignment {assignment!r}: name the notebook <id>.ipynb"])
