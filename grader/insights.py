"""Class insights: where a class is stuck on one assignment, as one self-contained HTML page.

``python -m grader report ID`` reads every ``autograded/<student>/<ID>/grader_report.json``
(``grader.report``) and writes a page with the score distribution, each test's pass rate, the
most common failing messages grouped by the mistake they name, the flagged submissions with
their reasons and the time grading took. Plots are PNGs inline (base64), so the page is one
file that opens offline; each figure has a caption and a table with the same numbers, and none
relies on colour alone (hatching, labels).

A failing test's message reads ``"<case>: expected E, got G. <hint>"`` when the student's value
matches a mistake the hidden test knows: the hint is the bug class. Hints are recognised as the
hidden tests' own string constants (read from the master), so nothing a student returns can pose
as one; failures without a hint are grouped by test and by the kind of failure (not written
yet, raised an exception, a name not defined, a wrong value, ...).

Student ids, reasons and messages come from submissions: they are escaped on the page.
"""

from __future__ import annotations

import ast
import base64
import glob
import html
import io
import json
import os
import re
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader.master import load_master
from grader.paths import AUTOGRADED_DIRECTORY, BUILD_DIRECTORY, master_path
from grader.report import REPORT_NAME, reports

BATCH_GAP_SECONDS = 60.0  # evaluations further apart than this belong to different batches
TOP_MISTAKES = 12  # mistakes shown in the figure (the table lists them all)
_FAILED_SUFFIX = re.compile(r" \(\d+ of \d+ checks failed\.\)$")
_MISSING_NAME = re.compile(r"^Your notebook does not define `([^`]{0,80})`")
_RAISED = re.compile(r"(?:^|: )your code raised ([A-Za-z_][\w.]{0,59})")
_FALLBACK_HINT = re.compile(r": expected .*?, got (?:[^.]|\.(?! ))*\. (?P<hint>[^'\"]{8,})$")


@dataclass
class TestStats:
    """One graded cell across the class."""

    id: str
    max_score: float
    passed: int
    submissions: int

    @property
    def pass_rate(self) -> float:
        return self.passed / self.submissions if self.submissions else 0.0


@dataclass
class Mistake:
    """Failing messages that name the same mistake: a hint, or a test's kind of failure."""

    mistake: str
    hint: bool
    tests: list[str] = field(default_factory=list)
    students: list[str] = field(default_factory=list)
    failures: int = 0
    example: str = ""


@dataclass
class Flagged:
    """A submission the grader flagged for a human to check."""

    student: str
    score: float
    max_score: float
    reason: str


@dataclass
class GradingRun:
    """Evaluations that overlapped in time (one batch): from the first start to the last report."""

    submissions: int
    started_at: float
    seconds: float


@dataclass
class ClassInsights:
    """Everything the page shows, as numbers (``to_dict`` is the ``--json`` output)."""

    assignment: str
    max_score: float
    scores: dict[str, float]
    tests: list[TestStats]
    mistakes: list[Mistake]
    flagged: list[Flagged]
    seconds: dict[str, float]
    runs: list[GradingRun]
    unsandboxed: int = 0
    hints_from_master: bool = True

    @property
    def submissions(self) -> int:
        return len(self.scores)

    def to_dict(self) -> dict[str, Any]:
        """The numbers, JSON-able."""
        data = asdict(self)
        data["submissions"] = self.submissions
        for test, stats in zip(data["tests"], self.tests, strict=True):
            test["pass_rate"] = stats.pass_rate
        return data


def hidden_test_strings(course_root: Path, assignment: str) -> set[str] | None:
    """Every string constant of the master's hidden tests (the hints among them); None when
    the master cannot be read."""
    try:
        master = load_master(master_path(course_root, assignment))
    except Exception:  # any master that cannot be read: hints are read from the messages
        return None
    strings: set[str] = set()
    for source in master.hidden_tests.values():
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        strings.update(
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and len(node.value) >= 8
        )
    return strings


