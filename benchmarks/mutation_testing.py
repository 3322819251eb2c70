"""Mutation testing of the hidden tests: every plausible bug caught, every correct answer accepted.

For each assignment with a file ``benchmarks/mutants/<id>.py`` (plain data, see
``docs/mutation-testing.md``):

* each **mutant** ``{"cell", "find", "replace", "bug"}`` replaces ``find`` by ``replace`` in the
  solution cell ``cell`` of the master (every occurrence; ``find`` must occur) and grades the
  result with the grader's own checks, sandbox and verdicts (``grader.evaluate``), the
  master's reference run done once per assignment. It is *caught* when it scores below full
  marks;
  A mutant of a mistake the lesson itself warns about also carries
  ``"pitfall": {"self_check": GRADE_ID, "hint": TEXT}``: the visible self-check cell that must
  fail on it and a piece of the message it must fail with (``tests/test_lesson_pitfalls.py``);
* each **alternative** ``{"cell", "source", "why"}`` replaces the whole solution cell by another
  correct solution; it must score full marks and raise no flag.

The submissions are the master with the hidden tests removed (what a student hands in), graded
with a fixed secret so that a run is reproducible. Prints one table row per assignment and exits
non-zero unless every mutant is caught and every alternative passes.

Usage::

    python benchmarks/mutation_testing.py                        # every assignment
    python benchmarks/mutation_testing.py --assignment 05_value_engine --workers 2
    python benchmarks/mutation_testing.py --write-doc docs/mutation-testing.md
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import platform
import runpy
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
MUTANTS_DIR = REPO / "benchmarks" / "mutants"
SOLUTIONS_DIR = REPO / "solutions"
SECRET = b"mutation-testing"
STUDENT = "mutant"
DOC_BEGIN = "<!-- mutation-results:begin -->"
DOC_END = "<!-- mutation-results:end -->"


#: How the mutated operation may be named in a message, for the dunder methods.
OPERATOR_WORDS = {
    "add": (" + ", "add", "sum"),
    "sub": (" - ", "sub", "differen"),
    "mul": (" * ", "mul", "product"),
    "truediv": (" / ", "div", "quotient"),
    "pow": ("**", "pow", "power"),
    "neg": ("-", "neg"),
    "matmul": (" @ ", "matmul"),
}


def names_operation(function: str, message: str) -> bool:
    """Whether ``message`` names ``function`` (a dunder by its symbol or word), ignoring case.

    >>> names_operation("Value.__mul__", "x * y: expected 2, got 3")
    True
    >>> names_operation("central_difference", "d/dx at 1.0: expected 2, got 3")
    False
    """
    if not function or not message:
        return False
    text = message.lower()
    owner, _, name = function.rpartition(".")
    if name.startswith("__") and name.endswith("__"):
        core = name.strip("_").removeprefix("r") if name != "__radd__" else "add"
        core = "add" if core == "add" else core
        if name == "__init__":
            return bool(owner) and owner.lower() in text
        words = OPERATOR_WORDS.get(core, (core,))
        return name in text or any(word in text for word in words)
    return name.strip("_").lower() in text


def enclosing_function(source: str, find: str) -> str:
    """``Class.method`` or ``function`` around the first occurrence of ``find`` in ``source``
    (``""`` outside any), as a message would name the operation a mutant changes."""
    from grader.checks import parse_code

    line = source[: source.index(find)].count("\n") + 1
    tree = parse_code(source)  # one parse at a time: see grader.checks.parse_code
    for node in tree.body if tree else []:
        inside = node.lineno <= line <= (node.end_lineno or node.lineno)
        if isinstance(node, ast.FunctionDef) and inside:
            return node.name
        if isinstance(node, ast.ClassDef) and inside:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.lineno <= line <= item.end_lineno:
                    return f"{node.name}.{item.name}"
            return node.name
    return ""


class SpecError(ValueError):
    """A mutants file or one of its entries breaks the format, or does not fit the master."""


@dataclass(frozen=True)
class Pitfall:
    """A mistake the lesson names: its visible self-check ``self_check`` fails with ``hint``."""

    self_check: str
    hint: str


@dataclass(frozen=True)
class Mutant:
    """A plausible student bug: ``find`` replaced by ``replace`` in solution cell ``cell``."""

    cell: str
    find: str
    replace: str
    bug: str
    pitfall: Pitfall | None = None


@dataclass(frozen=True)
class Alternative:
    """A different correct solution: the whole source of solution cell ``cell``."""

    cell: str
    source: str
    why: str


@dataclass(frozen=True)
class Outcome:
    """How one graded variant of the master did."""

    kind: str  # "master", "mutant" or "alternative"
    label: str  # the bug or the reason, as written in the mutants file
    score: float
    max_score: float
    failed_tests: tuple[str, ...] = ()
    flag: str = ""
    error: str = ""
    message: str = ""  # the first failing graded cell's message
    function: str = ""  # a mutant's function (``Class.method``), as a message names it

    @property
    def names_operation(self) -> bool:
        """Whether a caught mutant's first failing message names the function it changes."""
        return names_operation(self.function, self.message)

    @property
    def full_marks(self) -> bool:
        return not self.error and self.score == self.max_score

    @property
    def ok(self) -> bool:
        """A mutant is fine when caught; the master and an alternative when full and unflagged."""
        if self.error:
            return False
        if self.kind == "mutant":
            return self.score < self.max_score
        return self.full_marks and not self.flag


