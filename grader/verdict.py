"""Decide each graded cell from the two runs' records, in the grader's own process.

The reference run (the master's solution) says what each hidden check should give, with
which tolerance and which hints; the student run only supplies values. A case passes when
numbers agree to ``|a - b| <= abs + rel * |b|`` and everything else is equal; a cell scores its
points when all of its cases pass. Messages name the case, the expected and the actual value,
and the hint that matches the student's value; the hidden test's source never reached the
student's process, so no student value can repeat it. Student text is bounded and cleaned.

Numbers are shown at full precision (``repr``: the text reads back as the same float), so a
student can paste them. A short value is shown whole; a long or nested list is summarised by its
shape, the first index where the two differ (by the same tolerance) and the two values there,
and how many entries differ, so that no message grows with the size of the value.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from grader.text import clean

SHOWN_CHARS = 80  # of one value's text
SHOWN_ENTRIES = 8  # a flat list of at most this many values is shown in full
MAX_DEPTH = 32  # nested deeper than this, a list is compared as one value


class ReferenceFailure(RuntimeError):
    """The master's own solution failed a hidden test: an authoring error, not the student's."""


@dataclass(frozen=True)
class Verdict:
    """The decision on one graded cell."""

    grade_id: str
    passed: bool
    message: str
    cases: int


def _number(value: Any) -> float | None:
    """The value as a float when it is a (JSON-encoded) number, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict) and set(value) == {"float"}:
        try:
            return float(value["float"])
        except (TypeError, ValueError):
            return None
    return None


def values_match(got: Any, expected: Any, rel: float, abs_tol: float) -> bool:
    """True when ``got`` equals ``expected``: numbers within tolerance, lists item by item.

    >>> values_match(0.78640001, 0.7864, 1e-6, 1e-9), values_match([1, 2], [1, 3], 0, 0)
    (True, False)
    """
    expected_number, got_number = _number(expected), _number(got)
    if expected_number is not None:
        if got_number is None:
            return False
        if math.isnan(expected_number) or math.isinf(expected_number):
            return repr(got_number) == repr(expected_number)
        return abs(got_number - expected_number) <= abs_tol + rel * abs(expected_number)
    if isinstance(expected, list):
        return (
            isinstance(got, list)
            and len(got) == len(expected)
            and all(values_match(g, e, rel, abs_tol) for g, e in zip(got, expected, strict=True))
        )
    return type(got) is type(expected) and got == expected


def _scalar(value: Any) -> str:
    """One value that is not a list: a number at full precision (``repr``, so that
    ``float(text) == value``), ints as ints, nan and inf as such; anything else bounded."""
    number = _number(value)
    if number is not None:
        if isinstance(value, int):
            return str(value) if abs(value) < 10**SHOWN_CHARS else repr(number)
        return repr(number)
    try:
        text = repr(value)
    except Exception:  # an object whose __repr__ fails
        text = "<unprintable>"
    return clean(text, SHOWN_CHARS)


def _shape(value: Any, depth: int = 0) -> tuple[int, ...] | None:
    """The dimensions of a rectangular (nested) list, () for a single value, None if ragged."""
    if not isinstance(value, list):
        return ()
    if not any(isinstance(item, list) for item in value):
        return (len(value),)
    if depth >= MAX_DEPTH:
        return None
    shapes = {_shape(item, depth + 1) for item in value}
    if len(shapes) != 1 or None in shapes or () in shapes:
        return None
    return (len(value), *shapes.pop())


def _entries(value: Any, depth: int = 0) -> int:
    """How many single values a (nested) list holds."""
    if not isinstance(value, list):
        return 1
    if depth >= MAX_DEPTH:
        return len(value)
    return sum(_entries(item, depth + 1) if isinstance(item, list) else 1 for item in value)


