"""Command line of the grader: ``python -m grader <command>`` (or ``autodiff-grader``).

Instructors: ``release``, ``autograde``, ``feedback``, ``export``, ``grade``.
Students: ``validate`` (before submitting) and ``workspace`` (their own copy of the course).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from grader.paths import REPOSITORY_ROOT, feedback_folder
from grader.text import one_line
from grader.workspace import sync_workspace

NOTHING_GRADED = (
    "nothing was graded: --submissions takes a folder or zip of <student>/ folders (also "
    "nbgrader's <student>/<ID>/ and Moodle's download), or Canvas's flat download (files named "
    "<name>_<user id>_<file id>_<file name>); see the skipped entries above"
)


def _workspace(args: argparse.Namespace) -> int:
    copied = sync_workspace(Path(args.dest))
    print(f"workspace {args.dest}: {len(copied)} new file(s) from course/")
    return 0


def _release(args: argparse.Namespace) -> int:
    from grader.paths import master_ids
    from grader.release import release, stale

    ids = args.ids or master_ids(args.course_dir)
    if args.check:
        problems = stale(args.course_dir, ids)
        for problem in problems:
            print(f"stale: {problem}")
        print("course/ is up to date." if not problems else "Run `python -m grader release`.")
        return 1 if problems else 0
    for path in release(args.course_dir, ids, execute=not args.no_execute):
        print(f"wrote {path.relative_to(args.course_dir)}")
    return 0


def _allow_unsandboxed(args: argparse.Namespace) -> None:
    """Pass ``--allow-unsandboxed`` on to the sandbox's policy."""
    if args.allow_unsandboxed:
        os.environ["AUTODIFF_GRADER_ALLOW_UNSANDBOXED"] = "1"


def _grade(args: argparse.Namespace) -> int:
    from grader.batch import grade_one

    _allow_unsandboxed(args)
    report = grade_one(args.course_dir, args.assignment, Path(args.notebook), args.student)
    result = {
        "assignment": report["assignment"],
        "score": report["score"],
        "max_score": report["max_score"],
        "manual_pending": report["manual_pending"],
        "flagged": report["flagged"],
        "reason": report["reason"],
        "tests": report["tests"],
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['assignment']}: {result['score']:g} / {result['max_score']:g}")
    for test in result["tests"]:
        message = one_line(test["message"], 1000)
        print(f"  {test['id']}: {test['score']:g}/{test['max_score']:g}  {message}")
    if result["manual_pending"]:
        print(f"  written answers awaiting a grader: {result['manual_pending']:g} point(s)")
    if result["flagged"]:
        print(f"  FLAGGED: {one_line(result['reason'], 1000)}")
    return 0


def _autograde(args: argparse.Namespace) -> int:
    from grader.batch import autograde
    from grader.evaluate import UNSANDBOXED_WARNING

    _allow_unsandboxed(args)
    submissions = Path(args.submissions) if args.submissions else None
    from grader.lms import load_roster

    students = [s for value in args.student for s in value.split(",") if s] or None
    roster = load_roster(Path(args.roster)) if args.roster else None
    reports = autograde(
        args.course_dir, args.assignment, submissions, args.workers, students=students,
        roster=roster,
    )  # fmt: skip
    flagged = [r for r in reports if r["flagged"]]
    for report in flagged:
        print(f"flagged {one_line(report['student'], 100)}: {one_line(report['reason'], 1000)}")
    for entry in reports.skipped:
        print(f"skipped {one_line(entry, 300)}")
    print(
        f"graded {len(reports)} submission(s) of {args.assignment}; {len(flagged)} flagged; "
        f"{len(reports.skipped)} skipped"
    )
    unsandboxed = sum(1 for report in reports if report.get("isolation") == "subprocess")
    if unsandboxed:
        print(f"WARNING: {unsandboxed} submission(s) {UNSANDBOXED_WARNING}", file=sys.stderr)
    if not reports:
        print(NOTHING_GRADED, file=sys.stderr)
        return 1
    return 0


def _feedback(args: argparse.Namespace) -> int:
    from grader.course import generate_feedback

    generate_feedback(args.course_dir, args.assignment)
    print(f"feedback written to {feedback_folder(args.course_dir)}/<student>/{args.assignment}/")
    return 0


def _export(args: argparse.Namespace) -> int:
    from grader.export import export_rows, to_csv
    from grader.lms import Roster, canvas_csv, load_roster, moodle_csv

    rows = export_rows(args.course_dir)
    roster = load_roster(Path(args.roster)) if args.roster else Roster("plain")
    if args.format == "canvas":
        text = canvas_csv(rows, roster, per_test=args.per_test)
    elif args.format == "moodle":
        text = moodle_csv(rows, roster)
    else:
        text = to_csv(rows)
    if args.csv:
        Path(args.csv).write_text(text, encoding="utf-8")
        print(f"wrote {args.csv}")
    else:
        sys.stdout.write(text)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from grader.validate import validate_path

    result = validate_path(Path(args.notebook), args.course_dir, args.assignment)
    print(result.text())
    return 0 if result.ok else 1


