"""Failing messages that reproduce: full-precision numbers, long values summarised, bounded.

A failing case reads ``name: expected E, got G.`` (then the hint whose value the student got).
E and G are numbers at full precision (the text reads back as the same float), short values in
full, and long or nested lists by their shape, the first index where the two differ beyond the
tolerance, the two values there and how many entries differ; never the whole value.
"""

from __future__ import annotations

import math
import re

import nbformat
import pytest

from grader import verdict
from grader.evaluate import Evaluation, _record
from grader.insights import classify

MESSAGE = re.compile(r"^n: expected (?P<expected>.*), got (?P<got>.*)\.$")


def case(value, hints=(), rel=1e-6, abs_tol=1e-9):
    return {"name": "n", "value": value, "rel": rel, "abs": abs_tol, "hints": list(hints)}


def message(expected, got, **tolerances) -> str:
    text = verdict.case_message(case(expected, **tolerances), {"name": "n", "value": got})
    assert text is not None
    return text


def parts(text: str) -> tuple[str, str]:
    found = MESSAGE.match(text)
    assert found, text
    return found["expected"], found["got"]


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "got"),
    [
        (0.3, 0.1 + 0.2 + 1e-6),
        (1 / 3, 2 / 3),
        (0.7864477329659274, 0.5378828427399902),
        (5e-324, 1e-3),
        (-2.5e17, 123456789.12345679),
        (1.0, 1.0000100000000001),
        (-0.0, 1e-5),
    ],
)
def test_numbers_are_shown_at_full_precision_and_read_back_the_same(expected, got):
    expected_text, got_text = parts(message(expected, got))
    assert float(expected_text) == expected and float(got_text) == got
    assert expected_text == repr(expected) and got_text == repr(got)


def test_full_precision_shows_what_four_digits_hid():
    # the old '.4g' read "expected 1, got 1": the student could not see the difference
    assert message(1.0, 1.00001) == "n: expected 1.0, got 1.00001."
    assert message(0.1 + 0.2, 0.3, rel=0.0, abs_tol=0.0) == (
        "n: expected 0.30000000000000004, got 0.3."
    )


def test_ints_are_shown_as_ints():
    assert message(3, 4) == "n: expected 3, got 4."
    assert message(2**62, 3) == f"n: expected {2**62}, got 3."
    assert message(3, 2.5) == "n: expected 3, got 2.5."
    assert message(1, True) == "n: expected 1, got True."


def test_non_finite_values_read_nan_and_inf():
    nan, inf, minus_inf = {"float": "nan"}, {"float": "inf"}, {"float": "-inf"}
    assert message(nan, 1.5) == "n: expected nan, got 1.5."
    assert message(1.0, minus_inf) == "n: expected 1.0, got -inf."
    assert message(inf, minus_inf) == "n: expected inf, got -inf."
    assert message([nan, 1.0], [nan, 2.0]) == "n: expected [nan, 1.0], got [nan, 2.0]."
    assert message([[1.0] * 3] * 3, [[1.0, 1.0, 1.0], [1.0, inf, 1.0], [1.0] * 3]) == (
        "n: expected a 3 x 3 array, got a 3 x 3 array that differs first at [1, 1]: "
        "expected 1.0, got inf (1 of 9 entries differs)."
    )


# --- short and long values -------------------------------------------------------------------


def test_short_values_are_shown_in_full():
    assert message([1, 2.5, 3], [1, 2.5, 4]) == "n: expected [1, 2.5, 3], got [1, 2.5, 4]."
    eight = [0.5] * 8
    assert message(eight, eight[:-1] + [0.25]) == (
        f"n: expected {eight}, got {eight[:-1] + [0.25]}."
    )
    assert message([1.0, 2.0], [1.0, 2.0, 3.0]) == "n: expected [1.0, 2.0], got [1.0, 2.0, 3.0]."
    assert message([1, 2, 3], None) == "n: expected [1, 2, 3], got None."
    assert message("abc", "abd") == "n: expected 'abc', got 'abd'."


