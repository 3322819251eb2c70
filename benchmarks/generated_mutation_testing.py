"""Generated-mutant run: how strong the hidden tests and the visible self-checks are.

Every mutant of ``benchmarks/generated_mutants.py`` (derived from the master's solution cells)
is graded like a hand-written mutant of ``benchmarks/mutation_testing.py`` (the same
submission, fixed secret and reference run done once per assignment) and, separately, run with
the notebook's visible self-checks in the grading sandbox, as ``python -m grader validate``
does. Each mutant is then

* **killed by the hidden tests**: it scores below full marks;
* **caught by the self-checks**: a visible self-check cell (or the exercise cell itself) raises
  when a student runs the notebook; counted independently of the hidden verdict;
* **equivalent**: listed in ``benchmarks/mutants/equivalent.json`` with a one-line reason (a
  reviewed judgement; the id holds a hash of the mutated source, so an edit of the cell makes
  the judgement lapse and the mutant is graded again);
* **survived**: none of these.

The run also measures, per assignment, the share of killed mutants that fail only graded cells
of their own exercise (``grader.ownership``: a cell failing because of another exercise's code
keeps its points), the share that fail only cells owning the mutated function (05's tests own
one rule each), and the share whose first failing message names the mutated operation (the
function or method around the mutated site, or its operator symbol).

Usage::

    python benchmarks/generated_mutation_testing.py --workers 2
    python benchmarks/generated_mutation_testing.py --assignment 05_value_engine --sample 40
    python benchmarks/generated_mutation_testing.py --write-doc docs/mutation-testing.md
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
if __package__ in (None, ""):  # run as a script: python benchmarks/generated_mutation_testing.py
    sys.path.insert(0, str(REPO))

from benchmarks import generated_mutants as gm  # noqa: E402
from benchmarks import mutation_testing as mt  # noqa: E402
from benchmarks.mutation_testing import names_operation  # noqa: E402
from grader import ownership  # noqa: E402
from grader.master import Master, load_master, strip_hidden  # noqa: E402
from grader.paths import master_path  # noqa: E402

EQUIVALENT_FILE = BENCHMARKS / "mutants" / "equivalent.json"
DOC_BEGIN = "<!-- generated-mutants:begin -->"
DOC_END = "<!-- generated-mutants:end -->"


@dataclass
class MutantResult:
    """What grading and the self-checks made of one generated mutant."""

    id: str
    cell: str
    operator: str
    function: str
    change: str
    hidden_killed: bool = False
    failed_tests: tuple[str, ...] = ()
    first_message: str = ""
    visible_caught: bool = False
    visible_message: str = ""
    equivalent: str = ""
    error: str = ""
    exercise_tests: tuple[str, ...] = ()  # the graded cells of the mutated cell's exercise
    owning_tests: tuple[str, ...] = ()  # those of them that own the mutated function

    @property
    def survived(self) -> bool:
        return not self.hidden_killed and not self.equivalent and not self.error

    @property
    def names_operation(self) -> bool:
        """Whether the first failing message names the function around the mutated site."""
        return names_operation(self.function, self.first_message)

    @property
    def in_own_exercise(self) -> bool:
        """Whether every graded cell it fails belongs to the exercise it is in."""
        return set(self.failed_tests) <= set(self.exercise_tests)

    @property
    def in_owning_tests(self) -> bool:
        """Whether every graded cell it fails owns the mutated function (``OWNS``)."""
        return set(self.failed_tests) <= set(self.owning_tests)


@dataclass
class AssignmentReport:
    """The generated-mutant results of one assignment."""

    assignment: str
    generated: int
    results: list[MutantResult] = field(default_factory=list)
    seconds: float = 0.0
    selfchecks: bool = True
    problem: str = ""

    def count(self, predicate) -> int:
        return sum(1 for result in self.results if predicate(result))

    @property
    def killed(self) -> list[MutantResult]:
        return [r for r in self.results if r.hidden_killed]

    def row(self) -> str:
        """One markdown table row."""
        if self.problem:
            return f"| {self.assignment} | {self.generated} | {self.problem} ||||||||||"
        graded = len(self.results)
        killed = self.killed
        own_exercise = sum(1 for r in killed if r.in_own_exercise)
        owning = sum(1 for r in killed if r.in_owning_tests)
        mean = sum(len(r.failed_tests) for r in killed) / len(killed) if killed else 0.0
        named = sum(1 for r in killed if r.names_operation)
        visible = self.count(lambda r: r.visible_caught) if self.selfchecks else None
        only_visible = self.count(lambda r: r.visible_caught and r.survived)

        def share(part: int, whole: int) -> str:
            return f"{part / whole:.0%}" if whole else "-"

        visible_text = "-" if visible is None else f"{visible} ({share(visible, graded)})"
        return (
            f"| {self.assignment} | {self.generated} | {graded} | {len(killed)} | {visible_text} "
            f"| {self.count(lambda r: r.survived)} ({only_visible}) "
            f"| {self.count(lambda r: bool(r.equivalent))} | {self.count(lambda r: bool(r.error))} "
            f"| {share(own_exercise, len(killed))} | {share(owning, len(killed))} ({mean:.1f}) "
            f"| {share(named, len(killed))} "
            f"| {self.seconds:.0f} |"
        )


TABLE_HEAD = (
    "| assignment | generated | graded | killed by hidden tests | caught by self-checks "
    "| survived (of them caught by self-checks) | equivalent | errors "
    "| killed failing only their exercise's cells | only the cells owning the code (mean cells) "
    "| first message names the operation | seconds |"
    "\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


# --------------------------------------------------------------------------- equivalents


def load_equivalents(path: Path = EQUIVALENT_FILE) -> dict[str, dict[str, str]]:
    """The reviewed equivalent mutants: ``{assignment: {mutant id: reason}}``."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    for assignment, entries in data.items():
        for mutant_id, reason in entries.items():
            if not gm.ID_PATTERN.match(mutant_id) or not isinstance(reason, str) or not reason:
                raise ValueError(f"{path}: {assignment}: bad entry {mutant_id!r}: {reason!r}")
    return data


