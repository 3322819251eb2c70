"""nbgrader's steps run in this process on a course directory: release, autograde, feedback.

One nbgrader pass grades a whole batch (nbgrader's start-up and per-call costs are paid once);
the expensive part, the sandboxed runs, is done before it, in parallel, by ``grader.batch``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import re
from pathlib import Path

import nbgrader
import nbgrader.api
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory

from grader.nbgrader_setup import course_config
from grader.paths import SUBMITTED_DIRECTORY, gradebook_exists, gradebook_url
from grader.permissions import protect_course_files


class CourseError(RuntimeError):
    """nbgrader could not do what was asked; the message says what to do."""


@functools.cache
def alembic_head() -> str:
    """The newest gradebook schema revision of the installed nbgrader.

    nbgrader asks the ``alembic`` command for it each time it creates a gradebook (7-10 s on
    the course machines, and it needs ``alembic`` on PATH); reading the revision files is the
    same answer: the revision no other revision names as its ``down_revision``.
    """
    versions = Path(nbgrader.__file__).parent / "alembic" / "versions"
    revisions, parents = set(), set()
    for script in versions.glob("*.py"):
        text = script.read_text(encoding="utf-8")
        revisions.update(re.findall(r"^revision = ['\"](\w+)['\"]", text, re.MULTILINE))
        parents.update(re.findall(r"^down_revision = ['\"](\w+)['\"]", text, re.MULTILINE))
    (head,) = revisions - parents
    return head


nbgrader.api.get_alembic_version = alembic_head


def _coursedir(course_root: Path, config) -> CourseDirectory:
    return CourseDirectory(config=config, root=str(course_root))


def _run(converter, log: io.StringIO) -> bool:
    """Start an nbgrader converter with its log captured; True when it reported no error."""
    handler = logging.StreamHandler(log)
    converter.log.addHandler(handler)
    converter.log.propagate = False
    converter.log.setLevel(logging.INFO)
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            converter.start()
        return True
    except NbGraderException:
        return False
    finally:
        converter.log.removeHandler(handler)


def generate_assignment(course_root: Path, assignment: str) -> None:
    """``nbgrader generate_assignment``: write ``course/<id>/`` and record the cells."""
    config = course_config(course_root)
    coursedir = _coursedir(course_root, config)
    coursedir.assignment_id = assignment
    converter = GenerateAssignment(coursedir=coursedir, config=config)
    converter.force = True
    log = io.StringIO()
    if not _run(converter, log):
        raise CourseError(f"nbgrader could not release {assignment}:\n{log.getvalue()[-3000:]}")
    protect_course_files(course_root)  # the gradebook now holds the hidden tests


def assignment_known(course_root: Path, assignment: str) -> bool:
    """True when the gradebook has the assignment (it was released)."""
    if not gradebook_exists(course_root):
        return False
    with Gradebook(gradebook_url(course_root)) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            return False
    return True


def autograde(
    course_root: Path,
    assignment: str,
    students: list[str],
    secret_root: Path | None = None,
    precomputed: dict | None = None,
) -> str:
    """``nbgrader autograde`` of exactly ``students`` (others in ``submitted/`` stay as they are).

    ``precomputed``: evaluations already made, by ``grader.preprocessors.submission_key``
    (the others are graded by nbgrader's pass). Returns nbgrader's log; a student nbgrader
    fails on gets no report (the caller flags it).
    """
    config = course_config(course_root, secret_root, precomputed)
    coursedir = _coursedir(course_root, config)
    coursedir.assignment_id = assignment
    others = sorted(
        p.parent.name
        for p in (course_root / SUBMITTED_DIRECTORY).glob(f"*/{assignment}")
        if p.parent.name not in students
    )
    coursedir.student_id = "*"
    coursedir.student_id_exclude = ",".join(others)
    converter = Autograde(coursedir=coursedir, config=config)
    converter.force = True
    converter.create_student = True
    log = io.StringIO()
    _run(converter, log)
    return log.getvalue()


def generate_feedback(course_root: Path, assignment: str) -> str:
    """``nbgrader generate_feedback`` for every autograded student of ``assignment``."""
    config = course_config(course_root)
    coursedir = _coursedir(course_root, config)
    coursedir.assignment_id = assignment
    coursedir.student_id = "*"
    converter = GenerateFeedback(coursedir=coursedir, config=config)
    converter.force = True
    log = io.StringIO()
    if not _run(converter, log):
        raise CourseError(f"nbgrader could not generate feedback:\n{log.getvalue()[-3000:]}")
    return log.getvalue()
