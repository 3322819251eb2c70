"""The grader's side of a sandboxed run: the cells, then the hidden tests driven from outside.

The student's code runs in the sandbox (``grader/runner.py``); the hidden tests run here, in
the grader's process, and reach the student's objects through handles (:class:`Proxy`):
``Value = check.get("Value")`` is a proxy, ``Value(1.5)``, ``v.tanh()`` or ``v.grad`` are
operations on it. Operations are queued and sent in one batch when a value is needed (a case's
result, an ``if`` on a student value, ``len``, iteration), so a graph of 5,000 nodes costs one
round trip. Functions of the hidden test that student code calls (the ``f`` of a
finite-difference exercise) are *callbacks*: the student's process sends their arguments and
gets their results, never their code.

What reaches the student's process is only the concrete inputs of each case. The hidden
test's source, its seed, tolerances, expected values and hints stay here; so whatever the
student's code patches in its own process, the worst it can do is return wrong values or break
the channel (flagged). Every wait on the channel has a deadline measured here from the start
of the cell or test; nothing the student's process sends extends it.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import json
import marshal
import math
import os
import random
import select
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.sandbox import Limits, Sandbox, launch
from grader.text import clean

MESSAGE_BYTES_LIMIT = 64 * 1024**2  # one message from the student's process
RUN_BYTES_LIMIT = 256 * 1024**2  # everything it sends in one run
DECODE_DEPTH_LIMIT = 64
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


class MissingName(Exception):
    """``check.get(name)``: the student's notebook does not define ``name``."""


class StudentError(Exception):
    """An exception raised by the student's code; ``description`` is the runner's report."""

    description: dict[str, Any]


_STUDENT_ERRORS: dict[str, type[StudentError]] = {}


def student_error(description: dict[str, Any]) -> StudentError:
    """An exception standing for the student's: an instance of the builtin class it names too,
    so that ``except TypeError`` in a hidden test catches a student's TypeError."""
    ename = clean(description.get("ename", "Exception"), 100)
    base = getattr(builtins, ename, None)
    if not (isinstance(base, type) and issubclass(base, Exception)) or base is StopIteration:
        base = Exception
    if ename not in _STUDENT_ERRORS:
        bases = (StudentError,) if base is Exception else (StudentError, base)
        _STUDENT_ERRORS[ename] = type(f"Student{ename}", bases, {})
    error = _STUDENT_ERRORS[ename](f"{ename}: {clean(description.get('evalue', ''), 300)}")
    error.description = description
    return error


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
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            raise ChannelBroken("a message that is not JSON") from None
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


