"""Grade recording with several processes: one nbgrader pass vs one pass per shard of students.

After the sandboxed evaluations (parallel, ``--workers``), nbgrader's autograde records every
grade in the gradebook. ``grader.batch`` deals the students into shards (``recorder_shards``) and
runs one nbgrader pass per shard in its own process. This benchmark grades the same generated
submissions of a lesson (``benchmarks/bench_grader.py``'s mix: correct, wrong derivatives,
unfinished) three ways, interleaved in each round so that every way sees the same machine load:

- ``--workers 1``: evaluations one at a time, one recording pass;
- ``--workers 2``, one recording pass (the grader before shards: ``recorder_shards`` forced to
  a single shard);
- ``--workers 2``, recording shared by two processes (the grader as it is).

It prints the median over rounds of the recording time and of the whole batch, and ratios to
``--workers 1``, each measured in this one run.

Run: ``.venv/bin/python benchmarks/bench_recording.py [--students 40] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_grader import make_course, submit, variants  # noqa: E402

WAYS = ("--workers 1", "--workers 2, one recording pass", "--workers 2, shared recording")


def grade(root: Path, assignment: str, way: str) -> tuple[float, float]:
    """Wall time of the batch and of its recording, graded ``way``."""
    from grader import batch

    recording: list[float] = []
    record_in_shards, shards = batch.record_in_shards, batch.recorder_shards

    def timed(*args, **kwargs):
        started = time.monotonic()
        try:
            return record_in_shards(*args, **kwargs)
        finally:
            recording.append(time.monotonic() - started)

    batch.record_in_shards = timed
    if way == WAYS[1]:
        batch.recorder_shards = lambda students, workers: [sorted(students)]
    workers = 1 if way == WAYS[0] else 2
    started = time.monotonic()
    try:
        batch.autograde(root, assignment, None, workers=workers, progress=False)
    finally:
        batch.record_in_shards, batch.recorder_shards = record_in_shards, shards
    return time.monotonic() - started, sum(recording)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="05_value_engine")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("AUTODIFF_COURSE_SECRET", "benchmark")
    times: dict[str, list[tuple[float, float]]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory(prefix="bench-recording-") as scratch:
        for round_number in range(args.rounds):
            for way in WAYS:
                folder = Path(scratch) / f"r{round_number}" / str(WAYS.index(way))
                root = make_course(folder, args.assignment, plain=False)
                submit(root, args.assignment, variants(root, args.assignment, args.students))
                times[way].append(grade(root, args.assignment, way))
                wall, recorded = times[way][-1]
                print(f"round {round_number + 1}, {way}: {wall:.1f} s, recording {recorded:.1f} s")
    report(args, times)


def report(args: argparse.Namespace, times: dict[str, list[tuple[float, float]]]) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}; load average (1 min, at the end): {os.getloadavg()[0]:.1f}")
    print(f"{args.assignment}: {args.students} submissions, median of {args.rounds} rounds")
    header = f"{'way':<36}{'recording s':>12}{'s/sub':>7}{'ratio':>7}{'batch s':>9}{'ratio':>7}"
    print(header)
    base_wall = statistics.median(wall for wall, _ in times[WAYS[0]])
    base_record = statistics.median(recorded for _, recorded in times[WAYS[0]])
    for way in WAYS:
        wall = statistics.median(w for w, _ in times[way])
        recorded = statistics.median(r for _, r in times[way])
        print(
            f"{way:<36}{recorded:>12.1f}{recorded / args.students:>7.2f}"
            f"{recorded / base_record:>7.2f}{wall:>9.1f}{wall / base_wall:>7.2f}"
        )


if __name__ == "__main__":
    main()