@dataclass
class Report:
    """All outcomes of one assignment."""

    assignment: str
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def _of(self, kind: str) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.kind == kind]

    @property
    def mutants(self) -> list[Outcome]:
        return self._of("mutant")

    @property
    def alternatives(self) -> list[Outcome]:
        return self._of("alternative")

    @property
    def caught(self) -> int:
        return sum(outcome.ok for outcome in self.mutants)

    @property
    def alternatives_ok(self) -> int:
        return sum(outcome.ok for outcome in self.alternatives)

    @property
    def passed(self) -> bool:
        return all(outcome.ok for outcome in self.outcomes)

    def problems(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]


# --------------------------------------------------------------------------- the mutants files


def assignments_with_mutants(mutants_dir: Path = MUTANTS_DIR) -> list[str]:
    """The ids of the assignments that have a mutants file, sorted."""
    return sorted(path.stem for path in mutants_dir.glob("[0-9]*.py"))


def _entries(
    data: dict, name: str, keys: tuple[str, ...], path: Path, optional: tuple[str, ...] = ()
) -> list[dict]:
    entries = data.get(name)
    if not isinstance(entries, list):
        raise SpecError(f"{path}: {name} must be a list of dicts")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not set(keys) <= set(entry) <= set(keys + optional):
            allowed = ", ".join(keys) + "".join(f" (and optionally {key})" for key in optional)
            raise SpecError(f"{path}: {name}[{index}] must have exactly the keys {allowed}")
        for key in keys:
            if not isinstance(entry[key], str) or (key != "replace" and not entry[key]):
                raise SpecError(f"{path}: {name}[{index}][{key!r}] must be a non-empty string")
    return entries


def _pitfall(entry: dict, where: str) -> Pitfall | None:
    """The entry's ``pitfall`` (self-check and hint); SpecError when it is malformed."""
    if "pitfall" not in entry:
        return None
    pitfall = entry["pitfall"]
    if (
        not isinstance(pitfall, dict)
        or set(pitfall) != {"self_check", "hint"}
        or not all(isinstance(value, str) and value for value in pitfall.values())
    ):
        raise SpecError(f"{where}: pitfall must be {{'self_check': str, 'hint': str}}, non-empty")
    return Pitfall(**pitfall)


def load_spec(path: Path) -> tuple[list[Mutant], list[Alternative]]:
    """Read ``MUTANTS`` and ``ALTERNATIVES`` from a mutants file; raise SpecError if malformed.

    >>> load_spec(MUTANTS_DIR / "05_value_engine.py")[0][0].cell
    'value_impl'
    """
    data = runpy.run_path(str(path))
    mutant_keys = ("cell", "find", "replace", "bug")
    mutants = [
        Mutant(
            **{key: entry[key] for key in mutant_keys},
            pitfall=_pitfall(entry, f"{path}: MUTANTS[{index}]"),
        )
        for index, entry in enumerate(_entries(data, "MUTANTS", mutant_keys, path, ("pitfall",)))
    ]
    alternatives = [
        Alternative(**entry)
        for entry in _entries(data, "ALTERNATIVES", ("cell", "source", "why"), path)
    ]
    return mutants, alternatives


# --------------------------------------------------------------------------- building submissions


def mutated_source(source: str, find: str, replace: str) -> str:
    """``source`` with every occurrence of ``find`` replaced by ``replace``.

    Raises SpecError when ``find`` does not occur or the replacement changes nothing.

    >>> mutated_source("self.grad += g", "+=", "=")
    'self.grad = g'
    """
    if find not in source:
        raise SpecError(f"the text to mutate does not occur in the cell: {find!r}")
    if find == replace:
        raise SpecError(f"find and replace are the same: {find!r}")
    return source.replace(find, replace)