# --------------------------------------------------------------------------- grading


def exercises(master: Master) -> list[tuple[str, str]]:
    """``(grade_id, source)`` of each exercise cell no practice (``MasterCell.is_practice``: a
    hand-worked answer checked only by a visible self-check, which no hidden test grades)."""
    return [(cell.grade_id, cell.source) for cell in master.exercises if not cell.is_practice]


def load_assignment_master(assignment: str) -> Master:
    """The parsed master of ``assignment``."""
    return load_master(master_path(mt.REPO, assignment))


def master_mutants(assignment: str) -> list[gm.GeneratedMutant]:
    """Every generated mutant of the master of ``assignment``."""
    return gm.generate(exercises(load_assignment_master(assignment)))


class MutantGrader:
    """Grades generated mutants of one master: hidden tests and visible self-checks."""

    def __init__(self, assignment: str) -> None:
        path = master_path(mt.REPO, assignment)
        self.master = load_master(path)
        self.master_nb = nbformat.read(path, as_version=4)
        self.strip_hidden = strip_hidden
        self.reference = mt.ReferenceGrader(self.master)

    def owners(self, mutant: gm.GeneratedMutant) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The graded cells of the mutant's exercise, and those that own its function."""
        exercise = ownership.exercise_of(self.master, mutant.cell)
        tests = exercise.tests if exercise else ()
        owning = []
        for test in tests:
            names = ownership.owned_names(self.master.hidden_tests[test])
            if names is None or mutant.qualified_function in names:
                owning.append(test)
        return tests, tuple(owning)

    def hidden(self, cell: str, source: str) -> tuple[bool, tuple[str, ...], str]:
        """Grade the submission with ``source`` in ``cell``: (killed, failed cells, message)."""
        from grader.evaluate import evaluate_submission

        notebook = mt.submission(self.master_nb, cell, source, self.strip_hidden)
        evaluation = evaluate_submission(
            self.master,
            notebook,
            mt.STUDENT,
            mt.SECRET,
            self.reference.isolation,
            reference=self.reference.reference,
            digest=self.reference.digest,
        )
        failed = [test for test in evaluation.tests if not test.passed]
        killed = evaluation.score < evaluation.max_score
        return killed, tuple(t.id for t in failed), failed[0].message if failed else ""

    def visible(self, cell: str, source: str) -> tuple[bool, str]:
        """Run the exercises with ``source`` in ``cell`` and the visible self-checks.

        Caught when a self-check cell or an exercise cell raises, or the run stops (a timeout):
        what a student sees when running the notebook before submitting.
        """
        from grader.driver import run_in_sandbox
        from grader.evaluate import build_cells, limits_for

        sources = {c.grade_id: c.source for c in self.master.exercises}
        sources[cell] = source
        cells = build_cells(self.master, sources, selfchecks=True)
        run = run_in_sandbox(
            cells,
            [],
            self.master.forbidden_imports,
            limits_for(self.master),
            self.reference.isolation,
        )
        if run.problem:
            return True, run.problem
        for built in cells:
            for output in run.outputs.get(built["id"], []):
                if output["output_type"] == "error":
                    return True, f"{built['id']}: {output.get('ename')}: {output.get('evalue')}"
        return False, ""

    def grade(self, mutant: gm.GeneratedMutant, selfchecks: bool = True) -> MutantResult:
        """Both verdicts on one mutant; an exception of the harness becomes ``error``."""
        result = MutantResult(
            mutant.id, mutant.cell, mutant.operator, mutant.qualified_function, mutant.diff_line()
        )
        result.exercise_tests, result.owning_tests = self.owners(mutant)
        try:
            result.hidden_killed, result.failed_tests, result.first_message = self.hidden(
                mutant.cell, mutant.source
            )
            if selfchecks:
                result.visible_caught, result.visible_message = self.visible(
                    mutant.cell, mutant.source
                )
        except Exception as error:  # a broken master or harness: report it, go on
            result.error = f"{type(error).__name__}: {error}"
        return result


