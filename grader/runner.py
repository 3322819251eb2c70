"""The program that runs inside the grading sandbox: a standalone script, no ``grader`` import.

It holds the student's code and nothing of the hidden tests. The grader (``grader.driver``)
talks to it over a private channel (``Channel``), one message at a time:

1. ``{"kind": "init", "forbidden": [...], "output_limit": n, "drop_to_uid": uid or null}``.
2. One ``{"kind": "cell", "id", "cell_kind", "source", "timeout"}`` at a time, each answered
   by ``{"kind": "cell_done", "outputs": [...], "truncated": bool, "problem": ... or null}``.
   The grader sends the next cell only after that answer, and times each cell itself.
3. Probes: ``{"kind": "batch", "segments": [{"ops": [...], "value": ...}, ...]}``. Each op
   computes one value from the student's objects (a global, a call, an attribute, an operator)
   and stores it under the handle the grader chose; each segment's ``value`` names what the
   grader wants back once its ops ran. Segments are the cases of a hidden test sent together:
   an error in one fails the rest of that segment only. Answered by ``{"kind": "reply",
   "results": [{"value": ...} or {"error": ...}, ...]}``, one per segment. While it runs,
   student code may call a function of the grader's (a *callback*, e.g. the ``f`` a
   finite-difference exercise differentiates):
   ``{"kind": "callback", "cb": h, "args": [...], "kwargs": {...}}``, answered by
   ``{"kind": "return", "ops": [...], "value": ...}`` or ``{"kind": "raise", ...}``.

Values cross the channel as data (numbers, strings, lists, tuples, dicts, numpy arrays as
base64 bytes, numpy scalars) or as handles: ``{"$": "ref", "h": k}`` names an object living here,
``{"$": "cb", "h": k}`` a function living in the grader. The hidden tests' source, seeds,
tolerances and expected values never come here: only the concrete inputs of each case.
"""

import ast
import base64
import builtins
import importlib.abc
import io
import json
import marshal
import operator
import os
import signal
import sys
import traceback

STUDENT_FILE_PREFIXES = ("<cell ", "<setup ", "<selfcheck ")
MAX_ITEMS = 2_000_000  # numbers and handles in one value sent to the grader
MAX_DEPTH = 40
MAX_TEXT = 100_000
OPERATORS = {
    name: getattr(operator, name)
    for name in (
        "add sub mul truediv floordiv mod pow matmul neg pos abs invert lt le eq ne gt ge "
        "getitem setitem delitem contains and_ or_ xor lshift rshift"
    ).split()
}


class CellTimeout(BaseException):
    """Raised by the interval timer when a cell runs too long."""


class ProtocolError(SystemExit):
    """The channel carried something the protocol does not allow: stop."""


def builtin_list(value):
    """``list(value)``, refusing more than ``MAX_ITEMS`` items (an endless iterator)."""
    items = []
    for item in value:
        items.append(item)
        if len(items) > MAX_ITEMS:
            raise ValueError(f"more than {MAX_ITEMS} items")
    return items


def graph(root, attribute):
    """Every object reachable from ``root`` through ``attribute`` (a node's inputs), and edges.

    Returns ``[nodes, edges]``: ``nodes[0]`` is ``root``, ``edges[i]`` the positions in
    ``nodes`` of ``getattr(nodes[i], attribute)``, in order. One probe for a whole graph.
    """
    nodes, edges, position = [root], [], {id(root): 0}
    while len(edges) < len(nodes):
        row = []
        for child in builtin_list(getattr(nodes[len(edges)], attribute)):
            if id(child) not in position:
                position[id(child)] = len(nodes)
                nodes.append(child)
            row.append(position[id(child)])
        edges.append(row)
        if len(nodes) > MAX_ITEMS:
            raise ValueError(f"more than {MAX_ITEMS} nodes")
    return [nodes, edges]


def strict_call(function, *args):
    """``function(*args)`` with numpy's overflow, division and invalid warnings as errors."""
    import numpy

    with numpy.errstate(over="raise", divide="raise", invalid="raise"):
        return function(*args)


