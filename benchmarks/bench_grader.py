"""Grading speed: this grader vs plain ``nbgrader autograde`` on the same 50 submissions.

Submissions are generated from the 05_value_engine master: the master itself and its correct
alternatives, every mutant of ``benchmarks/mutants/05_value_engine.py`` (wrong derivatives)
and the blank release (unfinished), cycled to 50 students. Both graders run in this one
process's run, on two fresh copies of the course:

- plain nbgrader: ``nbgrader autograde`` (one process for the batch, Execute in a kernel);
  per-submission times from its log timestamps;
- this grader: ``grader.batch.autograde`` with ``--workers`` 1 and 2; per-submission times are
  each evaluation (two sandboxed runs) plus an equal share of the one nbgrader pass.

Run: ``.venv/bin/python benchmarks/bench_grader.py [--students 50] [--assignment ID]``.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PLAIN_CONFIG = """c = get_config()
c.CourseDirectory.course_id = "bench"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
"""


def load_mutants(assignment: str):
    path = REPO / "benchmarks" / "mutants" / f"{assignment}.py"
    spec = importlib.util.spec_from_file_location(f"mutants_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cell_by_id(notebook, grade_id: str):
    (found,) = [
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    ]
    return found


def variants(root: Path, assignment: str, count: int) -> dict[str, nbformat.NotebookNode]:
    """``count`` student notebooks: correct, wrong derivatives and unfinished, in rotation."""
    master = nbformat.read(root / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    release = nbformat.read(root / "course" / assignment / f"{assignment}.ipynb", as_version=4)
    exercise_ids = [
        c.metadata["nbgrader"]["grade_id"]
        for c in master.cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    ]

    def solved(changes: dict[str, str]):
        notebook = copy.deepcopy(release)
        for grade_id in exercise_ids:
            cell_by_id(notebook, grade_id).source = changes.get(
                grade_id, cell_by_id(master, grade_id).source
            )
        return notebook

    kinds = [("correct", solved({}))]
    mutants = load_mutants(assignment)
    for alternative in mutants.ALTERNATIVES:
        kinds.append(("correct", solved({alternative["cell"]: alternative["source"]})))
    for mutant in mutants.MUTANTS:
        source = cell_by_id(master, mutant["cell"]).source
        kinds.append(
            ("wrong", solved({mutant["cell"]: source.replace(mutant["find"], mutant["replace"])}))
        )
    kinds.append(("unfinished", copy.deepcopy(release)))
    return {f"s{i:03d}_{kinds[i % len(kinds)][0]}": kinds[i % len(kinds)][1] for i in range(count)}


def make_course(scratch: Path, assignment: str, plain: bool) -> Path:
    from grader.course import generate_assignment

    root = scratch / ("plain" if plain else "grader")
    shutil.copytree(REPO / "solutions" / assignment, root / "solutions" / assignment)
    generate_assignment(root, assignment)
    if plain:
        (root / "nbgrader_config.py").write_text(PLAIN_CONFIG)
    return root


def submit(root: Path, assignment: str, notebooks: dict[str, nbformat.NotebookNode]) -> None:
    for student, notebook in notebooks.items():
        folder = root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, folder / f"{assignment}.ipynb")


def plain_nbgrader(root: Path, assignment: str) -> tuple[float, list[float]]:
    """Wall time of ``nbgrader autograde`` and each submission's time from its log."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    command = [
        str(Path(sys.executable).parent / "nbgrader"),
        "autograde",
        assignment,
        "--Application.log_format=%(asctime)s.%(msecs)03d %(message)s",
        "--Application.log_datefmt=%H:%M:%S",
        "--Application.log_level=INFO",
    ]
    started = time.monotonic()
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    stamps = []
    for line in result.stderr.splitlines():
        match = re.match(r"(\d\d:\d\d:\d\d)\.(\d+) (Sanitizing|Setting destination)", line)
        if match:
            clock = datetime.strptime(match.group(1), "%H:%M:%S")
            stamps.append((match.group(3), clock.timestamp() + int(match.group(2)) / 1000))
    starts = [t for kind, t in stamps if kind == "Sanitizing"]
    ends = [t for kind, t in stamps if kind != "Sanitizing"]
    per_submission = [end - start for start, end in zip(starts, ends, strict=False)]
    if not per_submission:
        raise RuntimeError(f"no submission time in nbgrader's log:\n{result.stderr[-2000:]}")
    return wall, per_submission


