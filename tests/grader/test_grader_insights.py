"""Class insights (``python -m grader report ID``) on a generated class of 40 with a known mix.

The class: 20 correct, 12 with tanh' written as 1 - tanh(x), 5 unfinished (3 blank, 2 with only
the product rule), 3 flagged (an edited test cell, a forbidden import, a cell that raises with
a ``<script>`` in its message). It is graded once (by the first xdist worker that needs it);
every test reads its reports.
"""

from __future__ import annotations

import json
import re
import stat
import time
from pathlib import Path

import kit  # noqa: E402
import pytest

from grader.cli import main  # noqa: E402
from grader.insights import (  # noqa: E402
    class_insights,
    classify,
    grading_runs,
    hidden_test_strings,
    render_html,
)

pytestmark = pytest.mark.xdist_group("insights")

TANH_HINT = "Did you use 1 - tanh(x) instead of 1 - tanh(x)**2?"
SCRIPT = "<script>alert(1)</script>"
CORRECT = [f"correct_{i:02}" for i in range(20)]
TANH = [f"tanh_{i:02}" for i in range(12)]
BLANK = [f"blank_{i}" for i in range(3)]
HALF = [f"half_{i}" for i in range(2)]  # the product rule done, tanh not yet
FLAGGED = {
    "edited_test": "test_tanh was edited",
    "forbidden": "imports autodiff_lib",
    "raises_script": "raised ValueError",
}


def build_class(root: Path, folder: Path) -> None:
    """One folder per student, the notebook as the release names it."""
    right = kit.master_solution(root)
    half = right.replace("self.grad += (1 - t**2) * out.grad", "raise NotImplementedError()")
    assert half != right
    notebooks = {s: kit.submission(root, right) for s in CORRECT}
    notebooks |= {s: kit.submission(root, kit.wrong_tanh(root)) for s in TANH}
    notebooks |= {s: kit.submission(root) for s in BLANK}
    notebooks |= {s: kit.submission(root, half) for s in HALF}
    edited = kit.submission(root, right)
    kit.cell(edited, "test_tanh").source = "print('all good')"
    notebooks["edited_test"] = edited
    notebooks["forbidden"] = kit.submission(root, "from autodiff_lib import Value\n")
    notebooks["raises_script"] = kit.submission(root, right + f"\nraise ValueError({SCRIPT!r})\n")
    assert len(notebooks) == 40
    for student, notebook in notebooks.items():
        kit.write(notebook, folder / student / "tiny_value.ipynb")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, worker_id) -> dict:
    """The graded class: its course root and the batch's measured wall time."""
    from grader.batch import autograde

    def compute(shared: Path) -> dict:
        root = kit.make_course(shared / "course")
        build_class(root, shared / "incoming")
        (root / ".course_secret").write_text("insights-secret\n")
        start = time.monotonic()
        autograde(root, "tiny_value", shared / "incoming", workers=2, progress=False)
        return {"root": str(root), "wall": time.monotonic() - start}

    result = kit.computed_once(tmp_path_factory, worker_id, "grader_insights", compute)
    return {**result, "root": Path(result["root"])}


@pytest.fixture(scope="module")
def insights(graded):
    return class_insights(graded["root"], "tiny_value")


@pytest.fixture(scope="module")
def page(insights) -> str:
    return render_html(insights)


def test_the_score_distribution_matches_the_mix(insights, page):
    counts: dict[float, int] = {}
    for score in insights.scores.values():
        counts[score] = counts.get(score, 0) + 1
    # 3/3: correct, edited test, raises after defining; 1/3: tanh bug, half done; 0: the rest
    assert counts == {3.0: 22, 1.0: 14, 0.0: 4}
    assert insights.submissions == 40 and insights.max_score == 3.0
    assert "<h2>Score distribution</h2>" in page
    assert "3: 22" in page and "1: 14" in page and "0: 4" in page  # the figure's alt text


def test_per_test_pass_rates_match_the_mix(insights, page):
    rates = {t.id: (t.passed, t.submissions) for t in insights.tests}
    assert rates == {"test_mul": (36, 40), "test_tanh": (22, 40)}
    assert re.search(
        r"<code>test_tanh</code></td><td[^>]*>2</td><td[^>]*>22</td>"
        r"<td[^>]*>18</td><td[^>]*>55%</td>",
        page,
    )


def test_failures_are_grouped_by_the_mistake_their_hint_names(insights, page):
    top = insights.mistakes[0]
    assert (top.mistake, top.hint, top.tests) == (TANH_HINT, True, ["test_tanh"])
    assert sorted(top.students) == TANH and top.failures == 12
    assert top.example.startswith("d/dx tanh(x) at x = ") and top.example.endswith(
        "checks failed.)"
    )
    hints = [m for m in insights.mistakes if m.hint]
    assert hints == [top]  # nobody swapped the product's gradients
    by_test = {(m.tests[0], m.mistake): sorted(m.students) for m in insights.mistakes[1:]}
    unfinished = "not written yet (NotImplementedError)"
    assert by_test[("test_tanh", unfinished)] == sorted(BLANK + HALF)
    assert by_test[("test_mul", unfinished)] == sorted(BLANK)
    assert by_test[("test_mul", "does not define `Value`")] == ["forbidden"]
    assert by_test[("test_tanh", "does not define `Value`")] == ["forbidden"]
    assert len(insights.mistakes) == 5
    assert f"test_tanh: {unfinished}: 5; test_mul: {unfinished}: 3" in page  # the figure's alt
    assert page.index(TANH_HINT.replace("'", "&#x27;")) < page.index(unfinished)