class Session:
    """One sandboxed runner: its cells, then probes on its objects through proxies."""

    def __init__(self, sandbox: Sandbox, limits: Limits, forbidden: tuple[str, ...]) -> None:
        self.sandbox = sandbox
        self.limits = limits
        self.forbidden = forbidden
        self.channel = Channel(sandbox)
        self.pending: list[dict[str, Any]] = []
        self.next_handle = 1
        self.proxies: dict[int, Proxy] = {}
        self.callbacks: dict[int, Any] = {}
        self.callback_ids: dict[int, int] = {}

    # --- cells --------------------------------------------------------------------------

    def run_cell(self, cell: dict[str, str], deadline: float) -> dict[str, Any]:
        """Run one cell; its timeout counts from now, whatever the student's process sends."""
        timeout = self.limits.cell_timeout
        self.channel.deadline = min(deadline, time.monotonic() + timeout + 1.0)
        self.channel.send(
            {"kind": "cell", "id": cell["id"], "cell_kind": cell["kind"],
             "source": cell["source"], "timeout": timeout}
        )  # fmt: skip
        message = self.channel.receive(f"cell {cell['id']}")
        outputs = message.get("outputs")
        if message.get("kind") != "cell_done" or not isinstance(outputs, list):
            raise ChannelBroken(f"an unexpected message while cell {cell['id']} ran")
        message["outputs"] = [output for output in outputs[:10] if isinstance(output, dict)]
        return message

    # --- values ---------------------------------------------------------------------------

    def queue(self, op: dict[str, Any]) -> Proxy:
        """Queue one operation on student objects; its result is a proxy used later."""
        handle = op["out"] = self.next_handle
        self.next_handle += 1
        self.pending.append(op)
        return Proxy(self, handle)

    def resolve(self, value: Any) -> Any:
        """Run the queued operations and get ``value`` as data, student objects as proxies.

        What the student's process receives is the queued operations and the handles in
        ``value``; a value with no student object in it is not sent at all.
        """
        if not self.pending and not contains_proxy(value):
            return value
        ops, self.pending = self.pending, []
        self.channel.send({"kind": "batch", "ops": ops, "then": {"value": self.encode(value)}})
        while True:
            message = self.channel.receive("the hidden checks")
            kind = message.get("kind")
            if kind == "callback":
                self._answer_callback(message)
            elif kind == "reply":
                if "error" in message:
                    raise student_error(_description(message["error"]))
                return self.decode(message.get("value"))
            else:
                raise ChannelBroken(f"an unexpected {clean(kind, 40)!r} message")

    def builtin(self, name: str, *args: Any) -> Any:
        """A builtin applied in the student's process (``len``, ``float``, ...), resolved now."""
        return self.resolve(self.queue({"do": "builtin", "name": name, "args": self.encode(args)}))

    def encode(self, value: Any, depth: int = 0) -> Any:
        """A value of the hidden test as channel data; functions become callbacks."""
        kind = type(value)
        if kind is float or kind is str or kind is bool or value is None:
            return value
        if kind is Proxy:
            if value._adproxy_session is not self:
                raise TypeError("a student object of another run")
            return {"$": "ref", "h": value._adproxy_handle}
        if depth > DECODE_DEPTH_LIMIT:
            raise TypeError("a value nested too deeply to pass to the student's code")
        if kind is int:
            return value if abs(value) < 2**63 else {"$": "int", "v": str(value)}
        if kind is complex:
            return {"$": "complex", "re": value.real, "im": value.imag}
        if kind in (list, tuple):
            items = [self.encode(item, depth + 1) for item in value]
            return items if kind is list else {"$": "tuple", "items": items}
        if kind is dict:
            pairs = [
                [self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()
            ]
            return {"$": "dict", "items": pairs}
        if kind is slice:
            parts = (value.start, value.stop, value.step)
            return {"$": "slice", "items": [self.encode(part, depth + 1) for part in parts]}
        if isinstance(value, np.ndarray | np.generic) and value.dtype.kind in "biufc":
            return _encode_numpy(value)
        if callable(value):
            return {"$": "cb", "h": self._callback_handle(value)}
        raise TypeError(f"cannot pass a {kind.__name__} to the student's code")

    def decode(self, value: Any, depth: int = 0) -> Any:
        """Channel data from the student's process as values and proxies (never code)."""
        if depth > DECODE_DEPTH_LIMIT:
            raise ChannelBroken("a value nested too deeply")
        if isinstance(value, list):
            return [self.decode(item, depth + 1) for item in value]
        if not isinstance(value, dict):
            return value
        tag = value.get("$")
        try:
            if tag == "ref":
                return self._proxy(int(value["h"]))
            if tag == "cb":
                return self.callbacks[int(value["h"])]
            if tag == "tuple":
                return tuple(self.decode(item, depth + 1) for item in value["items"])
            if tag == "dict":
                return {
                    self.decode(k, depth + 1): self.decode(v, depth + 1) for k, v in value["items"]
                }
            if tag == "complex":
                return complex(float(value["re"]), float(value["im"]))
            if tag == "slice":
                return slice(*[self.decode(part, depth + 1) for part in value["items"][:3]])
            if tag == "int":
                return int(str(value["v"]))
            if tag in ("nd", "npscalar"):
                return _decode_numpy(value, self.decode)
        except (KeyError, TypeError, ValueError, binascii.Error) as error:
            raise ChannelBroken(f"a malformed value ({clean(error, 80)})") from None
        raise ChannelBroken("a value of an unknown kind")

    def _proxy(self, handle: int) -> Proxy:
        if handle >= 0:
            raise ChannelBroken("a handle the student's process may not name")
        if handle not in self.proxies:
            self.proxies[handle] = Proxy(self, handle)
        return self.proxies[handle]

    def _callback_handle(self, function: Any) -> int:
        key = id(function)
        if key not in self.callback_ids:
            handle = len(self.callbacks) + 1
            self.callback_ids[key] = handle
            self.callbacks[handle] = function
        return self.callback_ids[key]

    def _answer_callback(self, message: dict[str, Any]) -> None:
        """Run the hidden test's function the student's code called; send back its result."""
        try:
            function = self.callbacks[int(message.get("cb"))]
            args = self.decode(message.get("args"))
            kwargs = self.decode(message.get("kwargs"))
        except (KeyError, TypeError, ValueError):
            raise ChannelBroken("a call of a function the grader never passed") from None
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise ChannelBroken("a call with malformed arguments")
        try:
            result = self.encode(function(*args, **{str(k): v for k, v in kwargs.items()}))
        except StudentError as error:
            reply = {"kind": "raise", "error": error.description}
        except Exception as error:  # the hidden test's function failed on what it was given
            reply = {"kind": "raise", "error": {"ename": type(error).__name__,
                                                "evalue": clean(error, 200)}}  # fmt: skip
        else:
            reply = {"kind": "return", "value": result}
        ops, self.pending = self.pending, []
        self.channel.send({**reply, "ops": ops})

    def close(self) -> list[str]:
        """Stop the sandbox; return the limits it hit and whether it wrote unasked."""
        wrote = self.channel.unexpected_data()
        self.sandbox.stop()
        reasons = self.sandbox.limit_reasons()
        if wrote:
            reasons.append("the notebook wrote to the grader's channel itself (broke the channel)")
        return reasons


def _encode_numpy(value: np.ndarray | np.generic) -> dict[str, Any]:
    if isinstance(value, np.generic):
        item = value.item()
        if isinstance(item, complex):
            item = {"$": "complex", "re": item.real, "im": item.imag}
        return {"$": "npscalar", "dtype": value.dtype.str, "v": item}
    data = base64.b64encode(np.ascontiguousarray(value).tobytes()).decode("ascii")
    return {"$": "nd", "dtype": value.dtype.str, "shape": list(value.shape), "b64": data}


def _decode_numpy(value: dict[str, Any], decode: Any) -> np.ndarray | np.generic:
    """A numeric numpy array or scalar; its dtype, shape and byte count are checked."""
    dtype = np.dtype(str(value["dtype"]))
    if dtype.kind not in "biufc":
        raise ValueError("not a numeric dtype")
    if value["$"] == "npscalar":
        return dtype.type(decode(value["v"]))
    shape = [int(n) for n in value["shape"]]
    data = base64.b64decode(str(value["b64"]), validate=True)
    if (
        len(shape) > 32
        or min(shape, default=0) < 0
        or len(data) != math.prod(shape) * dtype.itemsize
    ):
        raise ValueError("the array's shape does not fit its data")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def _description(error: Any) -> dict[str, Any]:
    """A student's error report, checked and bounded (it comes from their process)."""
    if not isinstance(error, dict):
        raise ChannelBroken("a malformed error report")
    frames = error.get("frames") if isinstance(error.get("frames"), list) else []
    kept = []
    for frame in frames[-5:]:
        if isinstance(frame, list) and len(frame) == 3:
            kept.append([clean(frame[0], 80), frame[1] if type(frame[1]) is int else 0,
                         clean(frame[2], 200)])  # fmt: skip
    description = {
        "ename": clean(error.get("ename"), 100),
        "evalue": clean(error.get("evalue"), 500),
        "frames": kept,
    }
    if type(error.get("lineno")) is int:
        description["lineno"] = error["lineno"]
        description["text"] = clean(error.get("text", ""), 200)
    return description


def to_json_value(value: Any, depth: int = 0) -> Any:
    """A resolved result as plain JSON: numbers, bools, strings, nested lists (as graded)."""
    if depth > 4:
        raise TypeError("result nested too deeply")
    if isinstance(value, Proxy):
        raise TypeError("an object of your own class, not a number or list")
    if value is None or isinstance(value, bool | str):
        return value[:2000] if isinstance(value, str) else value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else float(value)
    if isinstance(value, float):
        return {"float": repr(value)} if not math.isfinite(value) else value
    if isinstance(value, np.ndarray | np.generic):
        return to_json_value(value.tolist(), depth + 1)
    if isinstance(value, list | tuple):
        if len(value) > 10000:
            raise TypeError("result has more than 10000 items")
        return [to_json_value(item, depth + 1) for item in value]
    raise TypeError(f"a {type(value).__name__} ({repr(value)[:80]}), not a number or list")


def contains_proxy(value: Any, depth: int = 0) -> bool:
    """True when a value of the hidden test holds a student object somewhere."""
    if isinstance(value, Proxy):
        return True
    if isinstance(value, list | tuple) and depth < DECODE_DEPTH_LIMIT:
        return any(contains_proxy(item, depth + 1) for item in value)
    if isinstance(value, dict) and depth < DECODE_DEPTH_LIMIT:
        return any(contains_proxy(v, depth + 1) for item in value.items() for v in item)
    return False


_PASSTHROUGH_DUNDERS = ("__name__", "__qualname__")


class Proxy:
    """A student object (or the result of a queued operation on student objects).

    Operators, calls and attributes are queued in the student's process; conversions
    (``bool``, ``len``, ``float``, iteration, ``numpy.asarray``) resolve at once. Proxies that
    come back in resolved values are canonical: one student object, one proxy (``is`` and
    ``id`` work); a proxy of a queued operation is its own object until resolved with
    ``check.value``.
    """

    __slots__ = ("_adproxy_session", "_adproxy_handle")

    def __init__(self, session: Session, handle: int) -> None:
        object.__setattr__(self, "_adproxy_session", session)
        object.__setattr__(self, "_adproxy_handle", handle)

    def _adproxy_op(self, do: str, **fields: Any) -> Proxy:
        session = self._adproxy_session
        return session.queue({"do": do, **fields})

    def _adproxy_now(self, name: str, *args: Any) -> Any:
        return self._adproxy_session.builtin(name, self, *args)

    def _adproxy_operator(self, name: str, *args: Any) -> Proxy:
        session = self._adproxy_session
        return self._adproxy_op("op", name=name, args=session.encode(list(args)))

    def __getattr__(self, name: str) -> Proxy:
        if name.startswith("__") and name.endswith("__") and name not in _PASSTHROUGH_DUNDERS:
            raise AttributeError(name)
        return self._adproxy_op("getattr", obj=self._adproxy_ref(), name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        session = self._adproxy_session
        self._adproxy_op("setattr", obj=self._adproxy_ref(), name=name, value=session.encode(value))

    def _adproxy_ref(self) -> dict[str, Any]:
        return {"$": "ref", "h": self._adproxy_handle}

    def __call__(self, *args: Any, **kwargs: Any) -> Proxy:
        session = self._adproxy_session
        encode = session.encode
        return session.queue(
            {"do": "call", "f": {"$": "ref", "h": self._adproxy_handle},
             "args": [encode(arg) for arg in args],
             "kwargs": {k: encode(v) for k, v in kwargs.items()}}
        )  # fmt: skip

    def __getitem__(self, key: Any) -> Proxy:
        return self._adproxy_operator("getitem", self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._adproxy_operator("setitem", self, key, value)

    def __bool__(self) -> bool:
        return bool(self._adproxy_now("bool"))

    def __len__(self) -> int:
        return int(self._adproxy_now("len"))

    def __iter__(self):
        return iter(self._adproxy_now("list"))

    def __contains__(self, item: Any) -> bool:
        return bool(self._adproxy_operator("contains", self, item)._adproxy_now("bool"))

    def __float__(self) -> float:
        return float(self._adproxy_now("float"))

    def __int__(self) -> int:
        return int(self._adproxy_now("int"))

    def __index__(self) -> int:
        return int(self._adproxy_now("index"))

    def __complex__(self) -> complex:
        return complex(self._adproxy_now("complex"))

    def __str__(self) -> str:
        return str(self._adproxy_now("str"))

    def __repr__(self) -> str:
        return str(self._adproxy_now("repr"))

    def __format__(self, spec: str) -> str:
        return str(self._adproxy_now("format", spec))

    def __hash__(self) -> int:
        return int(self._adproxy_now("hash"))

    def __round__(self, digits: int | None = None) -> Any:
        return self._adproxy_now("round", digits)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self._adproxy_now("asarray"), dtype=dtype)

    def __instancecheck__(self, instance: Any) -> bool:
        session = self._adproxy_session
        return bool(session.builtin("isinstance", instance, self))

    def __subclasscheck__(self, subclass: Any) -> bool:
        session = self._adproxy_session
        return bool(session.builtin("issubclass", subclass, self))


def _binary(name: str, reflected: bool = False):
    def method(self: Proxy, other: Any) -> Proxy:
        session = self._adproxy_session
        mine, theirs = {"$": "ref", "h": self._adproxy_handle}, session.encode(other)
        args = [theirs, mine] if reflected else [mine, theirs]
        return session.queue({"do": "op", "name": name, "args": args})

    return method


def _unary(name: str):
    def method(self: Proxy) -> Proxy:
        return self._adproxy_operator(name, self)

    return method


for _name in ("add sub mul truediv floordiv mod pow matmul and or xor lshift rshift").split():
    _op_name = _name + "_" if _name in ("and", "or") else _name
    setattr(Proxy, f"__{_name}__", _binary(_op_name))
    setattr(Proxy, f"__r{_name}__", _binary(_op_name, reflected=True))
for _name in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(Proxy, f"__{_name}__", _binary(_name))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(Proxy, f"__{_name}__", _unary(_name))


class Check:
    """The ``check`` a hidden test receives: it records one case per call."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cases: list[dict[str, Any]] = []

    def get(self, name: str) -> Any:
        """The student's global ``name`` (a proxy, or its value when it is plain data)."""
        try:
            return self.session.resolve(self.session.queue({"do": "global", "name": name}))
        except StudentError as error:
            if error.description.get("ename") == "NameError":
                raise MissingName(name) from None
            raise

    def value(self, value: Any) -> Any:
        """``value`` resolved now: plain data, with student objects as canonical proxies."""
        return self.session.resolve(value)

    def place(self, value: Any) -> Proxy:
        """A copy of ``value`` that lives in the student's process, as a caller's own array
        would: what the student's code changes in it shows in ``check.value(placed)``."""
        return self._builtin("place", value)

    def strict_call(self, function: Any, *args: Any) -> Proxy:
        """``function(*args)`` in the student's process with numpy's overflow, division and
        invalid-value warnings raised as ``FloatingPointError`` (``numpy.errstate``)."""
        return self._builtin("strict_call", function, *args)

    def map(self, function: Any, items: Any) -> Proxy:
        """``[function(item) for item in items]`` as one operation in the student's process
        (thousands of ``Value(x)`` in one probe); a proxy of the list."""
        return self._builtin("map", function, items)

    def sum(self, items: Any, start: Any = 0) -> Proxy:
        """Python's ``sum(items, start)`` run in the student's process (``start + items[0]``
        first, as a student's own ``sum`` would), as one operation."""
        return self._builtin("sum", items, start)

    def fold(self, operator_name: str, start: Any, items: Any) -> Proxy:
        """``start <op> items[0] <op> items[1] ...`` from the left as one operation, ``op``
        named as in :mod:`operator` (``"mul"``: a chain of 5,000 products in one probe)."""
        return self._builtin("fold", operator_name, start, items)

    def _builtin(self, name: str, *args: Any) -> Proxy:
        return self.session.queue(
            {"do": "builtin", "name": name, "args": self.session.encode(list(args))}
        )

    def graph(self, root: Any, attribute: str) -> tuple[list[Any], list[list[int]]]:
        """Every student object reachable from ``root`` through ``attribute``, in one probe:
        ``(nodes, edges)`` with ``nodes[0]`` the root and ``edges[i]`` the positions of
        ``nodes[i].<attribute>`` in ``nodes``."""
        nodes, edges = self.session.builtin("graph", root, attribute)
        return nodes, edges

    def type_name(self, value: Any) -> Any:
        """The name of the type of a student's value (``type(proxy)`` is :class:`Proxy`)."""
        if not isinstance(value, Proxy):
            return type(value).__name__
        return self._builtin("typename", value)

    def __call__(
        self,
        name: str,
        compute: Any,
        *,
        rel: float = 1e-6,
        abs: float = 1e-9,  # noqa: A002  (the name hidden tests use)
        hints: tuple = (),
    ) -> None:
        case: dict[str, Any] = {"name": str(name)}
        try:
            case["value"] = to_json_value(self.session.resolve(compute()))
        except StudentError as error:
            case["error"] = error.description
        except MissingName:
            raise
        except Exception as error:  # the hidden test could not use what the student returned
            case["unusable"] = (
                f"a result the checks cannot use ({type(error).__name__}: {clean(error, 120)})"
            )
        case["rel"], case["abs"] = float(rel), float(abs)
        texts, values = [str(text) for text, _ in hints], [value for _, value in hints]
        case["hints"] = [list(pair) for pair in zip(texts, self._hint_values(values), strict=True)]
        self.cases.append(case)

    def _hint_values(self, values: list[Any]) -> list[Any]:
        """Hints as JSON; a hint built from student objects is resolved first (as data)."""
        resolved = self.session.resolve(values)
        return [to_json_value(value) for value in resolved]


def run_hidden_test(session: Session, test: dict[str, Any], deadline: float) -> dict[str, Any]:
    """Call one graded cell's ``hidden_test(check, rng)`` here, against the student's process."""
    check = Check(session)
    result: dict[str, Any] = {"cases": check.cases, "error": None}
    session.channel.deadline = min(deadline, time.monotonic() + session.limits.cell_timeout)
    scope: dict[str, Any] = {"__name__": "hidden_test", "math": math, "random": random}
    try:
        exec(compile(test["source"], f"<hidden test {test['id']}>", "exec"), scope)
        scope["hidden_test"](check, random.Random(test["seed"]))
    except MissingName as missing:
        result["error"] = {"kind": "missing", "name": str(missing)}
    except StudentError as error:  # a student's error outside a check: fail the cell
        result["error"] = {"kind": "exception", **error.description}
    except Exception as error:  # the hidden test itself failed on what the student returned
        result["error"] = {
            "kind": "unusable",
            "evalue": f"{type(error).__name__}: {clean(error, 200)}",
        }
    return result


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