def _grade_id(cell: nbformat.NotebookNode) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def submission(
    master: nbformat.NotebookNode, cell: str, source: str, strip_hidden: Callable[[str], str]
) -> nbformat.NotebookNode:
    """What a student who wrote ``source`` in solution cell ``cell`` hands in.

    A copy of the master whose graded cells lose their hidden tests (``strip_hidden``) and whose
    solution cell ``cell`` holds ``source``. Raises SpecError when ``cell`` is not a solution
    code cell of the master.
    """
    notebook = copy.deepcopy(master)
    found = False
    for nb_cell in notebook.cells:
        meta = nb_cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and nb_cell.cell_type == "code":
            nb_cell.source = strip_hidden(nb_cell.source)
        if _grade_id(nb_cell) == cell:
            if nb_cell.cell_type != "code" or not meta.get("solution") or meta.get("grade"):
                raise SpecError(f"cell {cell!r} is not an exercise (solution code) cell")
            nb_cell.source = source
            found = True
    if not found:
        raise SpecError(f"the master has no cell {cell!r}")
    return notebook


def cell_source(master: nbformat.NotebookNode, cell: str) -> str:
    """The master's source of the cell ``cell``; SpecError when there is none."""
    for nb_cell in master.cells:
        if _grade_id(nb_cell) == cell:
            return nb_cell.source
    raise SpecError(f"the master has no cell {cell!r}")


# --------------------------------------------------------------------------- grading


class ReferenceGrader:
    """Grades many variants of one master, running the master's own solution only once.

    Every variant is graded for the same student, secret and inputs: the hidden tests' inputs
    normally change with every distinct submission (``grader.secret.submission_digest``), here
    they are drawn from the master's own digest for every variant, so the master's reference
    run (``grader.evaluate.run_reference``) is the same for all: it is done once here and
    handed to ``grader.evaluate.evaluate_submission``, which halves the cost of a mutation run.
    """

    def __init__(self, master) -> None:
        from grader.evaluate import default_isolation, run_reference
        from grader.secret import submission_digest

        self.master = master
        self.isolation = default_isolation()
        self.digest = submission_digest({cell.grade_id: cell.source for cell in master.exercises})
        self.reference = run_reference(master, STUDENT, SECRET, self.isolation, self.digest)

    def grade(self, notebook: nbformat.NotebookNode, kind: str, label: str) -> Outcome:
        """Score ``notebook``; raises ``grader.verdict.ReferenceFailure`` if the master fails."""
        from grader.evaluate import evaluate_submission

        evaluation = evaluate_submission(
            self.master,
            notebook,
            STUDENT,
            SECRET,
            self.isolation,
            reference=self.reference,
            digest=self.digest,
        )
        failed = [test for test in evaluation.tests if not test.passed]
        return Outcome(
            kind,
            label,
            evaluation.score,
            evaluation.max_score,
            tuple(test.id for test in failed),
            flag=evaluation.reason,
            message=failed[0].message if failed else "",
        )


def _job(grader: ReferenceGrader, master_nb, strip_hidden, kind, label, build, cell) -> Outcome:
    """Build one variant's source and grade it; a broken entry becomes an error outcome."""
    try:
        notebook = submission(master_nb, cell, build(), strip_hidden)
    except SpecError as error:
        return Outcome(kind, label, 0.0, 0.0, error=str(error))
    try:
        return grader.grade(notebook, kind, label)
    except Exception as error:  # e.g. the master fails its own hidden test: report, go on
        return Outcome(kind, label, 0.0, 0.0, error=f"{type(error).__name__}: {error}")