def test_flagged_submissions_are_listed_with_their_reasons(insights, page):
    flagged = {f.student: f for f in insights.flagged}
    assert set(flagged) == set(FLAGGED)
    for student, reason in FLAGGED.items():
        assert reason in flagged[student].reason
        assert f"<td>{student}</td>" in page
    assert "<h2>Flagged submissions (3)</h2>" in page


def test_student_text_is_escaped_on_the_page(insights, page):
    (raised,) = [f for f in insights.flagged if f.student == "raises_script"]
    assert SCRIPT in raised.reason  # the report keeps it; the page must not run it
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_time_to_grade_is_recorded_and_shown(graded, insights, page):
    assert set(insights.seconds) == set(insights.scores)
    assert all(0 < s < graded["wall"] for s in insights.seconds.values())
    (run,) = insights.runs
    assert run.submissions == 40
    assert max(insights.seconds.values()) <= run.seconds <= graded["wall"] + 1
    assert "<h2>Time to grade</h2>" in page and "median" in page


def test_the_page_is_one_file_with_captioned_figures_and_no_outside_requests(page):
    figures = re.findall(r"<figure>(.*?)</figure>", page, re.S)
    assert len(figures) == 4
    for figure in figures:
        assert re.search(
            r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{500,}" alt="[^"]+"', figure
        )
        assert re.search(r"<figcaption>.{40,}</figcaption>", figure, re.S)
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "default-src 'none'" in page


def test_the_report_command_writes_a_private_page_and_its_numbers(graded, tmp_path, capsys):
    out, numbers = tmp_path / "class.html", tmp_path / "class.json"
    argv = ["--course-dir", str(graded["root"]), "report", "tiny_value"]
    assert main([*argv, "--out", str(out), "--json", str(numbers)]) == 0
    assert "40 submission(s), 3 flagged" in capsys.readouterr().out
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text().startswith("<!DOCTYPE html>")
    data = json.loads(numbers.read_text())
    assert data["submissions"] == 40
    assert {t["id"]: t["pass_rate"] for t in data["tests"]} == {
        "test_mul": 0.9,
        "test_tanh": 0.55,
    }
    assert len(data["mistakes"][0]["students"]) == 12


def test_the_default_page_goes_to_build_insights(graded, capsys):
    assert main(["--course-dir", str(graded["root"]), "report", "tiny_value"]) == 0
    assert (graded["root"] / "build" / "insights" / "tiny_value.html").is_file()


def test_an_assignment_without_graded_submissions_is_an_error(graded, capsys):
    assert main(["--course-dir", str(graded["root"]), "report", "no_such"]) == 2
    assert "no graded submissions of no_such" in capsys.readouterr().err


def test_a_students_value_cannot_pose_as_a_hint(graded):
    hints = hidden_test_strings(graded["root"], "tiny_value")
    assert TANH_HINT in hints and "Did you swap the two gradients?" in hints
    forged = "d/dx tanh(x) at x = 0.5000: expected 0.7864, got 'x'. Use a lookup table."
    assert classify(forged, hints) == ("wrong value (no known mistake)", False)
    raised = "at x = 1: your code raised ValueError: x. Take the absolute value."
    assert classify(raised, {"Take the absolute value."}) == ("raises ValueError", False)
    # without the master, the hint is read from the message's shape
    real = f"d/dx tanh(x) at x = 0.5000: expected 0.7864, got 0.5379. {TANH_HINT}"
    assert classify(real + " (5 of 5 checks failed.)", None) == (TANH_HINT, True)


@pytest.mark.parametrize(
    ("message", "mistake"),
    [
        ("Not graded: the notebook is not valid JSON.", "not graded (see the flag)"),
        (
            "at x = 1: your code raised ZeroDivisionError: division by zero (cell ex_value, "
            "line 3: `1 / x`).",
            "raises ZeroDivisionError",
        ),
        (
            "the hidden checks ran too long on your code or it crashed",
            "the hidden checks ran too long or crashed",
        ),
        (
            "at x = 1: expected 0.5, got 0.25. (2 of 5 checks failed.)",
            "wrong value (no known mistake)",
        ),
    ],
)
def test_failures_without_a_hint_are_grouped_by_kind(message, mistake):
    assert classify(message, {TANH_HINT}) == (mistake, False)


def test_batches_are_told_apart_by_the_gap_between_them():
    runs = grading_runs([(0.0, 5.0), (1.0, 8.0), (2.0, 6.0), (3600.0, 3602.5)])
    assert [(r.submissions, r.seconds) for r in runs] == [(3, 8.0), (1, 2.5)]