def this_grader(root: Path, assignment: str, workers: int) -> tuple[float, list[float], list[dict]]:
    """Wall time of ``grader.batch.autograde`` and per-submission times."""
    from grader import batch, evaluate

    durations: list[float] = []
    original = evaluate.evaluate_submission

    def timed(*args, **kwargs):
        started = time.monotonic()
        try:
            return original(*args, **kwargs)
        finally:
            durations.append(time.monotonic() - started)

    batch.evaluate_submission = timed
    started = time.monotonic()
    try:
        reports = batch.autograde(root, assignment, None, workers=workers, progress=False)
    finally:
        batch.evaluate_submission = original
    wall = time.monotonic() - started
    nbgrader_share = max(wall - sum(durations) / workers, 0.0) / max(len(durations), 1)
    return wall, [d + nbgrader_share for d in durations], reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="05_value_engine")
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument(
        "--plain-students",
        type=int,
        default=8,
        help="how many of the same notebooks plain nbgrader grades (it runs every cell of the "
        "lesson, demos included: about a minute each for 05 on a busy machine)",
    )
    args = parser.parse_args()
    os.environ.setdefault("AUTODIFF_COURSE_SECRET", "benchmark")
    with tempfile.TemporaryDirectory(prefix="bench-grader-") as scratch:
        plain_root = make_course(Path(scratch), args.assignment, plain=True)
        ours_root = make_course(Path(scratch), args.assignment, plain=False)
        notebooks = variants(ours_root, args.assignment, args.students)
        submit(plain_root, args.assignment, dict(list(notebooks.items())[: args.plain_students]))
        submit(ours_root, args.assignment, notebooks)
        plain_wall, plain_each = plain_nbgrader(plain_root, args.assignment)
        print(f"plain nbgrader: {len(plain_each)} graded in {plain_wall:.1f} s", flush=True)
        rows = [(w, *this_grader(ours_root, args.assignment, w)) for w in (1, 2)]
    report(args, plain_wall, plain_each, rows)


def report(args: argparse.Namespace, plain_wall: float, plain_each: list[float], rows) -> None:
    """Print the table (medians and ratios measured in this one run)."""
    plain_median = statistics.median(plain_each)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}; load average (1 min, at the end): {os.getloadavg()[0]:.1f}")
    print(
        f"{args.assignment}: {args.students} submissions (correct, wrong derivatives, unfinished)"
    )
    print(
        f"{'grader':<30}{'subs':>5}{'median s/sub':>14}{'wall s':>9}{'wall s/sub':>12}{'ratio':>7}"
    )
    plain = [("plain nbgrader autograde", len(plain_each), plain_median, plain_wall)]
    ours = [
        (f"this grader, --workers {w}", args.students, statistics.median(each), wall)
        for w, wall, each, _ in rows
    ]
    for label, count, median, wall in plain + ours:
        ratio = median / plain_median
        print(f"{label:<30}{count:>5}{median:>14.2f}{wall:>9.1f}{wall / count:>12.2f}{ratio:>7.2f}")
    reports = rows[-1][3]
    by_kind: dict[str, list[float]] = {}
    for result in reports:
        by_kind.setdefault(result["student"].split("_", 1)[1], []).append(result["score"])
    means = ", ".join(f"{kind} {statistics.mean(v):.1f}" for kind, v in sorted(by_kind.items()))
    print(f"mean scores: {means}; flagged: {sum(r['flagged'] for r in reports)}")
    for result in reports:  # a correct notebook below full marks is a grader fault: say why
        if result["flagged"] or (
            result["student"].endswith("_correct") and result["score"] < result["max_score"]
        ):
            reason = result.get("reason") or "; ".join(
                test["message"] for test in result["tests"] if not test["passed"]
            )
            print(f"  {result['student']}: {result['score']:g}/{result['max_score']:g} {reason}")


if __name__ == "__main__":
    main()
