"""The text of every master agrees with its nbgrader metadata and with the course's formats.

* Every exercise heading reads ``Exercise N: title (k points)`` and ``k`` is the sum of the
  nbgrader points of the graded code cells under it (up to the next heading of the same or a
  higher level); every graded code cell sits under such a heading.
* Every written answer cell follows a question that states the points nbgrader gives it.
* Every lesson's title reads ``# Lesson NN · Title``; its estimated time is stated in one format,
  and the README's range of lesson times is the range of the notebooks' estimates.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from grader.release import master_ids

REPO = Path(__file__).resolve().parent.parent
MASTERS = master_ids(REPO)

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
EXERCISE = re.compile(r"^Exercise (\d+): .+ \((\d+) points?\)$")
QUESTION = re.compile(r"(?:Written question|Question)(?: (\d+))? \((\d+) points?\)")
ESTIMATE = re.compile(r"\*\*Estimated time\.\*\* (\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))? hours?\b")


def cells(assignment: str):
    path = REPO / "solutions" / assignment / f"{assignment}.ipynb"
    return nbformat.read(path, as_version=4).cells


def meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def exercises(assignment: str) -> list[dict]:
    """Each exercise heading with the points it states and the graded code cells under it."""
    found, current = [], None
    for cell in cells(assignment):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                heading = HEADING.match(line)
                if not heading:
                    continue
                level, text = len(heading.group(1)), heading.group(2)
                if text.startswith("Exercise"):
                    match = EXERCISE.match(text)
                    assert match, (
                        f"{assignment}: exercise heading {text!r} is not in the course format "
                        "'Exercise N: title (k points)'"
                    )
                    current = {
                        "heading": text,
                        "level": level,
                        "number": int(match.group(1)),
                        "stated": int(match.group(2)),
                        "graded": [],
                    }
                    found.append(current)
                elif current is not None and level <= current["level"]:
                    current = None
        elif meta(cell).get("grade"):
            assert current is not None, (
                f"{assignment}: graded cell {meta(cell)['grade_id']} is under no "
                "'Exercise N: title (k points)' heading"
            )
            current["graded"].append((meta(cell)["grade_id"], meta(cell).get("points", 0)))
    return found


@pytest.mark.parametrize("assignment", MASTERS)
def test_exercise_headings_state_the_points_nbgrader_gives(assignment):
    found = exercises(assignment)
    assert found, f"{assignment} has no exercise headings"
    assert [e["number"] for e in found] == list(range(1, len(found) + 1)), (
        f"{assignment}: exercises are not numbered 1, 2, ...: {[e['heading'] for e in found]}"
    )
    for exercise in found:
        assert exercise["graded"], f"{assignment}: {exercise['heading']!r} has no graded cells"
        total = sum(points for _, points in exercise["graded"])
        assert exercise["stated"] == total, (
            f"{assignment}: {exercise['heading']!r} states {exercise['stated']} points, its graded "
            f"cells {exercise['graded']} carry {total}"
        )


@pytest.mark.parametrize("assignment", MASTERS)
def test_written_questions_state_the_points_nbgrader_gives(assignment):
    stated = None
    answers = 0
    for cell in cells(assignment):
        if cell.cell_type != "markdown":
            continue
        if meta(cell).get("grade") and meta(cell).get("solution"):
            answers += 1
            assert stated is not None, (
                f"{assignment}: answer cell {meta(cell)['grade_id']} follows no question "
                "that states its points"
            )
            assert int(stated.group(2)) == meta(cell)["points"], (
                f"{assignment}: {stated.group(0)!r} but answer cell "
                f"{meta(cell)['grade_id']} carries {meta(cell)['points']} points"
            )
            stated = None
            continue
        matches = list(QUESTION.finditer(cell.source))
        if matches:
            stated = matches[-1]
    assert answers, f"{assignment} has no written answer cells"


@pytest.mark.parametrize("assignment", MASTERS)
def test_title_has_the_course_format(assignment):
    first = cells(assignment)[0].source.splitlines()[0]
    number = assignment[:2]
    assert re.match(rf"^# Lesson {number} · \S", first), (
        f"{assignment}: title {first!r} is not '# Lesson {number} · Title'"
    )


def estimate(assignment: str) -> tuple[float, float]:
    matches = [m for c in cells(assignment) if (m := ESTIMATE.search(c.source))]
    assert len(matches) == 1, (
        f"{assignment}: expected one '**Estimated time.** a-b hours' line, found {len(matches)}"
    )
    low = float(matches[0].group(1))
    return low, float(matches[0].group(2) or low)


def test_readme_lesson_time_agrees_with_the_notebooks():
    estimates = [estimate(a) for a in MASTERS]
    low, high = min(e[0] for e in estimates), max(e[1] for e in estimates)
    total_low, total_high = sum(e[0] for e in estimates), sum(e[1] for e in estimates)
    readme = (REPO / "README.md").read_text()
    stated = re.search(r"Each lesson takes (\d+(?:\.\d+)?)-(\d+(?:\.\d+)?) hours", readme)
    assert stated, "README.md does not say how long a lesson takes"
    assert (float(stated.group(1)), float(stated.group(2))) == (low, high), (
        f"README says {stated.group(0)!r}; the notebooks' estimates range "
        f"from {low} to {high} hours"
    )
    total = re.search(r"(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?) hours in all", readme)
    assert total, "README.md does not give the course's total time"
    assert (float(total.group(1)), float(total.group(2))) == (total_low, total_high), (
        f"README says {total.group(0)!r}; the notebooks' estimates add up to "
        f"{total_low}-{total_high} hours"
    )