def builtin_map(function, items):
    """``[function(item) for item in items]`` (bounded like :func:`builtin_list`)."""
    return [function(item) for item in builtin_list(items)]


def builtin_sum(items, start=0):
    """``sum(items, start)``: Python's own, so ``0 + first`` runs as in a student's ``sum``."""
    return sum(builtin_list(items), start)


def fold(name, start, items):
    """``start <op> items[0] <op> items[1] ...`` from the left, ``op`` one of ``OPERATORS``."""
    combine, result = OPERATORS[name], start
    for item in builtin_list(items):
        result = combine(result, item)
    return result


def asarray(value):
    import numpy

    return numpy.asarray(value)


BUILTINS = {
    "len": len,
    "float": float,
    "int": int,
    "bool": bool,
    "str": str,
    "repr": repr,
    "complex": complex,
    "hash": hash,
    "index": operator.index,
    "format": format,
    "round": round,
    "isinstance": isinstance,
    "issubclass": issubclass,
    "next": next,
    "list": builtin_list,
    "asarray": asarray,
    "graph": graph,
    "typename": lambda value: type(value).__name__,
    "place": lambda value: value,
    "strict_call": strict_call,
    "identical": lambda a, b: a is b,
    "map": builtin_map,
    "sum": builtin_sum,
    "fold": fold,
}


class Channel:
    """The private channel to the grader on two inherited file descriptors.

    The grader writes length-prefixed ``marshal`` data (fast, and it only ever holds plain
    data: the grader is the trusted side); this process answers in JSON lines, which the
    grader parses as untrusted input.
    """

    def __init__(self):
        self.writer = os.dup(1)
        self.reader = os.fdopen(os.dup(0), "rb")

    def send(self, message):
        data = (json.dumps(message, allow_nan=True, separators=(",", ":")) + "\n").encode()
        while data:
            written = os.write(self.writer, data)
            data = data[written:]

    def receive(self):
        header = self.reader.read(8)
        if len(header) < 8:
            raise ProtocolError("the grader closed the channel")
        payload = self.reader.read(int.from_bytes(header, "big"))
        message = marshal.loads(payload)
        if not isinstance(message, dict):
            raise ProtocolError("not a message")
        return message


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
            frames.append([cell_id, frame.lineno, text[:200]])
    return frames


def describe_error(error, sources):
    """A JSON description of an exception: its name, message and the student's own lines."""
    try:
        message = str(error)
    except BaseException:  # a student exception whose __str__ fails
        message = "<message unavailable>"
    description = {
        "ename": type(error).__name__[:100],
        "evalue": message[:500],
        "frames": student_frames(error.__traceback__, sources)[-5:],
    }
    if isinstance(error, SyntaxError):
        description["lineno"] = error.lineno
        description["text"] = (error.text or "").strip()[:200]
    return description


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


def run_cell(cell, namespace, sources, output_limit):
    """Execute one cell; return its nbformat outputs, whether they were cut, and a problem."""
    kind, cell_id, source = cell["cell_kind"], cell["id"], cell["source"]
    filename = f"<{kind if kind != 'solution' else 'cell'} {cell_id}>"
    sources[filename] = source
    stdout, stderr = BoundedText(output_limit), BoundedText(output_limit)
    outputs, problem = [], None
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr
    try:
        with Timer(cell["timeout"]):
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


class Failed:
    """The value of a handle whose operation raised: using it raises the same error again."""

    def __init__(self, error):
        self.error = error