def run_assignment(assignment: str, workers: int = 2) -> Report:
    """Grade the master, every mutant and every alternative of ``assignment``."""
    from grader.master import load_master, strip_hidden

    started = time.perf_counter()
    master_path = SOLUTIONS_DIR / assignment / f"{assignment}.ipynb"
    master_info = load_master(master_path)
    master_nb = nbformat.read(master_path, as_version=4)
    mutants, alternatives = load_spec(MUTANTS_DIR / f"{assignment}.py")
    grader = ReferenceGrader(master_info)

    def run(job: tuple[str, str, Callable[[], str], str, str]) -> Outcome:
        kind, label, build, cell, find = job
        outcome = _job(grader, master_nb, strip_hidden, kind, label, build, cell)
        if not find or outcome.error:  # not a mutant, or one whose entry does not fit
            return outcome
        return replace(outcome, function=enclosing_function(cell_source(master_nb, cell), find))

    first_exercise = master_info.exercises[0].grade_id
    baseline = run(
        (
            "master",
            "the master itself",
            lambda: cell_source(master_nb, first_exercise),
            first_exercise,
            "",
        )
    )
    if not baseline.ok:  # nothing else can be judged against a master that fails
        return Report(assignment, [baseline], time.perf_counter() - started)

    jobs = [
        (
            "mutant",
            mutant.bug,
            lambda m=mutant: mutated_source(cell_source(master_nb, m.cell), m.find, m.replace),
            mutant.cell,
            mutant.find,
        )
        for mutant in mutants
    ]
    jobs += [("alternative", alt.why, lambda a=alt: a.source, alt.cell, "") for alt in alternatives]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        outcomes = [baseline, *pool.map(run, jobs)]
    return Report(assignment, outcomes, time.perf_counter() - started)


# --------------------------------------------------------------------------- reporting


def table(reports: Iterable[Report]) -> str:
    """A markdown table: one row per assignment."""
    lines = [
        "| assignment | mutants | caught | fraction | alternatives ok "
        "| first message names the operation | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for report in reports:
        if not report.mutants and report.problems():
            lines.append(
                f"| {report.assignment} | - | - | master fails | - | - | {report.seconds:.0f} |"
            )
            continue
        total = len(report.mutants)
        fraction = f"{report.caught / total:.0%}" if total else "-"
        caught = [outcome for outcome in report.mutants if outcome.ok]
        named = sum(outcome.names_operation for outcome in caught)
        naming = f"{named / len(caught):.0%}" if caught else "-"
        lines.append(
            f"| {report.assignment} | {total} | {report.caught} | {fraction} | "
            f"{report.alternatives_ok}/{len(report.alternatives)} | {naming} "
            f"| {report.seconds:.0f} |"
        )
    return "\n".join(lines)


def describe_problems(report: Report) -> list[str]:
    """One line per mutant missed, alternative refused or broken entry."""
    lines = []
    for outcome in report.problems():
        if outcome.error:
            lines.append(f"{report.assignment}: {outcome.kind} '{outcome.label}': {outcome.error}")
            if outcome.kind == "master":
                lines.append(f"{report.assignment}: mutants and alternatives not graded")
        elif outcome.kind == "mutant":
            lines.append(f"{report.assignment}: mutant NOT caught: {outcome.label}")
        else:
            detail = ", ".join(outcome.failed_tests) or outcome.flag
            lines.append(
                f"{report.assignment}: {outcome.kind} refused ({outcome.score:g}/"
                f"{outcome.max_score:g}; {detail}): {outcome.label}"
            )
    return lines


def write_doc(path: Path, markdown: str, begin: str = DOC_BEGIN, end: str = DOC_END) -> None:
    """Replace the results section of ``path`` (between the marker comments ``begin``, ``end``)."""
    text = path.read_text()
    if begin not in text or end not in text:
        raise SystemExit(f"{path} has no {begin} ... {end} section")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{markdown}\n{end}{tail}")


def machine() -> str:
    """The machine a run was measured on, for the results page."""
    python = platform.python_version()
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {python}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", action="append", help="run only this id (repeatable)")
    parser.add_argument("--workers", type=int, default=2, help="submissions graded at once")
    parser.add_argument("--write-doc", type=Path, help="also write the table into this page")
    args = parser.parse_args(argv)

    assignments = args.assignment or assignments_with_mutants()
    unknown = [a for a in assignments if not (MUTANTS_DIR / f"{a}.py").is_file()]
    if unknown:
        parser.error(f"no mutants file for {', '.join(unknown)} in {MUTANTS_DIR}")
    reports = [run_assignment(assignment, args.workers) for assignment in assignments]
    markdown = table(reports)
    print(markdown)
    problems = [line for report in reports for line in describe_problems(report)]
    for line in problems:
        print(line, file=sys.stderr)
    if args.write_doc:
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        notes = (
            "".join(f"\n- {line}" for line in problems)
            or "\n- none: every mutant caught, every alternative accepted."
        )
        write_doc(
            args.write_doc,
            f"Measured {stamp} on {machine()} (load average {load}), `--workers {args.workers}`."
            f"\n\n{markdown}\n\nProblems:{notes}",
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
