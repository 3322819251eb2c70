"""The wire between the grader and the runner in the sandbox, every wait bounded by a deadline.

The grader writes length-prefixed ``marshal`` data (it only ever sends plain data it built
itself: the trusted direction); the student's process answers in JSON lines, read here as
untrusted input: bounded per message and per run, and parsed without trusting its shape.
"""

from __future__ import annotations

import json
import marshal
import math
import os
import select
import sys
import time
from typing import Any

from grader.sandbox import Sandbox

MESSAGE_BYTES_LIMIT = 64 * 1024**2  # one message from the student's process
RUN_BYTES_LIMIT = 256 * 1024**2  # everything it sends in one run
MESSAGE_NESTING_ROOM = 200  # recursion levels for parsing a reply read deep in the stack


def parse_message(line: bytes) -> Any:
    """One JSON line from the student's process; ChannelBroken when it is not JSON.

    A hidden test may have recursed deep into a student's object (numpy walking a proxy as a
    nested sequence) when the reply arrives: a RecursionError here is then this process's own
    stack, not the message. The line is parsed again with room for the runner's nesting (at
    most 64 levels), so that the reply is not lost (the protocol stays in step) and the hidden
    test's own recursion fails its case instead of the whole notebook.
    """
    try:
        return json.loads(line)
    except ValueError:
        raise ChannelBroken("a message that is not JSON") from None
    except RecursionError:
        pass
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + MESSAGE_NESTING_ROOM)
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        raise ChannelBroken("a message that is not JSON") from None
    finally:
        sys.setrecursionlimit(limit)


class ChannelBroken(BaseException):
    """The student's process sent something the protocol does not allow.

    A BaseException, so that a hidden test's ``except Exception`` does not swallow it.
    """


class RunnerStopped(BaseException):
    """The student's process cannot go on: it passed its deadline or it died.

    A BaseException, so that a hidden test's ``except Exception`` does not swallow it.
    """

    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


class Channel:
    """The channel to the runner (marshal out, JSON lines in), every wait bounded by a deadline."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.write_fd = sandbox.process.stdin.fileno()
        self.read_fd = sandbox.process.stdout.fileno()
        os.set_blocking(self.write_fd, False)
        self.buffer = b""
        self.received = 0
        self.deadline = math.inf

    def send(self, message: dict[str, Any]) -> None:
        """Send one message as length-prefixed ``marshal`` data (plain data built here only)."""
        payload = marshal.dumps(message)
        data = memoryview(len(payload).to_bytes(8, "big") + payload)
        while data:
            self._wait(writable=True)
            try:
                written = os.write(self.write_fd, data)
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                raise RunnerStopped(self.sandbox.death_reason("the hidden checks")) from None
            data = data[written:]

    def receive(self, current: str) -> dict[str, Any]:
        while b"\n" not in self.buffer:
            if len(self.buffer) > MESSAGE_BYTES_LIMIT:
                raise ChannelBroken("a message longer than the grader accepts")
            self._wait(writable=False, current=current)
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise RunnerStopped(self.sandbox.death_reason(current))
            self.received += len(chunk)
            if self.received > RUN_BYTES_LIMIT:
                raise ChannelBroken("more data than the grader accepts from one run")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        message = parse_message(line)
        if not isinstance(message, dict):
            raise ChannelBroken("a message that is not an object")
        return message

    def unexpected_data(self) -> bool:
        """True when the runner sent more than it was asked for (student code wrote here)."""
        if self.buffer.strip():
            return True
        try:
            readable, _, _ = select.select([self.read_fd], [], [], 0)
            return bool(readable) and bool(os.read(self.read_fd, 1 << 16).strip())
        except OSError:
            return False

    def _wait(self, writable: bool, current: str = "the hidden checks") -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise RunnerStopped(f"{current} ran too long", timed_out=True)
        fds = ([], [self.write_fd], []) if writable else ([self.read_fd], [], [])
        if not any(select.select(*fds, remaining)):
            raise RunnerStopped(f"{current} ran too long", timed_out=True)