class StudentObjects:
    """The objects the grader's probes refer to, and their encoding as channel data."""

    def __init__(self, channel, namespace, sources):
        self.channel = channel
        self.namespace = namespace
        self.sources = sources
        self.objects = {}  # handle -> object (positive: chosen by the grader; negative: here)
        self.canonical = {}  # id(object) -> negative handle, so one object has one handle
        self.callbacks = {}

    # --- values from the grader --------------------------------------------------------

    def decode(self, value):
        kind = type(value)
        if kind is list:
            return [self.decode(item) for item in value]
        if kind is not dict:
            return value
        tag = value.get("$")
        if tag == "ref":
            found = self.objects[value["h"]]
            if isinstance(found, Failed):
                raise found.error
            return found
        if tag == "cb":
            return self.callbacks.setdefault(value["h"], Callback(self, value["h"]))
        if tag == "tuple":
            return tuple(self.decode(item) for item in value["items"])
        if tag == "dict":
            return {self.decode(k): self.decode(v) for k, v in value["items"]}
        if tag == "complex":
            return complex(value["re"], value["im"])
        if tag == "slice":
            return slice(*[self.decode(part) for part in value["items"][:3]])
        if tag == "int":
            return int(value["v"])
        if tag in ("nd", "npscalar"):
            import numpy

            if tag == "npscalar":
                return numpy.dtype(value["dtype"]).type(self.decode(value["v"]))
            data = base64.b64decode(value["b64"])
            return numpy.frombuffer(data, dtype=value["dtype"]).reshape(value["shape"]).copy()
        raise ProtocolError(f"unknown value tag {tag!r}")

    # --- values to the grader ----------------------------------------------------------

    def encode(self, value):
        budget = [MAX_ITEMS]
        return self._encode(value, 0, budget)

    def _encode(self, value, depth, budget):
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_DEPTH:
            raise ValueError("the value is too large or too deeply nested to send")
        kind = type(value)
        if value is None or kind is bool:
            return value
        if kind is str:
            if len(value) > MAX_TEXT:
                raise ValueError(f"a string of more than {MAX_TEXT} characters")
            return value
        if kind is int:
            return value if abs(value) < 2**63 else {"$": "int", "v": str(value)}
        if kind is float:
            return value
        if kind is complex:
            return {"$": "complex", "re": value.real, "im": value.imag}
        if kind is list:
            return [self._encode(item, depth + 1, budget) for item in value]
        if kind is tuple:
            return {"$": "tuple", "items": [self._encode(v, depth + 1, budget) for v in value]}
        if kind is dict:
            items = [
                [self._encode(k, depth + 1, budget), self._encode(v, depth + 1, budget)]
                for k, v in value.items()
            ]
            return {"$": "dict", "items": items}
        if kind is slice:
            parts = (value.start, value.stop, value.step)
            return {"$": "slice", "items": [self._encode(p, depth + 1, budget) for p in parts]}
        if kind is Callback and value.objects is self:
            return {"$": "cb", "h": value.handle}
        numeric = self._numpy_value(value, budget)
        if numeric is not None:
            return numeric
        return {"$": "ref", "h": self.handle_of(value)}

    def _numpy_value(self, value, budget):
        numpy = sys.modules.get("numpy")
        if numpy is None or type(value).__module__ != "numpy":
            return None
        if type(value) is numpy.ndarray and value.dtype.kind in "biufc":
            budget[0] -= value.size
            if budget[0] < 0:
                raise ValueError("the array is too large to send")
            data = base64.b64encode(numpy.ascontiguousarray(value).tobytes()).decode("ascii")
            return {"$": "nd", "dtype": value.dtype.str, "shape": list(value.shape), "b64": data}
        if isinstance(value, numpy.generic) and value.dtype.kind in "biufc":
            item = value.item()
            encoded = {"$": "complex", "re": item.real, "im": item.imag}
            if not isinstance(item, complex):
                encoded = item
            return {"$": "npscalar", "dtype": value.dtype.str, "v": encoded}
        return None

    def handle_of(self, value):
        handle = self.canonical.get(id(value))
        if handle is None:
            handle = -(len(self.canonical) + 1)
            self.canonical[id(value)] = handle
            self.objects[handle] = value
        return handle

    # --- operations ----------------------------------------------------------------------

    def perform(self, op):
        """Compute one op's value from its (decoded) operands."""
        do = op["do"]
        if do == "op":
            return OPERATORS[op["name"]](*[self.decode(arg) for arg in op["args"]])
        if do == "call":
            function = self.decode(op["f"])
            args = [self.decode(arg) for arg in op["args"]]
            kwargs = {str(k): self.decode(v) for k, v in op.get("kwargs", {}).items()}
            return function(*args, **kwargs)
        if do == "getattr":
            return getattr(self.decode(op["obj"]), op["name"])
        if do == "setattr":
            return setattr(self.decode(op["obj"]), op["name"], self.decode(op["value"]))
        if do == "builtin":
            return BUILTINS[op["name"]](*self.decode(op["args"]))
        if do == "global":
            name = op["name"]
            if name not in self.namespace:
                raise NameError(f"name {name!r} is not defined")
            return self.namespace[name]
        raise ProtocolError(f"unknown op {do!r}")

    def run_ops(self, ops):
        """Run ops in order; after the first error, every later handle fails with it too."""
        for index, op in enumerate(ops):
            try:
                self.objects[op["out"]] = self.perform(op)
            except ProtocolError:
                raise
            except BaseException as error:
                failure = Failed(error)
                for rest in ops[index:]:
                    self.objects[rest["out"]] = failure
                return error
        return None

    def resolve(self, segment):
        """One segment's result: its ``value`` as data and handles, or the student's error."""
        error = self.run_ops(segment.get("ops", []))
        try:
            if error is not None:
                raise error
            return {"value": self.encode(self.decode(segment["value"]))}
        except ProtocolError:
            raise
        except BaseException as failure:  # the student's code raised: the grader is told
            return {"error": describe_error(failure, self.sources)}

    def serve(self, message):
        """Answer one batch request from the grader."""
        if message.get("kind") != "batch":
            raise ProtocolError(f"unexpected message {message.get('kind')!r}")
        results = [self.resolve(segment) for segment in message["segments"]]
        self.channel.send({"kind": "reply", "results": results})

    def call_back(self, handle, args, kwargs):
        """Call the grader's function ``handle``; serve its nested requests until it returns."""
        self.channel.send(
            {"kind": "callback", "cb": handle, "args": self.encode(list(args)),
             "kwargs": self.encode(dict(kwargs))}
        )  # fmt: skip
        while True:
            message = self.channel.receive()
            kind = message.get("kind")
            if kind == "batch":
                self.serve(message)
                continue
            if kind not in ("return", "raise"):
                raise ProtocolError(f"unexpected message {kind!r}")
            error = self.run_ops(message.get("ops", []))
            if error is not None:
                raise error
            if kind == "raise":
                raise grader_exception(message.get("error", {}))
            return self.decode(message.get("value"))


