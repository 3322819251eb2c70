"""The program that runs inside the grading sandbox: a standalone script, no ``grader`` import.

The grader starts ``python -I runner.py`` in a fresh process (inside bubblewrap when available)
and talks to it over a private channel, one JSON object per line:

1. grader -> runner: the *cells job* ``{"cells": [{"id", "kind", "source"}], "forbidden": [...],
   "cell_timeout": s, "output_limit": n, "drop_to_uid": uid or null}``.
2. runner -> grader: ``{"event": "cell", "id": ...}`` before each cell, then
   ``{"event": "cells_done", "outputs": {id: [nbformat outputs]}, "truncated": [ids],
   "problem": ... or null}``.
3. grader -> runner: the *tests job* ``{"tests": [{"id", "source", "seed"}]}``; it is sent only
   after the cells' outputs are recorded, so no student cell can print the hidden tests.
4. runner -> grader: ``{"event": "test", "id": ...}`` before each test, then
   ``{"event": "tests_done", "results": {id: {"cases": [...], "error": ... or null}}}``.

Student code runs in one namespace, cell after cell (setup cells from the master first), like a
notebook. Everything the student's code returns is reported as plain JSON values; the verdicts
are decided by the grader, outside this process.
"""

import ast
import builtins
import importlib.abc
import io
import json
import math
import os
import random
import signal
import sys
import traceback

CHANNEL_OUT = os.dup(1)
CHANNEL_IN = os.dup(0)
STUDENT_FILE_PREFIXES = ("<cell ", "<setup ", "<selfcheck ")


class CellTimeout(BaseException):
    """Raised by the interval timer when a cell or a hidden test runs too long."""


class MissingName(Exception):
    """``check.get(name)`` found no such global in the student's notebook."""


def send(message):
    """Write one JSON message to the grader."""
    data = (json.dumps(message, allow_nan=True) + "\n").encode("utf-8")
    while data:
        written = os.write(CHANNEL_OUT, data)
        data = data[written:]


def receive(stream):
    """Read one JSON message from the grader."""
    line = stream.readline()
    if not line:
        raise SystemExit("the grader closed the channel")
    return json.loads(line)


class ForbiddenImportGuard(importlib.abc.MetaPathFinder):
    """Refuse to import a module the exercise asks students to write themselves."""

    def __init__(self, forbidden):
        self.forbidden = list(forbidden)

    def find_spec(self, fullname, path=None, target=None):
        for name in self.forbidden:
            if fullname == name or fullname.startswith(name + "."):
                raise ImportError(
                    f"this exercise asks you to write it yourself; importing {name} earns no "
                    f"marks (it is not available while grading)",
                    name=fullname,
                )
        return None


class BoundedText(io.TextIOBase):
    """A text stream that keeps at most ``limit`` characters and notes what it dropped."""

    def __init__(self, limit):
        self.limit = limit
        self.parts = []
        self.size = 0
        self.dropped = 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = self.limit - self.size
        kept = text[: max(room, 0)]
        self.parts.append(kept)
        self.size += len(kept)
        self.dropped += len(text) - len(kept)
        return len(text)

    def getvalue(self):
        value = "".join(self.parts)
        if self.dropped:
            value += f"\n... [{self.dropped} characters of output cut]\n"
        return value


def student_frames(tb, sources):
    """The (cell id, line number, line text) of each traceback frame in a student cell."""
    frames = []
    for frame in traceback.extract_tb(tb):
        if frame.filename.startswith(STUDENT_FILE_PREFIXES):
            cell_id = frame.filename.split(" ", 1)[1].rstrip(">")
            lines = sources.get(frame.filename, "").splitlines()
            text = lines[frame.lineno - 1].strip() if 0 < (frame.lineno or 0) <= len(lines) else ""
            frames.append([cell_id, frame.lineno, text])
    return frames


def describe_error(error, sources):
    """A JSON description of an exception: its name, message and the student's own lines."""
    try:
        message = str(error)
    except BaseException:  # a student exception whose __str__ fails
        message = "<message unavailable>"
    return {
        "ename": type(error).__name__,
        "evalue": message[:500],
        "frames": student_frames(error.__traceback__, sources)[-5:],
    }


def to_json_value(value, depth=0):
    """Turn a student's result into a JSON value: numbers, bools, strings, nested lists."""
    if depth > 4:
        raise TypeError("result nested too deeply")
    if value is None or isinstance(value, bool | str):
        return value[:2000] if isinstance(value, str) else value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else float(value)
    if isinstance(value, float):
        return {"float": repr(value)} if not math.isfinite(value) else value
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return to_json_value(value.tolist(), depth + 1)
    if isinstance(value, list | tuple):
        if len(value) > 10000:
            raise TypeError("result has more than 10000 items")
        return [to_json_value(item, depth + 1) for item in value]
    raise TypeError(f"a {type(value).__name__} ({repr(value)[:80]}), not a number or list")


class Timer:
    """An interval timer that interrupts a cell after ``seconds``."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        signal.signal(signal.SIGALRM, self._expire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        return False

    def _expire(self, signum, frame):
        raise CellTimeout()


class StubShell:
    """``get_ipython()`` while grading: magics and shell commands do nothing."""

    def run_line_magic(self, name, line, *args, **kwargs):
        return None

    def run_cell_magic(self, name, line, cell, *args, **kwargs):
        return None

    def system(self, command, *args, **kwargs):
        return None

    getoutput = system


def display(*objects, **kwargs):
    """``display()`` while grading: the text form of each object, like Jupyter's fallback."""
    for obj in objects:
        print(repr(obj))


