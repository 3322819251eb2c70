"""The grader's side of the conversation with the runner in the sandbox."""

from __future__ import annotations

import json
import queue
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from grader.sandbox import Limits, launch

CHANNEL_BYTES_LIMIT = 32 * 1024 * 1024


@dataclass
class RunRecord:
    """What one sandboxed run reported: cell outputs, hidden-test results, or why it stopped."""

    outputs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    truncated: list[str] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    problem: str | None = None
    isolation: str = "bubblewrap"


class _Channel:
    """Lines from the runner's private channel, read by a thread so waits can time out."""

    def __init__(self, stream):
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self.thread.start()

    def _pump(self, stream) -> None:
        total = 0
        for line in iter(stream.readline, b""):
            total += len(line)
            if total > CHANNEL_BYTES_LIMIT:
                break
            self.lines.put(line)
        self.lines.put(None)

    def next_message(self, deadline: float) -> dict[str, Any] | None:
        """The next message; None when the runner ended; TimeoutError past ``deadline``."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        try:
            line = self.lines.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError from None
        if line is None:
            return None
        message = json.loads(line)
        if not isinstance(message, dict):
            raise ValueError("not a message")
        return message


def run_in_sandbox(
    cells: list[dict[str, str]],
    tests: list[dict[str, Any]],
    forbidden: tuple[str, ...],
    limits: Limits,
    isolation: str,
) -> RunRecord:
    """Run setup/solution cells, then the hidden tests, in one fresh sandboxed process."""
    record = RunRecord(isolation=isolation)
    with tempfile.TemporaryDirectory(prefix="grader-run-") as workdir:
        sandbox = launch(forbidden, limits, isolation, workdir)
        uid = sandbox.drop_to_uid
        job = {
            "cells": cells,
            "forbidden": list(forbidden),
            "cell_timeout": limits.cell_timeout,
            "output_limit": limits.output_chars,
            "drop_to_uid": uid,
        }
        try:
            _converse(sandbox, job, tests, limits, record)
        finally:
            sandbox.stop()
    return record


def _converse(sandbox, job, tests, limits: Limits, record: RunRecord) -> None:
    process = sandbox.process
    channel = _Channel(process.stdout)
    started = time.monotonic()
    notebook_deadline = started + limits.notebook_timeout
    step_grace = limits.cell_timeout + 5.0
    current, phase = "start-up", "cells"
    expected = {"cells": ("cell", "cells_done"), "tests": ("test", "tests_done")}
    try:
        _send(process, job)
        while True:
            deadline = min(notebook_deadline, time.monotonic() + step_grace)
            message = channel.next_message(deadline)
            if message is None:
                record.problem = sandbox.death_reason(current)
                return
            event = message.get("event")
            if event not in expected[phase]:
                raise ValueError(f"{event} during the {phase} phase")
            if event in ("cell", "test"):
                current = f"{event} {message.get('id')}"
            elif event == "cells_done":
                record.outputs = message.get("outputs") or {}
                record.truncated = [str(i) for i in message.get("truncated") or []]
                problem = message.get("problem")
                if problem:
                    record.problem = _problem_reason(problem, limits)
                    return
                _send(process, {"tests": tests})
                phase = "tests"
            else:
                record.results = message.get("results") or {}
                _expect_end(channel)
                return
    except TimeoutError:
        if time.monotonic() >= notebook_deadline:
            record.problem = f"the notebook ran longer than {limits.notebook_timeout:g} s"
        else:
            record.problem = f"{current} ran longer than {limits.cell_timeout:g} s"
    except (ValueError, BrokenPipeError):
        record.problem = "the notebook broke the grader's channel (wrote to it or closed it)"


def _expect_end(channel: _Channel) -> None:
    """After the last message the runner exits: anything more was written by student code."""
    try:
        if channel.next_message(time.monotonic() + 2.0) is not None:
            raise ValueError("a message after the last one")
    except TimeoutError:
        pass  # something still holds the channel open; it is killed with the run


def _send(process, message: dict[str, Any]) -> None:
    process.stdin.write((json.dumps(message) + "\n").encode("utf-8"))
    process.stdin.flush()


def _problem_reason(problem: dict[str, Any], limits: Limits) -> str:
    cell = problem.get("cell")
    if problem.get("kind") == "timeout":
        return f"cell {cell} ran longer than {limits.cell_timeout:g} s"
    if problem.get("kind") == "memory":
        return f"cell {cell} ran out of memory (limit {limits.memory_bytes / 1024**3:g} GiB)"
    return f"cell {cell} could not finish"