class Callback:
    """A function of the grader's, callable from student code (its source stays there)."""

    def __init__(self, objects, handle):
        self.objects = objects
        self.handle = handle

    def __call__(self, *args, **kwargs):
        return self.objects.call_back(self.handle, args, kwargs)

    def __repr__(self):
        return f"<function {self.handle} of the grader>"


def grader_exception(error):
    """The exception a grader's function raised, re-raised in student code."""
    kind = getattr(builtins, str(error.get("ename")), None)
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        kind = RuntimeError
    return kind(str(error.get("evalue", "")))


def drop_privileges(uid):
    """Become an unprivileged user before any student code runs (sandboxed runs as root)."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def main():
    channel = Channel()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    init = channel.receive()
    if init.get("drop_to_uid") is not None:
        drop_privileges(init["drop_to_uid"])
    sys.meta_path.insert(0, ForbiddenImportGuard(init["forbidden"]))
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    namespace["get_ipython"] = StubShell
    namespace["display"] = display
    sources = {}
    objects = StudentObjects(channel, namespace, sources)
    while True:
        message = channel.receive()
        if message.get("kind") == "cell":
            outputs, cut, problem = run_cell(message, namespace, sources, init["output_limit"])
            channel.send(
                {"kind": "cell_done", "outputs": outputs, "truncated": cut, "problem": problem}
            )
        elif message.get("kind") == "end":
            return
        else:
            objects.serve(message)


if __name__ == "__main__":
    try:
        main()
    except ProtocolError:
        pass
    os._exit(0)  # skip interpreter shutdown: student objects' finalizers may not run past here