def run_cell(cell, namespace, sources, cell_timeout, output_limit):
    """Execute one cell; return its nbformat outputs, whether they were cut, and a problem."""
    kind, cell_id, source = cell["kind"], cell["id"], cell["source"]
    filename = f"<{kind if kind != 'solution' else 'cell'} {cell_id}>"
    sources[filename] = source
    stdout, stderr = BoundedText(output_limit), BoundedText(output_limit)
    outputs, problem = [], None
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr
    try:
        with Timer(cell_timeout):
            tree = ast.parse(source, filename=filename)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, filename, "exec"), namespace)
            if last is not None:
                expression = ast.Expression(last.value)
                result = eval(compile(expression, filename, "eval"), namespace)
                if result is not None:
                    outputs.append(("result", repr(result)[:output_limit]))
    except CellTimeout:
        problem = {"kind": "timeout", "cell": cell_id}
        outputs.append(("error", {"ename": "TimeoutError", "evalue": "cell ran too long"}))
    except MemoryError as error:
        problem = {"kind": "memory", "cell": cell_id}
        outputs.append(("error", describe_error(error, sources)))
    except BaseException as error:  # a student's error belongs in their notebook, not here
        outputs.append(("error", describe_error(error, sources)))
    finally:
        sys.stdout, sys.stderr = saved
    nb_outputs, cut = [], bool(stdout.dropped or stderr.dropped)
    for name, stream in (("stdout", stdout), ("stderr", stderr)):
        if stream.size or stream.dropped:
            nb_outputs.append({"output_type": "stream", "name": name, "text": stream.getvalue()})
    for kind_, value in outputs:
        if kind_ == "result":
            nb_outputs.append({"output_type": "execute_result", "text": value})
        else:
            nb_outputs.append({"output_type": "error", **value})
    return nb_outputs, cut, problem


class Check:
    """The ``check`` a hidden test receives: it records one case per call."""

    def __init__(self, namespace, sources):
        self.namespace = namespace
        self.sources = sources
        self.cases = []

    def get(self, name):
        """The student's global ``name``; a clear failure when the notebook does not define it."""
        if name not in self.namespace:
            raise MissingName(name)
        return self.namespace[name]

    def __call__(self, name, compute, *, rel=1e-6, abs=1e-9, hints=()):
        case = {"name": str(name)}
        try:
            case["value"] = to_json_value(compute())
        except CellTimeout:
            raise
        except TypeError as error:
            if error.__traceback__ and student_frames(error.__traceback__, self.sources):
                case["error"] = describe_error(error, self.sources)
            else:
                case["unusable"] = str(error)
        except BaseException as error:  # the student's code raised: a failing case
            case["error"] = describe_error(error, self.sources)
        case["rel"], case["abs"] = float(rel), float(abs)
        case["hints"] = [[str(text), to_json_value(value)] for text, value in hints]
        self.cases.append(case)


def run_test(test, namespace, sources, cell_timeout):
    """Call one graded cell's ``hidden_test(check, rng)``; return its recorded cases."""
    check = Check(namespace, sources)
    result = {"cases": check.cases, "error": None}
    scope = {"__name__": "hidden_test", "math": math, "random": random}
    try:
        with Timer(cell_timeout):
            exec(compile(test["source"], "<hidden>", "exec"), scope)
            scope["hidden_test"](check, random.Random(test["seed"]))
    except CellTimeout:
        result["error"] = {"kind": "timeout"}
    except MissingName as missing:
        result["error"] = {"kind": "missing", "name": str(missing)}
    except BaseException as error:  # a student's error outside a check: fail the cell
        result["error"] = {"kind": "exception", **describe_error(error, sources)}
    return result


def drop_privileges(uid):
    """Become an unprivileged user before any student code runs (sandboxed runs as root)."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def main():
    channel_in = os.fdopen(CHANNEL_IN, "r", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    job = receive(channel_in)
    if job.get("drop_to_uid") is not None:
        drop_privileges(job["drop_to_uid"])
    sys.meta_path.insert(0, ForbiddenImportGuard(job["forbidden"]))
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    namespace["get_ipython"] = StubShell
    namespace["display"] = display
    sources = {}
    outputs, truncated, problem = {}, [], None
    for cell in job["cells"]:
        send({"event": "cell", "id": cell["id"]})
        outputs[cell["id"]], cut, problem = run_cell(
            cell, namespace, sources, job["cell_timeout"], job["output_limit"]
        )
        if cut:
            truncated.append(cell["id"])
        if problem is not None:
            break
    send({"event": "cells_done", "outputs": outputs, "truncated": truncated, "problem": problem})
    if problem is not None:
        return
    tests = receive(channel_in)["tests"]
    results = {}
    for test in tests:
        send({"event": "test", "id": test["id"]})
        results[test["id"]] = run_test(test, namespace, sources, job["cell_timeout"])
    send({"event": "tests_done", "results": results})


if __name__ == "__main__":
    main()
    os._exit(0)  # skip interpreter shutdown: student objects' finalizers may not run past here