def _count(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _shape_text(value: list[Any], shape: tuple[int, ...] | None) -> str:
    """'a 3 x 4 array', 'a list of 12 entries', 'a ragged list of 3 items (7 entries)'."""
    if shape is None:
        items = _count(len(value), "item", "items")
        return f"a ragged list of {items} ({_count(_entries(value), 'entry', 'entries')})"
    if len(shape) == 1:
        return f"a list of {_count(shape[0], 'entry', 'entries')}" if shape[0] else "an empty list"
    return "a " + " x ".join(str(size) for size in shape) + " array"


def _in_full(value: Any, limit: int = SHOWN_CHARS * 2) -> str | None:
    """The value written out when it is short (a single value or a flat list of a few)."""
    if not isinstance(value, list):
        return _scalar(value)
    if len(value) > SHOWN_ENTRIES or any(isinstance(item, list) for item in value):
        return None
    text = "[" + ", ".join(_scalar(item) for item in value) + "]"
    return text if len(text) <= limit else None


def show(value: Any, limit: int = SHOWN_CHARS * 2) -> str:
    """A value for a message: in full when short (numbers at full precision), else its shape.

    >>> show(0.1 + 0.2), show([1, 2.5]), show([[0.5] * 4] * 3)
    ('0.30000000000000004', '[1, 2.5]', 'a 3 x 4 array')
    """
    text = _in_full(value, limit)
    return _shape_text(value, _shape(value)) if text is None else text


def _differences(
    got: Any, expected: Any, rel: float, abs_tol: float, path: tuple[int, ...] = ()
) -> Iterator[tuple[tuple[int, ...], Any, Any, bool]]:
    """Each place where ``got`` differs from ``expected``, walking both in order:
    (index, got there, expected there, whether the two differ in shape there)."""
    if isinstance(expected, list) and isinstance(got, list) and len(got) == len(expected):
        if len(path) < MAX_DEPTH:
            for index, (g, e) in enumerate(zip(got, expected, strict=True)):
                if isinstance(g, list) or isinstance(e, list):
                    yield from _differences(g, e, rel, abs_tol, (*path, index))
                elif not values_match(g, e, rel, abs_tol):
                    yield (*path, index), g, e, False
            return
    if not values_match(got, expected, rel, abs_tol):
        yield path, got, expected, isinstance(got, list) or isinstance(expected, list)


def _summary(got: Any, expected: Any, rel: float, abs_tol: float) -> tuple[str, str]:
    """Texts of two unequal values, at least one of them long: the shapes, where they
    first differ and the two values there, never the whole values."""
    got_shape, expected_shape = _shape(got), _shape(expected)
    got_text, expected_text = (
        _in_full(value) or _shape_text(value, shape)
        for value, shape in ((got, got_shape), (expected, expected_shape))
    )
    if got_shape is not None and expected_shape is not None and got_shape != expected_shape:
        return got_text, expected_text  # both shapes say it
    first, count, reshaped = None, 0, False
    for difference in _differences(got, expected, rel, abs_tol):
        first = first or difference
        count += 1
        reshaped = reshaped or difference[3]
    if first is None or not first[0]:
        return got_text, expected_text
    index, got_there, expected_there, _ = first
    where = "[" + ", ".join(str(i) for i in index) + "]"
    got_text += (
        f" that differs first at {where}: expected {show(expected_there, SHOWN_CHARS)}, "
        f"got {show(got_there, SHOWN_CHARS)}"
    )
    if not reshaped:
        total = _entries(expected)
        got_text += f" ({count} of {total} entries {'differs' if count == 1 else 'differ'})"
    return got_text, expected_text


def _distinct(got: Any, expected: Any, rel: float, abs_tol: float) -> tuple[str, str]:
    """Texts of two unequal values that do not read the same."""
    if _in_full(got) is None or _in_full(expected) is None:
        got_text, expected_text = _summary(got, expected, rel, abs_tol)
    else:
        got_text, expected_text = show(got), show(expected)
    if got_text == expected_text:
        got_text += f" (of type {clean(type(got).__name__, 40)})"
        expected_text += f" (of type {clean(type(expected).__name__, 40)})"
    return got_text, expected_text


def describe_exception(error: dict[str, Any]) -> str:
    """'ZeroDivisionError: division by zero (cell ex_value, line 3: `return 1 / x`)'."""
    evalue = clean(error.get("evalue", ""), 200)
    ename = clean(error.get("ename", "Exception"), 60)
    text = f"{ename}: {evalue}" if evalue else ename
    frames = error.get("frames") or []
    if frames:
        cell, line, code = frames[-1]
        text += f" (cell {clean(cell, 60)}, line {line}: `{clean(code, 120)}`)"
    if ename == "NotImplementedError":
        text += ": this part is not written yet"
    return text


def case_message(reference: dict[str, Any], student: dict[str, Any]) -> str | None:
    """None when the student's case matches the reference case, else the teaching message."""
    name = reference["name"]
    if "error" in student:
        return f"{name}: your code raised {describe_exception(student['error'])}."
    if "unusable" in student:
        unusable = clean(student["unusable"], 160)
        return f"{name}: expected {show(reference.get('value'))}, got {unusable}."
    rel, abs_tol = float(reference["rel"]), float(reference["abs"])
    got, expected = student.get("value"), reference.get("value")
    if values_match(got, expected, rel, abs_tol):
        return None
    got_text, expected_text = _distinct(got, expected, rel, abs_tol)
    message = f"{name}: expected {expected_text}, got {got_text}."
    for hint, hint_value in reference.get("hints", []):
        if values_match(got, hint_value, rel, abs_tol):
            return f"{message} {hint}"
    return message


def decide(
    grade_id: str,
    reference: dict[str, Any],
    student: dict[str, Any] | None,
    not_run_reason: str | None = None,
) -> Verdict:
    """Compare one graded cell's cases; the first failing case gives the message."""
    if reference.get("error"):
        raise ReferenceFailure(
            f"the master fails its own hidden test {grade_id}: {reference['error']}"
        )
    expected_cases = reference["cases"]
    for case in expected_cases:
        if "error" in case or "unusable" in case:
            problem = case.get("unusable") or describe_exception(case["error"])
            raise ReferenceFailure(
                f"the master fails its own hidden test {grade_id} at {case['name']!r}: {problem}"
            )
    total = len(expected_cases)
    if student is None:
        return Verdict(grade_id, False, f"Not graded: {not_run_reason}.", total)
    error = student.get("error")
    if error and error.get("kind") == "missing":
        return Verdict(
            grade_id,
            False,
            f"Your notebook does not define `{clean(error['name'], 80)}`: complete and run the "
            f"exercise cell that defines it.",
            total,
        )
    cases = student.get("cases") or []
    failures = []
    for index, expected in enumerate(expected_cases):
        if index >= len(cases):
            break
        if cases[index].get("name") != expected["name"]:
            failures.append(
                f"check {index + 1} did not run on the expected input: did your code change the "
                f"random module or the test's inputs?"
            )
            break
        message = case_message(expected, cases[index])
        if message:
            failures.append(message)
    if len(cases) < total and not failures:
        if error and error.get("kind") == "stopped":
            failures.append("the hidden checks ran too long on your code or it crashed")
        elif error and error.get("kind") == "unusable":
            problem = clean(error.get("evalue"))
            failures.append(f"the hidden checks could not use your code's results ({problem})")
        elif error:
            failures.append(f"your code raised {describe_exception(error)}")
        else:
            failures.append(f"only {len(cases)} of {total} checks ran")
    if not failures:
        return Verdict(grade_id, True, f"All {total} hidden checks passed.", total)
    summary = failures[0]
    if len(failures) > 1:
        summary += f" ({len(failures)} of {total} checks failed.)"
    return Verdict(grade_id, False, summary, total)