def test_a_2d_array_is_summarised_by_shape_first_difference_and_count():
    expected = [[0.5] * 4 for _ in range(3)]
    got = [row[:] for row in expected]
    for i, j in [(1, 2), (1, 3), (2, 0), (2, 1), (2, 2), (2, 3)]:
        got[i][j] = 0.25
    got[2][3] = 7.0
    got[0][1] = 0.5 + 1e-12  # within the tolerance: neither the first difference nor counted
    got[0][3] = 0.5000000001
    got[1][0] = 0.5 + 1e-3
    assert message(expected, got) == (
        "n: expected a 3 x 4 array, got a 3 x 4 array that differs first at [1, 0]: "
        "expected 0.5, got 0.501 (7 of 12 entries differ)."
    )
    got[1][0] = 0.5
    assert message(expected, got) == (
        "n: expected a 3 x 4 array, got a 3 x 4 array that differs first at [1, 2]: "
        "expected 0.5, got 0.25 (6 of 12 entries differ)."
    )


def test_the_first_difference_is_at_full_precision():
    expected = [0.1 * i for i in range(20)]
    got = expected[:13] + [expected[13] * (1 + 1e-5)] + expected[14:]
    text = message(expected, got)
    found = re.search(r"differs first at \[13\]: expected (\S+), got (\S+) \(1 of 20", text)
    assert found, text
    assert float(found[1]) == expected[13] and float(found[2]) == got[13]
    assert text.startswith("n: expected a list of 20 entries, got a list of 20 entries that")


def test_a_shape_mismatch_names_both_shapes():
    three_by_four = [[1.0] * 4 for _ in range(3)]
    assert message(three_by_four, [[1.0] * 3 for _ in range(4)]) == (
        "n: expected a 3 x 4 array, got a 4 x 3 array."
    )
    assert message(three_by_four, [1.0] * 12) == (
        "n: expected a 3 x 4 array, got a list of 12 entries."
    )
    assert message(three_by_four, [[[1.0]] * 4] * 3) == (
        "n: expected a 3 x 4 array, got a 3 x 4 x 1 array."
    )
    assert message(three_by_four, None) == "n: expected a 3 x 4 array, got None."
    assert message(three_by_four, 1.0) == "n: expected a 3 x 4 array, got 1.0."
    assert message(0.5, [0.5] * 20) == "n: expected 0.5, got a list of 20 entries."
    assert message([[]] * 3, [[]] * 2) == "n: expected a 3 x 0 array, got a 2 x 0 array."
    assert message([1.0] * 9, []) == "n: expected a list of 9 entries, got []."


def test_ragged_lists_are_summarised_and_point_at_their_first_difference():
    expected = [[1.0], [2.0, 3.0], [4.0, 5.0, 6.0]]
    assert message(expected, [[1.0], [2.0, 3.5], [4.0, 5.0, 6.0]]) == (
        "n: expected a ragged list of 3 items (6 entries), got a ragged list of 3 items "
        "(6 entries) that differs first at [1, 1]: expected 3.0, got 3.5 (1 of 6 entries differs)."
    )
    assert message(expected, [[1.0], [2.0, 3.0, 4.0], [4.0, 5.0, 6.0]]) == (
        "n: expected a ragged list of 3 items (6 entries), got a ragged list of 3 items "
        "(7 entries) that differs first at [1]: expected [2.0, 3.0], got [2.0, 3.0, 4.0]."
    )
    assert message(expected, [[1.0, 2.0], [3.0, 4.0]]) == (
        "n: expected a ragged list of 3 items (6 entries), got a 2 x 2 array."
    )
    assert message([[1.0, 2.0]] * 3, [[1.0, 2.0], 3.0, [1.0, 2.0]]) == (
        "n: expected a 3 x 2 array, got a ragged list of 3 items (5 entries) that differs "
        "first at [1]: expected [1.0, 2.0], got 3.0."
    )


@pytest.mark.parametrize("layout", ["flat", "2-D"])
def test_a_huge_array_gives_a_short_message(layout):
    expected = [0.5] * 100_000
    got = expected[:77_777] + [0.25] + expected[77_778:-1] + [{"float": "nan"}]
    if layout == "2-D":
        expected = [expected[i : i + 1000] for i in range(0, 100_000, 1000)]
        got = [got[i : i + 1000] for i in range(0, 100_000, 1000)]
    text = message(expected, got)
    where = "[77777]" if layout == "flat" else "[77, 777]"
    shape = "a list of 100000 entries" if layout == "flat" else "a 100 x 1000 array"
    assert text == (
        f"n: expected {shape}, got {shape} that differs first at {where}: expected 0.5, "
        "got 0.25 (2 of 100000 entries differ)."
    )
    assert len(text) < 200


