"""The grader's side of a sandboxed run: the cells, then the hidden tests driven from outside.

The student's code runs in the sandbox (``grader/runner.py``); the hidden tests run here, in
the grader's process (:mod:`grader.check`), and reach the student's objects through handles
(:mod:`grader.proxies`) over a private channel (:mod:`grader.channel`). What reaches the
student's process is only the concrete inputs of each case. The hidden test's source, its
seed, tolerances, expected values and hints stay here; so whatever the student's code patches
in its own process, the worst it can do is return wrong values or break the channel (flagged).
Every wait on the channel has a deadline measured here from the start of the cell or test;
nothing the student's process sends extends it. A test that times out or kills the student's
process is flagged, and the remaining tests go on in a fresh sandbox.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from grader.channel import ChannelBroken, RunnerStopped
from grader.check import run_hidden_test
from grader.proxies import Session
from grader.sandbox import Limits, launch

RESTARTS = 3  # fresh sandboxes after a test timed out or crashed


@dataclass
class RunRecord:
    """What one run gave: cell outputs, hidden-test results, why it stopped, what it hit."""

    outputs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    truncated: list[str] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    problem: str | None = None
    flags: list[str] = field(default_factory=list)
    isolation: str = "bubblewrap"


def run_in_sandbox(
    cells: list[dict[str, str]],
    tests: list[dict[str, Any]],
    forbidden: tuple[str, ...],
    limits: Limits,
    isolation: str,
) -> RunRecord:
    """Run setup/solution cells in a fresh sandbox, then drive the hidden tests against them.

    ``cells`` are ``{"id", "kind", "source"}`` (kind ``setup``, ``solution`` or ``selfcheck``);
    ``tests`` are ``{"id", "source", "seed"}`` and never leave this process. A test that times
    out or kills the student's process is recorded and flagged, and the remaining tests go on
    in a fresh sandbox with the same cells.
    """
    record = RunRecord(isolation=isolation)
    deadline = time.monotonic() + limits.notebook_timeout
    remaining = list(tests)
    restarts = 0
    with tempfile.TemporaryDirectory(prefix="grader-run-") as workdir:
        while True:
            session = Session(launch(forbidden, limits, isolation, workdir), limits, forbidden)
            try:
                first = restarts == 0
                if not _run_cells(session, cells, deadline, record if first else None):
                    if record.problem is None:
                        record.problem = "the notebook did not run the same way a second time"
                    return record
                while remaining:
                    test = remaining[0]
                    record.results[test["id"]] = run_hidden_test(session, test, deadline)
                    remaining.pop(0)
                return record
            except ChannelBroken as broken:
                record.problem = f"the notebook broke the grader's channel ({broken})"
                return record
            except RunnerStopped as stopped:
                if record.problem is not None or not remaining:
                    return record
                test = remaining.pop(0)
                record.results[test["id"]] = {"cases": [], "error": {"kind": "stopped"}}
                reason = f"hidden checks of {test['id']}: {stopped.reason}"
                if stopped.timed_out:
                    reason += " on your code (an endless loop?)"
                record.flags.append(reason)
                if not remaining:
                    return record
                restarts += 1
                if restarts > RESTARTS or time.monotonic() >= deadline:
                    record.problem = "the hidden checks stopped too often"
                    return record
            finally:
                for reason in session.close():
                    if reason not in record.flags:
                        record.flags.append(reason)


def _run_cells(
    session: Session, cells: list[dict[str, str]], deadline: float, record: RunRecord | None
) -> bool:
    """Send the init message and every cell; False when a cell stopped the run."""
    limits = session.limits
    session.channel.deadline = deadline
    session.channel.send(
        {"kind": "init", "forbidden": list(session.forbidden),
         "output_limit": limits.output_chars, "drop_to_uid": session.sandbox.drop_to_uid}
    )  # fmt: skip
    for cell in cells:
        try:
            message = session.run_cell(cell, deadline)
        except RunnerStopped as stopped:
            if record is not None:
                if stopped.timed_out and time.monotonic() >= deadline:
                    record.problem = f"the notebook ran longer than {limits.notebook_timeout:g} s"
                elif stopped.timed_out:
                    record.problem = f"cell {cell['id']} ran longer than {limits.cell_timeout:g} s"
                else:
                    record.problem = stopped.reason
            return False
        if record is not None:
            record.outputs[cell["id"]] = message["outputs"]
            if message.get("truncated"):
                record.truncated.append(cell["id"])
            if message.get("problem"):
                record.problem = _problem_reason(message["problem"], cell["id"], limits)
        if message.get("problem"):
            return False
    return True


def _problem_reason(problem: Any, cell: str, limits: Limits) -> str:
    kind = problem.get("kind") if isinstance(problem, dict) else None
    if kind == "timeout":
        return f"cell {cell} ran longer than {limits.cell_timeout:g} s"
    if kind == "memory":
        return f"cell {cell} ran out of memory (limit {limits.memory_bytes / 1024**3:g} GiB)"
    return f"cell {cell} could not finish"
