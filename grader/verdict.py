"""Decide each graded cell from the two runs' records, in the grader's own process.

The reference run (the master's solution) says what each hidden check should give, with
which tolerance and which hints; the student run only supplies values. A case passes when
numbers agree to ``|a - b| <= abs + rel * |b|`` and everything else is equal; a cell scores its
points when all of its cases pass. Messages name the case, the expected and the actual value,
and the hint that matches the student's value; the hidden test's source never reached the
student's process, so no student value can repeat it. Student text is bounded and cleaned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from grader.text import clean

SHOWN_CHARS = 80


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


def show(value: Any) -> str:
    """A short text form of a value for a message (numbers to 4 significant digits)."""
    number = _number(value)
    if number is not None and not isinstance(value, int):
        return f"{number:.4g}"
    return clean(repr(value), SHOWN_CHARS)


def _distinct(got: Any, expected: Any) -> tuple[str, str]:
    """Texts of two unequal values that do not read the same."""
    got_text, expected_text = show(got), show(expected)
    if got_text == expected_text:
        return clean(repr(got), SHOWN_CHARS * 2), clean(repr(expected), SHOWN_CHARS * 2)
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
    got_text, expected_text = _distinct(got, expected)
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