def _slides(args: argparse.Namespace) -> int:
    from grader.paths import master_ids
    from grader.slides import build_slides

    out = Path(args.out).resolve()
    assets = Path(args.assets).resolve() if args.assets else None
    lessons = build_slides(
        args.course_dir,
        args.ids or master_ids(args.course_dir),
        out,
        outputs=not args.no_outputs,
        execute=args.execute,
        assets=assets,
    )
    for lesson in lessons:
        figures = "" if lesson.with_outputs else " (no outputs: no executed master; see --execute)"
        print(f"wrote {lesson.path} ({lesson.slides} slides){figures}")
    print(f"wrote {out / 'index.html'}")
    return 0


def _add_slides_command(commands: argparse._SubParsersAction) -> None:
    slides = commands.add_parser("slides", help="reveal.js lecture slides from the lessons")
    slides.add_argument("ids", nargs="*", metavar="ID", help="assignments (default: all)")
    slides.add_argument("--out", default="build/slides", help="output folder")
    slides.add_argument(
        "--execute", action="store_true", help="run masters whose build/solutions/ copy is stale"
    )
    slides.add_argument("--no-outputs", action="store_true", help="text and code only")
    slides.add_argument(
        "--assets",
        metavar="NODE_MODULES",
        help="copy reveal.js, requirejs, jquery, mathjax@2 from here (offline slides)",
    )
    slides.set_defaults(run=_slides)


def _report(args: argparse.Namespace) -> int:
    from grader.insights import write_insights

    out = Path(args.out) if args.out else None
    json_out = Path(args.json) if args.json else None
    path, insights = write_insights(args.course_dir, args.assignment, out, json_out)
    print(
        f"wrote {path}: {insights.submissions} submission(s), {len(insights.flagged)} flagged, "
        f"{len(insights.mistakes)} kind(s) of mistake"
    )
    return 0


def _add_report_command(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report", help="class insights: one HTML page of scores, pass rates, mistakes, flags"
    )
    report.add_argument("assignment", metavar="ID")
    report.add_argument("--out", metavar="FILE", help="default: build/insights/<ID>.html")
    report.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    report.set_defaults(run=_report)


def _add_unsandboxed_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--allow-unsandboxed",
        action="store_true",
        help="grade even where bubblewrap is missing (student code can then read your files)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    parser.add_argument(
        "--course-dir",
        type=lambda p: Path(p).resolve(),
        default=REPOSITORY_ROOT,
        help="the course directory (masters in solutions/, release in course/); default: the repo",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    workspace = commands.add_parser(
        "workspace", help="copy new course notebooks into your own folder (never overwrites)"
    )
    workspace.add_argument("--dest", default="workspace")
    workspace.set_defaults(run=_workspace)

    release = commands.add_parser("release", help="generate course/ and build/solutions/")
    release.add_argument("ids", nargs="*", metavar="ID", help="assignments (default: all)")
    release.add_argument("--check", action="store_true", help="exit 1 if course/ is stale")
    release.add_argument(
        "--no-execute", action="store_true", help="skip executing masters into build/solutions/"
    )
    release.set_defaults(run=_release)

    grade = commands.add_parser("grade", help="grade one notebook in a throwaway course")
    grade.add_argument("assignment", metavar="ID")
    grade.add_argument("notebook", metavar="NOTEBOOK")
    grade.add_argument("--student", default="student", help="student id (decides the seeds)")
    grade.add_argument("--json", action="store_true", help="print one JSON object")
    _add_unsandboxed_flag(grade)
    grade.set_defaults(run=_grade)

    batch = commands.add_parser("autograde", help="grade a batch of submissions")
    batch.add_argument("assignment", metavar="ID")
    batch.add_argument(
        "--submissions",
        metavar="DIR",
        help="folder or zip of <student>/ folders (default: submitted/)",
    )
    batch.add_argument(
        "--workers",
        type=int,
        default=2,
        help="submissions evaluated at once, and nbgrader recording processes (5+ students each)",
    )
    batch.add_argument(
        "--roster",
        metavar="CSV",
        help="Canvas gradebook export, Moodle grading worksheet or lms_id,student_id: gives "
        "Canvas and Moodle downloads the course's student ids",
    )
    batch.add_argument(
        "--student",
        action="append",
        default=[],
        metavar="ID",
        help="grade only this student (repeat, or a comma-separated list); others are untouched",
    )
    _add_unsandboxed_flag(batch)
    batch.set_defaults(run=_autograde)

    feedback = commands.add_parser("feedback", help="HTML feedback for autograded submissions")
    feedback.add_argument("assignment", metavar="ID")
    feedback.set_defaults(run=_feedback)

    export = commands.add_parser("export", help="scores with flags as CSV")
    export.add_argument("--csv", metavar="FILE", help="write to FILE (default: standard output)")
    export.add_argument(
        "--format",
        choices=("plain", "canvas", "moodle"),
        default="plain",
        help="plain: one row per student and assignment; canvas: Canvas's gradebook import; "
        "moodle: Moodle's CSV grade import",
    )
    export.add_argument("--roster", metavar="CSV", help="the LMS's roster (identity columns)")
    export.add_argument(
        "--per-test", action="store_true", help="canvas: a column per graded test too"
    )
    export.set_defaults(run=_export)

    validate = commands.add_parser("validate", help="check your notebook before submitting")
    validate.add_argument("notebook", metavar="NOTEBOOK")
    validate.add_argument("--assignment", metavar="ID", help="default: the notebook's name")
    validate.set_defaults(run=_validate)
    _add_slides_command(commands)
    _add_report_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"error: {one_line(error, 1000)}", file=sys.stderr)
        return 2
