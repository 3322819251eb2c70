"""The ``check`` object a hidden test receives, and the call of one hidden test.

``hidden_test(check, rng)`` runs here, in the grader's process; ``check`` reaches the student's
objects through :mod:`grader.proxies` and records one case per call (the verdicts compare the
cases with the master's, in :mod:`grader.verdict`). See docs/authoring.md for the contract.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

from grader.proxies import (
    MissingName,
    Proxy,
    Session,
    StudentError,
    contains_proxy,
    to_json_value,
)
from grader.text import clean


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
        session = self.session
        try:
            value = compute()
            if session.can_defer() and (session.pending or contains_proxy(value)):
                session.defer(value, lambda outcome: _record(case, outcome))
            else:
                _record(case, session.resolve(value))
        except StudentError as error:
            case["error"] = error.description
        except MissingName:
            raise
        except Exception as error:  # the hidden test could not use what the student returned
            case["unusable"] = _unusable(error)
        case["rel"], case["abs"] = float(rel), float(abs)
        texts, values = [str(text) for text, _ in hints], [value for _, value in hints]
        case["hints"] = [list(pair) for pair in zip(texts, self._hint_values(values), strict=True)]
        self.cases.append(case)

    def _hint_values(self, values: list[Any]) -> list[Any]:
        """Hints as JSON; a hint built from student objects is resolved first (as data)."""
        resolved = self.session.resolve(values) if contains_proxy(values) else values
        return [to_json_value(value) for value in resolved]


def _record(case: dict[str, Any], outcome: Any) -> None:
    """Put a resolved value (or the student's error) into a case, as the verdicts read it."""
    if isinstance(outcome, StudentError):
        case["error"] = outcome.description
        return
    try:
        case["value"] = to_json_value(outcome)
    except Exception as error:  # the hidden test could not use what the student returned
        case["unusable"] = _unusable(error)


def _unusable(error: Exception) -> str:
    return f"a result the checks cannot use ({type(error).__name__}: {clean(error, 120)})"


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
    session.flush()  # the cases still waiting for their values (in one round trip)
    return result