def classify(message: str, hints: set[str] | None) -> tuple[str, bool]:
    """The mistake a failing message names, and whether it is a hint.

    ``hints`` are the hidden tests' strings; with None (no master) a hint is read from the
    message's shape, which a student's value could imitate.

    >>> classify("d/dx at x = 1: expected 0.4, got 0.2. Did you halve it? (2 of 5 checks failed.)",
    ...          {"Did you halve it?"})
    ('Did you halve it?', True)
    >>> classify("at x = 1: your code raised ZeroDivisionError: division by zero.", set())
    ('raises ZeroDivisionError', False)
    """
    text = _FAILED_SUFFIX.sub("", message.strip())
    if hints is not None:
        # the hint follows the student's value: "<case>: expected E, got G. <hint>"
        matches = [
            hint for hint in hints if text.endswith(". " + hint) and ", got " in text[: -len(hint)]
        ]
        if matches:
            return max(matches, key=len), True
    else:
        found = _FALLBACK_HINT.search(text)
        if found:
            return found["hint"], True
    if text.startswith("Not graded:"):
        return "not graded (see the flag)", False
    missing = _MISSING_NAME.match(text)
    if missing:
        return f"does not define `{missing[1]}`", False
    if "this part is not written yet" in text:
        return "not written yet (NotImplementedError)", False
    raised = _RAISED.search(text)
    if raised:
        return f"raises {raised[1]}", False
    if "ran too long on your code or it crashed" in text:
        return "the hidden checks ran too long or crashed", False
    if "did not run on the expected input" in text:
        return "the checks did not run on their inputs", False
    if "could not use your code's results" in text:
        return "results the checks could not use", False
    if re.search(r"only \d+ of \d+ checks ran", text):
        return "only some of the checks ran", False
    if ": expected " in text and ", got " in text:
        return "wrong value (no known mistake)", False
    return "other failure", False


def class_insights(course_root: Path, assignment: str) -> ClassInsights:
    """The numbers of the class's graded submissions of ``assignment``."""
    found = reports(course_root, glob.escape(assignment))
    if not found:
        raise FileNotFoundError(
            f"no graded submissions of {assignment} in {course_root / AUTOGRADED_DIRECTORY}: "
            f"run `python -m grader autograde {assignment}` first"
        )
    hints = hidden_test_strings(course_root, assignment)
    scores: dict[str, float] = {}
    tests: dict[str, TestStats] = {}
    mistakes: dict[tuple[str, ...], Mistake] = {}
    flagged: list[Flagged] = []
    seconds: dict[str, float] = {}
    intervals: list[tuple[float, float]] = []
    unsandboxed = 0
    max_score = 0.0
    for (student, _), report in sorted(found.items()):
        scores[student] = float(report.get("score", 0.0))
        max_score = max(max_score, float(report.get("max_score", 0.0)))
        unsandboxed += report.get("isolation") == "subprocess"
        if report.get("flagged"):
            flagged.append(
                Flagged(
                    student,
                    scores[student],
                    float(report.get("max_score", 0.0)),
                    str(report.get("reason", "")),
                )
            )
        if report.get("seconds") is not None:
            seconds[student] = float(report["seconds"])
        if report.get("started_at") is not None:
            path = course_root / AUTOGRADED_DIRECTORY / student / assignment / REPORT_NAME
            end = max(os.stat(path).st_mtime, report["started_at"] + seconds.get(student, 0.0))
            intervals.append((float(report["started_at"]), end))
        for test in report.get("tests", []):
            stats = tests.setdefault(test["id"], TestStats(test["id"], test["max_score"], 0, 0))
            stats.submissions += 1
            if test.get("passed"):
                stats.passed += 1
                continue
            message = str(test.get("message", ""))
            name, is_hint = classify(message, hints)
            key = ("hint", name) if is_hint else ("kind", test["id"], name)
            group = mistakes.setdefault(key, Mistake(name, is_hint, example=message))
            group.failures += 1
            if test["id"] not in group.tests:
                group.tests.append(test["id"])
            if student not in group.students:
                group.students.append(student)
    ordered = sorted(mistakes.values(), key=lambda m: (-len(m.students), not m.hint, m.mistake))
    return ClassInsights(
        assignment=assignment,
        max_score=max_score,
        scores=scores,
        tests=list(tests.values()),
        mistakes=ordered,
        flagged=flagged,
        seconds=seconds,
        runs=grading_runs(intervals),
        unsandboxed=unsandboxed,
        hints_from_master=hints is not None,
    )


def grading_runs(intervals: list[tuple[float, float]]) -> list[GradingRun]:
    """Merge (start, end) intervals into batches: overlapping or less than a minute apart."""
    runs: list[list[float]] = []
    for start, end in sorted(intervals):
        if runs and start <= runs[-1][1] + BATCH_GAP_SECONDS:
            runs[-1][1] = max(runs[-1][1], end)
            runs[-1][2] += 1
        else:
            runs.append([start, end, 1])
    return [GradingRun(int(count), start, end - start) for start, end, count in runs]