def run_assignment(
    assignment: str,
    workers: int = 2,
    sample: int | None = None,
    selfchecks: bool = True,
    equivalents: dict[str, dict[str, str]] | None = None,
    reuse: dict[str, MutantResult] | None = None,
) -> AssignmentReport:
    """Generate, grade and classify the mutants (or a deterministic sample) of ``assignment``.

    ``reuse`` maps mutant ids to results of an earlier run that are taken as they are
    (:func:`reusable`: the killed ones, valid while the hidden tests were only strengthened).
    """
    started = time.perf_counter()
    equivalents = load_equivalents() if equivalents is None else equivalents
    known = equivalents.get(assignment, {})
    mutants = master_mutants(assignment)
    chosen = gm.sample(mutants, sample, assignment) if sample else mutants
    reused = [] if reuse is None else [reuse[m.id] for m in chosen if m.id in reuse]
    chosen = [m for m in chosen if reuse is None or m.id not in reuse]
    report = AssignmentReport(assignment, len(mutants), selfchecks=selfchecks)
    grader = MutantGrader(assignment)
    baseline_killed, failed, _ = grader.hidden(*exercises(grader.master)[0])
    baseline_visible, message = grader.visible(*exercises(grader.master)[0])
    if baseline_killed or (selfchecks and baseline_visible):
        report.problem = f"master fails: {', '.join(failed) or message}"
        return report

    def run(mutant: gm.GeneratedMutant) -> MutantResult:
        result = grader.grade(mutant, selfchecks)
        if not result.hidden_killed and mutant.id in known:
            result.equivalent = known[mutant.id]
        return result

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        report.results = reused + list(pool.map(run, chosen))
    report.seconds = time.perf_counter() - started
    return report


# --------------------------------------------------------------------------- reporting


def reusable(path: Path) -> dict[str, MutantResult]:
    """The results of an earlier ``--json`` file that need no regrading: hidden-test kills.

    A mutant's id holds the hash of its source, so the same id is the same program; a kill
    stays a kill as long as the hidden tests only gained cases since that run (their inputs are
    drawn per test cell, so a new case can change the others' inputs: use it to regrade the
    survivors after strengthening a test, and make the final measurement without it).
    """
    found = {}
    for report in json.loads(path.read_text()).values():
        for data in report["results"]:
            result = _result(data)
            if result.hidden_killed and not result.error:
                found[result.id] = result
    return found


def _result(data: dict) -> MutantResult:
    """A MutantResult from its JSON form (lists back to tuples)."""
    tuples = ("failed_tests", "exercise_tests", "owning_tests")
    return MutantResult(**{k: tuple(v) if k in tuples else v for k, v in data.items()})