def test_a_long_list_is_never_dumped():
    expected = [float(i) for i in range(50)]
    text = message(expected, [value + 1 for value in expected])
    assert "10.0" not in text and len(text) < 200
    assert "differs first at [0]: expected 0.0, got 1.0 (50 of 50 entries differ)" in text


# --- hints -----------------------------------------------------------------------------------


def test_a_hint_follows_a_summarised_array_when_the_student_got_its_value():
    expected = [[float(i + j) for j in range(4)] for i in range(3)]
    halved = [[value / 2 for value in row] for row in expected]
    hint = "Did you forget the factor 2 of the chain rule?"
    reference = case(expected, hints=[[hint, halved]])
    text = verdict.case_message(reference, {"name": "n", "value": halved})
    assert text == (
        "n: expected a 3 x 4 array, got a 3 x 4 array that differs first at [0, 1]: "
        f"expected 1.0, got 0.5 (11 of 12 entries differ). {hint}"
    )
    other = [[value * 3 for value in row] for row in expected]
    assert hint not in verdict.case_message(reference, {"name": "n", "value": other})
    # the class insights still read the hint from the new message, with and without a master
    assert classify(text, {hint}) == (hint, True)
    assert classify(text + " (2 of 5 checks failed.)", None) == (hint, True)


def test_a_hint_follows_a_full_precision_number():
    hint = "Did you use 1 - tanh(x) instead of 1 - tanh(x)**2?"
    reference = case(0.7864477329659274, hints=[[hint, 0.5378828427399902]])
    text = verdict.case_message(reference, {"name": "n", "value": 0.5378828427399902})
    assert text == f"n: expected 0.7864477329659274, got 0.5378828427399902. {hint}"
    assert classify(text, {hint}) == (hint, True) and classify(text, None) == (hint, True)


def test_what_passes_is_unchanged():
    assert (
        verdict.case_message(case([[0.5] * 4] * 3), {"name": "n", "value": [[0.5] * 4] * 3}) is None
    )
    assert verdict.case_message(case([0.5] * 20), {"name": "n", "value": [0.5 + 1e-12] * 20}) is (
        None
    )
    assert verdict.case_message(case(0.3), {"name": "n", "value": 0.1 + 0.2}) is None


# --- student text ----------------------------------------------------------------------------

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>\x1b[2J\x1b[31m\u202e\u200b"


@pytest.mark.parametrize(
    "got",
    [
        PAYLOAD + "y" * 5000,
        [PAYLOAD * 50] * 3,
        [[1.0, PAYLOAD * 50], [PAYLOAD * 50, 2.0]],
        [PAYLOAD] * 100,
        [[1.0] * 2, [PAYLOAD * 50] * 3],
    ],
)
def test_student_text_in_a_failing_message_is_bounded_and_cleaned(got):
    expected = [[1.0, 2.0], [3.0, 4.0]]
    text = message(expected, got)
    assert len(text) < 600
    for unsafe in ("\x1b", "\u202e", "\u200b"):
        assert unsafe not in text


def test_student_text_reaches_the_feedback_page_escaped():
    """The message goes to the feedback as an error output, which nbconvert escapes."""
    from nbconvert import HTMLExporter

    expected = [[1.0, 2.0], [3.0, 4.0]]
    evaluation = Evaluation("a", "s")
    reference = {"cases": [case(expected)], "error": None}
    student = {"cases": [{"name": "n", "value": [[1.0, 2.0], [PAYLOAD, 4.0]]}], "error": None}
    result = verdict.decide("test_x", reference, student)
    assert not result.passed and "differs first at [1, 0]" in result.message
    _record(evaluation, result, 1.0)
    cell = nbformat.v4.new_code_cell("pass", outputs=evaluation.test_outputs["test_x"])
    html, _ = HTMLExporter().from_notebook_node(nbformat.v4.new_notebook(cells=[cell]))
    assert "differs first at [1, 0]" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert" in html


def test_messages_stay_bounded_for_every_shape_of_value():
    values = [
        None,
        "s" * 10_000,
        math.pi,
        [math.pi] * 8,
        [math.pi] * 9,
        [[math.pi] * 7] * 9,
        [[math.pi], [math.pi] * 2],
        [["x" * 3000] * 8] * 2,
        ["x" * 3000] * 8,
    ]
    for expected in values:
        for got in values:
            if expected is not got:
                assert len(message(expected, got)) < 600, (expected, got)