# ---------------------------------------------------------------------------------- figures


def _label(text: str, limit: int = 60) -> str:
    """A figure label: bounded, with ``$`` shown as itself (not as mathtext)."""
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return text.replace("$", r"\$")


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _new_figure(width: float, height: float) -> tuple[Any, Any]:
    from matplotlib.figure import Figure  # the Agg canvas, without pyplot's global state

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def score_figure(insights: ClassInsights) -> str:
    """Stacked bars of scores: not flagged (hatched //) and flagged (hatched xx), counts on top."""
    import numpy as np

    values = list(insights.scores.values())
    flagged = {f.student for f in insights.flagged}
    top = insights.max_score or max(values, default=1.0) or 1.0
    whole = all(float(v).is_integer() for v in values) and top <= 40
    if whole:
        edges = np.arange(0, int(top) + 2) - 0.5
        labels = [str(i) for i in range(int(top) + 1)]
    else:
        edges = np.linspace(0, top, min(20, max(int(np.ceil(top)), 1)) + 1)
        labels = [f"{a:g}-{b:g}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    plain = np.histogram([s for k, s in insights.scores.items() if k not in flagged], edges)[0]
    marked = np.histogram([s for k, s in insights.scores.items() if k in flagged], edges)[0]
    figure, axes = _new_figure(7, 3.2)
    x = np.arange(len(labels))
    axes.bar(x, plain, color="#9ecae1", edgecolor="black", hatch="//", label="not flagged")
    axes.bar(
        x, marked, bottom=plain, color="#fdae6b", edgecolor="black", hatch="xx", label="flagged"
    )
    for position, total in zip(x, plain + marked, strict=True):
        if total:
            axes.annotate(str(total), (position, total), ha="center", va="bottom")
    axes.set_xticks(x, labels)
    axes.set_xlabel(f"autograded score (of {top:g})")
    axes.set_ylabel("submissions")
    axes.set_ylim(0, max(1, int((plain + marked).max())) * 1.2)
    axes.legend()
    return _png(figure)


def pass_rate_figure(insights: ClassInsights) -> str:
    """One hatched bar per test, labelled with passed/submissions and the percentage."""
    figure, axes = _new_figure(7, 0.5 + 0.45 * len(insights.tests))
    names = [_label(t.id, 40) for t in insights.tests]
    rates = [100 * t.pass_rate for t in insights.tests]
    bars = axes.barh(names, rates, color="#a1d99b", edgecolor="black", hatch="..")
    axes.bar_label(
        bars,
        [f"{t.passed}/{t.submissions} ({100 * t.pass_rate:.0f}%)" for t in insights.tests],
        padding=3,
    )
    axes.set_xlim(0, 118)
    axes.set_xlabel("submissions passing (%)")
    axes.invert_yaxis()
    return _png(figure)


def mistake_label(mistake: Mistake) -> str:
    """A hint as it reads; another failure as ``<test>: <kind>``."""
    return mistake.mistake if mistake.hint else f"{mistake.tests[0]}: {mistake.mistake}"


def mistakes_figure(insights: ClassInsights) -> str:
    """The most common mistakes by students: hints hatched //, other failures hatched \\\\."""
    from matplotlib.patches import Patch

    shown = insights.mistakes[:TOP_MISTAKES]
    figure, axes = _new_figure(8, 0.6 + 0.45 * len(shown))
    names = [_label(mistake_label(m)) for m in shown]
    counts = [len(m.students) for m in shown]
    bars = axes.barh(range(len(shown)), counts, edgecolor="black")
    for bar, mistake in zip(bars, shown, strict=True):
        bar.set_hatch("//" if mistake.hint else "\\\\")
        bar.set_facecolor("#fc9272" if mistake.hint else "#d9d9d9")
    axes.bar_label(bars, [str(c) for c in counts], padding=3)
    axes.set_yticks(range(len(shown)), names)
    axes.set_xlim(0, max(counts, default=1) * 1.15 + 0.5)
    axes.set_xlabel("students")
    axes.invert_yaxis()
    axes.legend(
        handles=[
            Patch(facecolor="#fc9272", edgecolor="black", hatch="//", label="a named mistake"),
            Patch(
                facecolor="#d9d9d9",
                edgecolor="black",
                hatch="\\\\",
                label="other failure (test: kind)",
            ),
        ],
        loc="best",
    )
    return _png(figure)


def time_figure(insights: ClassInsights) -> str:
    """A histogram of seconds per submission with the median as a dashed, labelled line."""
    values = list(insights.seconds.values())
    figure, axes = _new_figure(7, 3)
    axes.hist(
        values, bins=min(20, max(len(values), 1)), color="#bcbddc", edgecolor="black", hatch="--"
    )
    median = statistics.median(values)
    axes.axvline(median, color="black", linestyle="--")
    axes.annotate(
        f"median {median:.2f} s",
        (median, 0.95),
        xycoords=("data", "axes fraction"),
        xytext=(4, 0),
        textcoords="offset points",
        va="top",
    )
    axes.set_xlabel("seconds to evaluate one submission (both runs and the verdicts)")
    axes.set_ylabel("submissions")
    return _png(figure)


# ------------------------------------------------------------------------------------- page

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.45; color: #111; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #999; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; } figcaption { font-size: 0.95rem; color: #333; }
img { max-width: 100%; } code, .msg { font-family: ui-monospace, monospace; font-size: 0.9rem; }
.msg { white-space: pre-wrap; overflow-wrap: anywhere; } .warn { border: 2px solid #000;
padding: 0.5rem; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _figure(png: str, alt: str, caption: str) -> str:
    return (
        f'<figure><img src="data:image/png;base64,{png}" alt="{_e(alt)}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _scores_section(insights: ClassInsights) -> str:
    values = sorted(insights.scores.values())
    quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    summary = _table(
        ["submissions", "mean", "median", "lower quartile", "upper quartile", "min", "max"],
        [
            [
                str(len(values)),
                f"{statistics.fmean(values):.2f}",
                f"{statistics.median(values):g}",
                f"{quartiles[0]:g}",
                f"{quartiles[2]:g}",
                f"{values[0]:g}",
                f"{values[-1]:g}",
            ]
        ],
        numeric=set(range(7)),
    )
    caption = (
        f"Score distribution: submissions per autograded score (of {insights.max_score:g}); "
        "flagged submissions are stacked on top, hatched with crosses. Written answers are "
        "graded by hand and not included."
    )
    alt = "Bar chart of submissions per score: " + ", ".join(
        f"{score:g}: {count}" for score, count in sorted(_counts(values).items())
    )
    return "<h2>Score distribution</h2>" + _figure(score_figure(insights), alt, caption) + summary


def _counts(values: list[float]) -> dict[float, int]:
    counts: dict[float, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _tests_section(insights: ClassInsights) -> str:
    rows = [
        [
            f"<code>{_e(t.id)}</code>",
            f"{t.max_score:g}",
            str(t.passed),
            str(t.submissions - t.passed),
            f"{100 * t.pass_rate:.0f}%",
        ]
        for t in insights.tests
    ]
    alt = "Bar chart of pass rates: " + ", ".join(
        f"{t.id} {t.passed} of {t.submissions}" for t in insights.tests
    )
    caption = (
        "Per-test pass rates: the share of submissions scoring a test's points (all its hidden "
        "checks passed), labelled passed/submissions."
    )
    return (
        "<h2>Per-test pass rates</h2>"
        + _figure(pass_rate_figure(insights), alt, caption)
        + _table(["test", "points", "passed", "failed", "pass rate"], rows, {1, 2, 3, 4})
    )


def _mistakes_section(insights: ClassInsights) -> str:
    if not insights.mistakes:
        return "<h2>Most common mistakes</h2><p>No test failed.</p>"
    rows = []
    for mistake in insights.mistakes:
        students = ", ".join(_e(s) for s in mistake.students)
        rows.append(
            [
                _e(mistake.mistake),
                "hint" if mistake.hint else "failure kind",
                ", ".join(f"<code>{_e(t)}</code>" for t in mistake.tests),
                str(len(mistake.students)),
                str(mistake.failures),
                f'<span class="msg">{_e(mistake.example)}</span>',
                f"<details><summary>{len(mistake.students)}</summary>{students}</details>",
            ]
        )
    alt = "Bar chart of students per mistake: " + "; ".join(
        f"{mistake_label(m)}: {len(m.students)}" for m in insights.mistakes[:TOP_MISTAKES]
    )
    caption = (
        f"The {min(len(insights.mistakes), TOP_MISTAKES)} most common mistakes, by students. "
        "A named mistake (hatched //) is a hint of a hidden test: the student's value is what "
        "that mistake gives. Other failures (hatched \\\\) are grouped by test and kind."
    )
    note = (
        ""
        if insights.hints_from_master
        else "<p class=warn>The master could not be read: hints were recognised from the "
        "messages' shape only.</p>"
    )
    return (
        "<h2>Most common mistakes</h2>"
        + note
        + _figure(mistakes_figure(insights), alt, caption)
        + _table(
            ["mistake", "kind", "tests", "students", "failures", "example message", "who"],
            rows,
            {3, 4},
        )
    )


def _flagged_section(insights: ClassInsights) -> str:
    if not insights.flagged:
        return "<h2>Flagged submissions</h2><p>None.</p>"
    rows = [
        [
            _e(f.student),
            f"{f.score:g} / {f.max_score:g}",
            f'<span class="msg">{_e(f.reason)}</span>',
        ]
        for f in insights.flagged
    ]
    return (
        f"<h2>Flagged submissions ({len(insights.flagged)})</h2>"
        "<p>Graded as far as possible and marked &ldquo;needs manual grade&rdquo; in the "
        "formgrader.</p>" + _table(["student", "autograded", "reason"], rows, {1})
    )


def _time_section(insights: ClassInsights) -> str:
    if not insights.seconds:
        return (
            "<h2>Time to grade</h2><p>These reports hold no timing (graded before the grader "
            "recorded it).</p>"
        )
    values = sorted(insights.seconds.values())
    p90 = statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]
    per = _table(
        ["submissions timed", "median s", "90th percentile s", "max s", "sum s"],
        [
            [
                str(len(values)),
                f"{statistics.median(values):.2f}",
                f"{p90:.2f}",
                f"{values[-1]:.2f}",
                f"{sum(values):.1f}",
            ]
        ],
        set(range(5)),
    )
    runs = _table(
        ["batch started (UTC)", "submissions", "wall s", "s / submission"],
        [
            [
                time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.started_at)),
                str(r.submissions),
                f"{r.seconds:.1f}",
                f"{r.seconds / r.submissions:.2f}",
            ]
            for r in insights.runs
        ],
        {1, 2, 3},
    )
    slowest = sorted(insights.seconds.items(), key=lambda item: -item[1])[:5]
    slow = _table(["slowest submissions", "s"], [[_e(s), f"{v:.2f}"] for s, v in slowest], {1})
    caption = (
        "Seconds per submission: its checks, the student's and the reference run side by side, "
        "and the verdicts (the dashed line is the median). A batch's wall time runs from its "
        "first evaluation to its last report written, nbgrader's recording included."
    )
    alt = f"Histogram of seconds per submission; median {statistics.median(values):.2f} s"
    return (
        "<h2>Time to grade</h2>" + _figure(time_figure(insights), alt, caption) + per + runs + slow
    )


def render_html(insights: ClassInsights) -> str:
    """The whole page: no script, images inline, every submission's text escaped."""
    values = list(insights.scores.values())
    warning = (
        f"<p class=warn>{insights.unsandboxed} submission(s) were graded WITHOUT a sandbox.</p>"
        if insights.unsandboxed
        else ""
    )
    generated = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>Class insights: {_e(insights.assignment)}</title><style>{_STYLE}</style></head>
<body><h1>Class insights: <code>{_e(insights.assignment)}</code></h1>
<p>{insights.submissions} graded submission(s), mean {statistics.fmean(values):.2f} of
{insights.max_score:g} autograded points, {len(insights.flagged)} flagged. Generated
{generated}.</p>{warning}
{_scores_section(insights)}
{_tests_section(insights)}
{_mistakes_section(insights)}
{_flagged_section(insights)}
{_time_section(insights)}
</body></html>
"""


def default_output(course_root: Path, assignment: str) -> Path:
    """``build/insights/<ID>.html`` in the course directory."""
    return course_root / BUILD_DIRECTORY / "insights" / f"{assignment}.html"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by its owner only (the page names students and their grades)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def write_insights(
    course_root: Path, assignment: str, out: Path | None = None, json_out: Path | None = None
) -> tuple[Path, ClassInsights]:
    """Write the page (and, with ``json_out``, its numbers); return the page's path."""
    insights = class_insights(course_root, assignment)
    path = out or default_output(course_root, assignment)
    _write_private(path, render_html(insights))
    if json_out is not None:
        _write_private(json_out, json.dumps(insights.to_dict(), indent=2) + "\n")
    return path, insights