def table(reports: Iterable[AssignmentReport]) -> str:
    """The markdown results table, one row per assignment."""
    return "\n".join([TABLE_HEAD, *(report.row() for report in reports)])


def outside_their_exercise(reports: Iterable[AssignmentReport]) -> list[str]:
    """One line per killed mutant that fails a graded cell of another exercise."""
    return [
        f"{report.assignment}: {result.id}: {result.change}: fails {', '.join(result.failed_tests)}"
        for report in reports
        for result in report.killed
        if not result.in_own_exercise
    ]


def survivors(reports: Iterable[AssignmentReport]) -> list[str]:
    """One line per surviving mutant or harness error."""
    lines = []
    for report in reports:
        for result in report.results:
            if result.survived or result.error:
                what = result.error or (
                    "survived" + (" (self-checks catch it)" * result.visible_caught)
                )
                lines.append(f"{report.assignment}: {result.id}: {result.change}: {what}")
    return lines


def to_json(reports: Iterable[AssignmentReport]) -> dict:
    """Every report as plain data: ``{assignment: {"generated", "seconds", "results"}}``."""
    return {
        report.assignment: {
            "generated": report.generated,
            "seconds": report.seconds,
            "problem": report.problem,
            "results": [asdict(result) for result in report.results],
        }
        for report in reports
    }


def from_json(path: Path, equivalents: dict[str, dict[str, str]]) -> list[AssignmentReport]:
    """The reports of an earlier ``--json`` file, with today's equivalent list applied."""
    reports = []
    for assignment, data in json.loads(path.read_text()).items():
        report = AssignmentReport(assignment, data["generated"], seconds=data["seconds"])
        report.problem = data["problem"]
        known = equivalents.get(assignment, {})
        for entry in data["results"]:
            result = _result(entry)
            if not result.hidden_killed:
                result.equivalent = known.get(result.id, "")
            report.results.append(result)
        reports.append(report)
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", action="append", help="run only this id (repeatable)")
    parser.add_argument("--workers", type=int, default=2, help="mutants graded at once")
    parser.add_argument("--sample", type=int, help="grade only this many mutants per assignment")
    parser.add_argument("--no-selfchecks", action="store_true", help="hidden tests only")
    parser.add_argument("--json", type=Path, help="write every mutant's result to this file")
    parser.add_argument(
        "--reuse", type=Path, help="take the kills of this earlier --json file as they are"
    )
    parser.add_argument("--write-doc", type=Path, help="also write the table into this page")
    parser.add_argument(
        "--render", type=Path, help="grade nothing: report the results of this --json file"
    )
    args = parser.parse_args(argv)

    assignments = args.assignment or mt.assignments_with_mutants()
    equivalents = load_equivalents()
    reuse = reusable(args.reuse) if args.reuse else None
    reports = from_json(args.render, equivalents) if args.render else []
    for assignment in [] if args.render else assignments:
        reports.append(
            run_assignment(
                assignment, args.workers, args.sample, not args.no_selfchecks, equivalents, reuse
            )
        )
        print(reports[-1].row(), flush=True)
        if args.json:  # after each assignment, so that a long run stopped halfway keeps them
            args.json.write_text(json.dumps(to_json(reports), indent=1))
    markdown = table(reports)
    print(markdown)
    lines = survivors(reports)
    for line in lines:
        print(line, file=sys.stderr)
    if args.write_doc:
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        scope = f"a sample of {args.sample} per assignment" if args.sample else "every mutant"
        if args.render:
            scope += f", reported from {args.render.name}"
        if args.reuse:
            scope += f", the kills of an earlier run ({args.reuse.name}) reused"
        notes = "".join(f"\n- {line}" for line in lines) or "\n- none."
        outside = "".join(f"\n- {line}" for line in outside_their_exercise(reports)) or "\n- none."
        mt.write_doc(
            args.write_doc,
            f"Measured {stamp} on {mt.machine()} (load average {load}), `--workers "
            f"{args.workers}`, {scope}.\n\n{markdown}\n\nSurvivors and errors:{notes}\n\n"
            f"Killed mutants that fail a graded cell of another exercise:{outside}",
            DOC_BEGIN,
            DOC_END,
        )
    return 1 if lines else 0


if __name__ == "__main__":
    raise SystemExit(main())
