"""The student's objects as the hidden tests see them: proxies on handles in their process.

A :class:`Session` is one sandboxed runner seen from the grader. ``Value = check.get("Value")``
is a :class:`Proxy`; ``Value(1.5)``, ``v.tanh()`` or ``v.grad`` are operations on it, queued
and sent in one batch when a value is needed (a case's result, an ``if`` on a student value,
``len``, iteration). Functions of the hidden test that student code calls (the ``f`` of a
finite-difference exercise) are *callbacks*: the student's process sends their arguments and
gets their results, never their code. What comes back is decoded as untrusted data.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import math
import time
from typing import Any

import numpy as np

from grader.channel import Channel, ChannelBroken
from grader.sandbox import Limits, Sandbox
from grader.text import clean

DECODE_DEPTH_LIMIT = 64


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


class Session:
    """One sandboxed runner: its cells, then probes on its objects through proxies."""

    def __init__(self, sandbox: Sandbox, limits: Limits, forbidden: tuple[str, ...]) -> None:
        self.sandbox = sandbox
        self.limits = limits
        self.forbidden = forbidden
        self.channel = Channel(sandbox)
        self.pending: list[dict[str, Any]] = []
        # cases whose values are wanted but not yet asked for: (ops, encoded value, on_result)
        self.deferred: list[tuple[list[dict[str, Any]], Any, Any]] = []
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
        ``value``; a value with no student object in it is not sent at all. Deferred values
        (:meth:`defer`) go first, in one round trip with this one.
        """
        if not self.pending and not self.deferred and not contains_proxy(value):
            return value
        ops, self.pending = self.pending, []
        result = self._send_segments([(ops, self.encode(value), None)])
        if "error" in result:
            raise student_error(_description(result["error"]))
        return self.decode(result.get("value"))

    def can_defer(self) -> bool:
        """Whether a value may be resolved later: not once a function of the hidden test was
        passed to the student's code (a callback may change what the test reads next)."""
        return not self.callbacks

    def defer(self, value: Any, on_result: Any) -> None:
        """Ask for ``value`` with the next round trip; ``on_result(value or StudentError)``.

        The operations queued so far are its own; later ones cannot change what it gets (the
        student's process runs everything in the order queued).
        """
        ops, self.pending = self.pending, []
        self.deferred.append((ops, self.encode(value), on_result))

    def flush(self) -> None:
        """Resolve every deferred value now."""
        if self.deferred:
            self._send_segments([])

    def _send_segments(self, last: list[tuple[list, Any, Any]]) -> dict[str, Any]:
        """Send the deferred segments and ``last`` in one batch; hand each deferred result to
        its callback and return the result of ``last`` (``{}`` when there is none)."""
        segments, self.deferred = [*self.deferred, *last], []
        self.channel.send(
            {"kind": "batch", "segments": [{"ops": o, "value": v} for o, v, _ in segments]}
        )
        while True:
            message = self.channel.receive("the hidden checks")
            kind = message.get("kind")
            if kind == "callback":
                self._answer_callback(message)
            elif kind == "reply":
                break
            else:
                raise ChannelBroken(f"an unexpected {clean(kind, 40)!r} message")
        results = message.get("results")
        if not isinstance(results, list) or len(results) != len(segments):
            raise ChannelBroken("a reply that does not answer the batch")
        if not all(isinstance(result, dict) for result in results):
            raise ChannelBroken("a malformed reply")
        for (_, _, on_result), result in zip(segments, results, strict=True):
            if on_result is not None:
                on_result(
                    student_error(_description(result["error"]))
                    if "error" in result
                    else self.decode(result.get("value"))
                )
        return results[-1] if last else {}

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
