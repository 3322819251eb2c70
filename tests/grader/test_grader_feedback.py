"""Feedback says "not graded yet" for a written answer nobody has graded, never "0.0 / 1.0".

nbgrader stores 0 as the score of an answer that needs a manual grade until a grader gives one,
and its feedback page shows that 0 as if it were a mark. The course's feedback page
(``grader/templates/feedback.html.j2``) shows the pending answer as not graded yet, in the
contents, above the answer and beside the total, both from ``python -m grader feedback`` and
from nbgrader's own ``nbgrader generate_feedback``; once a grader scores it, the score shows.
"""

from __future__ import annotations

import re
import subprocess
import sys

import kit
import pytest
from nbgrader.api import Gradebook

from grader.batch import autograde
from grader.course import generate_feedback
from grader.paths import REPOSITORY_ROOT, feedback_folder, gradebook_url

ANSWER = "answer_order"  # the fixture's written question, 1 point


def page(root, student: str) -> str:
    html = (feedback_folder(root) / student / kit.ASSIGNMENT / f"{kit.ASSIGNMENT}.html").read_text()
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())  # the text a student reads


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = kit.make_course(tmp_path_factory.mktemp("feedback") / "course")
    incoming = root.parent / "incoming"
    answered = kit.submission(root, kit.master_solution(root))
    kit.cell(answered, ANSWER).source = "Reverse order: a node's gradient is complete when used."
    kit.write(answered, incoming / "ada" / "tiny_value.ipynb")
    kit.write(
        kit.submission(root, kit.master_solution(root)), incoming / "blank" / "tiny_value.ipynb"
    )
    autograde(root, kit.ASSIGNMENT, incoming, progress=False)
    generate_feedback(root, kit.ASSIGNMENT)
    return root


def test_a_pending_written_answer_shows_not_graded_yet(graded):
    text = page(graded, "ada")
    assert "Written response (Score: not graded yet / 1.0)" in text
    assert "Student's answer Score: not graded yet / 1.0" in text
    assert "(Score: 3.0 / 4.0; 1.0 of the points are not graded yet)" in text
    assert "Score: 0.0 / 1.0" not in text


def test_an_unanswered_question_keeps_nbgraders_zero(graded):
    """A blank answer is scored 0 by nbgrader itself (nothing to grade): not pending."""
    text = page(graded, "blank")
    assert "Written response (Score: 0.0 / 1.0)" in text
    assert "not graded yet" not in text


def test_nbgraders_own_command_shows_the_same_page(graded):
    (graded / "nbgrader_config.py").write_text((REPOSITORY_ROOT / "nbgrader_config.py").read_text())
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_feedback", kit.ASSIGNMENT, "--force"],
        cwd=graded, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Written response (Score: not graded yet / 1.0)" in page(graded, "ada")


def test_once_graded_the_score_shows(graded):
    with Gradebook(gradebook_url(graded)) as gradebook:
        grade = gradebook.find_grade(ANSWER, kit.ASSIGNMENT, kit.ASSIGNMENT, "ada")
        grade.manual_score = 1.0
        gradebook.db.commit()
    generate_feedback(graded, kit.ASSIGNMENT)
    text = page(graded, "ada")
    assert "Written response (Score: 1.0 / 1.0)" in text
    assert "(Score: 4.0 / 4.0)" in text
    assert "not graded yet" not in text
