"""Attacks on the hidden tests from inside the student's process, graded one notebook at a time.

The hidden tests run in the grader's process and reach the student's objects through handles
(``grader.driver``). Each attack here is a student's exercise cell built on honest wrong code
(tanh' as 1 - tanh); each test shows it earns no more than that wrong code, gets the right flag
and reason, leaks nothing of the hidden tests and leaves nothing running.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import kit  # noqa: E402
import pytest

from grader.evaluate import evaluate_submission  # noqa: E402
from grader.master import load_master  # noqa: E402

MASTER = kit.FIXTURE / "solutions" / "tiny_value" / "tiny_value.ipynb"
HIDDEN_PARTS = ("rng.uniform", "Did you swap", "def hidden_test", "hints=", "grad_tanh")
MARK = "7331.4242"  # sleeps' arguments: no process of a run may outlive it
LOOP_MARK = "7331.4343"
FORK_MARK = "7331.4444"


@pytest.fixture(scope="module")
def master():
    return load_master(MASTER)


def notebook_with(exercise: str):
    """The master notebook with ``exercise`` as the student's ``ex_value`` cell."""
    notebook = kit.read(MASTER)
    kit.cell(notebook, "ex_value").source = exercise
    return notebook


def wrong_code() -> str:
    source = kit.cell(kit.read(MASTER), "ex_value").source
    wrong = source.replace("(1 - t**2) * out.grad", "(1 - t) * out.grad")
    assert wrong != source
    return wrong


def grade(master, exercise: str, student: str = "mallory"):
    return evaluate_submission(master, notebook_with(exercise), student, b"course-secret")


def messages(evaluation) -> str:
    return " ".join(test.message for test in evaluation.tests)


@pytest.fixture(scope="module")
def honest_wrong(master):
    evaluation = grade(master, wrong_code())
    assert (evaluation.score, evaluation.flagged) == (1.0, False)
    return evaluation


def assert_nothing_left_running(mark: str = MARK):
    """No process holding ``mark`` is alive (the kernel ends a pid namespace within moments)."""
    for _ in range(20):
        processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        if f"sleep {mark}" not in processes:
            return
        time.sleep(0.1)
    raise AssertionError(f"a process of the run outlived it: sleep {mark}")


# --- hidden tests that stay hidden ----------------------------------------------------------

PATCH_THE_RUNNER = """
import gc, sys
runner = sys.modules["__main__"]
def everything():
    return " ".join(o for o in gc.get_objects() if isinstance(o, str) and len(o) < 5000)
encode = runner.StudentObjects.encode
runner.StudentObjects.encode = lambda self, value: encode(self, everything())
"""

SHARED_MODULE = """
import json
dumps = json.dumps
json.dumps = lambda message, **kw: dumps({"kind": "reply", "value": 0.5}
                                         if message.get("kind") == "reply" else message, **kw)
"""

# one forged reply written while the cell runs (so the test does not depend on when a thread
# is scheduled), then a thread that keeps writing while the hidden checks run
SPEAK_THE_PROTOCOL = """
import json, os, threading, time
def forge_once():
    fake = json.dumps({"kind": "reply", "value": [3.0, 2.0]}) + "\\n"
    for fd in range(3, 12):
        try:
            os.write(fd, fake.encode())
        except OSError:
            pass
def forge():
    for _ in range(50):
        forge_once()
        time.sleep(0.01)
forge_once()
threading.Thread(target=forge, daemon=True).start()
"""


@pytest.mark.parametrize(
    "attack",
    [PATCH_THE_RUNNER, SHARED_MODULE, SPEAK_THE_PROTOCOL],
    ids=["patch_the_runner", "override_json", "speak_the_protocol"],
)
def test_patching_the_runner_or_its_channel_earns_nothing_and_reveals_nothing(
    master, honest_wrong, attack
):
    evaluation = grade(master, wrong_code() + attack)
    assert evaluation.score <= honest_wrong.score
    text = messages(evaluation) + evaluation.reason
    for part in HIDDEN_PARTS:
        assert part not in text, part
    # whatever the process reports, the grader only ever shows bounded text
    assert all(len(test.message) < 600 for test in evaluation.tests)


def test_a_broken_channel_is_flagged(master, honest_wrong):
    evaluation = grade(master, wrong_code() + SPEAK_THE_PROTOCOL)
    assert evaluation.flagged and "channel" in evaluation.reason


def test_a_missing_name_names_only_what_the_master_asks_for(master):
    forged_name = "\\x1b[2J" + "A" * 100_000
    exercise = (
        "import sys\nrunner = sys.modules['__main__']\n"
        "perform = runner.StudentObjects.perform\n"
        "def perform_forged(self, op):\n"
        f"    raise NameError('{forged_name}')\n"
        "runner.StudentObjects.perform = perform_forged\n"
    )
    evaluation = grade(master, exercise)
    assert evaluation.score == 0
    for test in evaluation.tests:
        assert test.message.startswith("Your notebook does not define `Value`"), test.message
        assert len(test.message) < 200 and "\x1b" not in test.message


# --- inputs that cannot be replayed ---------------------------------------------------------


def inputs_shown(evaluation) -> list[str]:
    return re.findall(r"x = (-?\d+\.\d+)", messages(evaluation))


def test_a_regrade_reproduces_and_a_resubmission_gets_new_inputs(master, honest_wrong):
    again = grade(master, wrong_code())
    assert [t.message for t in again.tests] == [t.message for t in honest_wrong.tests]
    resubmitted = grade(master, wrong_code() + "\n# second attempt\n")
    assert inputs_shown(resubmitted) and inputs_shown(resubmitted) != inputs_shown(honest_wrong)


def test_a_lookup_table_built_from_feedback_earns_nothing(master, honest_wrong):
    """The table answers right on the inputs the first feedback showed, wrong elsewhere."""
    seen = sorted({float(x) for x in inputs_shown(honest_wrong)})
    assert seen
    table = wrong_code().replace(
        "self.grad += (1 - t) * out.grad",
        f"self.grad += ((1 - t**2) if round(self.data, 4) in {seen!r} else (1 - t)) * out.grad",
    )
    assert table != wrong_code()
    assert grade(master, table).score <= honest_wrong.score


# --- limits measured from outside -----------------------------------------------------------

KEEP_ALIVE = f"""
import json, os, subprocess, sys
subprocess.Popen(["sleep", "{MARK}"])
while True:
    try:
        while True:
            for fd in range(3, 12):
                try:
                    os.write(fd, b" ")
                except OSError:
                    pass
    except BaseException:
        pass
"""


def test_a_cell_that_swallows_its_timeout_and_sends_keep_alives_is_stopped_in_time(master):
    started = time.monotonic()
    evaluation = grade(master, KEEP_ALIVE)
    elapsed = time.monotonic() - started
    assert evaluation.flagged and "ran longer than 5 s" in evaluation.reason
    assert evaluation.score == 0
    assert elapsed < master.cell_timeout + 10, elapsed
    assert_nothing_left_running()


def test_an_endless_loop_in_the_hidden_checks_is_flagged_and_costs_only_its_test(master):
    correct = kit.cell(kit.read(MASTER), "ex_value").source
    looping = correct.replace(
        "self.grad += (1 - t**2) * out.grad", "while True:\n                pass"
    )
    assert looping != correct
    looping = f"import subprocess\nsubprocess.Popen(['sleep', '{LOOP_MARK}'])\n" + looping
    started = time.monotonic()
    evaluation = grade(master, looping)
    assert time.monotonic() - started < 3 * master.cell_timeout
    scores = {test.id: test.score for test in evaluation.tests}
    assert scores == {"test_mul": 1.0, "test_tanh": 0.0}
    assert evaluation.flagged
    assert "hidden checks of test_tanh" in evaluation.reason
    assert "endless loop" in evaluation.reason
    assert_nothing_left_running(LOOP_MARK)


# --- crashes reported as what they are ------------------------------------------------------


def test_a_syntax_error_is_reported_with_its_line(master):
    broken = wrong_code().replace("def tanh(self):", "def tanh(self)")
    evaluation = grade(master, broken)
    assert evaluation.score == 0 and evaluation.flagged
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if "def tanh(self)" in text)
    assert f"cell ex_value has a SyntaxError at line {line}" in evaluation.reason
    assert "def tanh(self)" in evaluation.reason


def test_a_cell_that_raises_after_defining_everything_is_flagged(master, honest_wrong):
    evaluation = grade(master, wrong_code() + "\nraise ValueError('late\\x1b[31m error')\n")
    assert evaluation.flagged
    assert "cell ex_value raised ValueError" in evaluation.reason
    assert "\x1b" not in evaluation.reason
    assert evaluation.score == honest_wrong.score


def test_student_text_in_messages_is_bounded_and_cleaned(master):
    noisy = wrong_code().replace(
        "self.grad += (1 - t) * out.grad",
        "raise RuntimeError('\\x1b]0;owned\\x07\\u202e' + 'x' * 1_000_000)",
    )
    evaluation = grade(master, noisy)
    for test in evaluation.tests:
        assert len(test.message) < 600
        assert "\x1b" not in test.message and "\u202e" not in test.message


FORK_BOMB = f"""
import os
for _ in range(10000):
    try:
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", "{FORK_MARK}"])
    except OSError:
        pass
"""


def test_a_fork_bomb_is_stopped_and_flagged(master, honest_wrong):
    evaluation = grade(master, wrong_code() + FORK_BOMB)
    assert evaluation.flagged and "processes" in evaluation.reason
    assert evaluation.score <= honest_wrong.score
    assert_nothing_left_running(FORK_MARK)


# --- no silent loss of isolation ------------------------------------------------------------


def test_grading_without_a_sandbox_refuses_unless_allowed_and_then_says_so(master, monkeypatch):
    from grader.sandbox import IsolationUnavailable

    monkeypatch.setenv("AUTODIFF_GRADER_NO_BWRAP", "1")
    monkeypatch.delenv("AUTODIFF_GRADER_ALLOW_UNSANDBOXED", raising=False)
    with pytest.raises(IsolationUnavailable, match="allow-unsandboxed"):
        grade(master, wrong_code())
    monkeypatch.setenv("AUTODIFF_GRADER_ALLOW_UNSANDBOXED", "1")
    with pytest.warns(RuntimeWarning, match="WITHOUT a sandbox"):
        evaluation = grade(master, wrong_code())
    summary = evaluation.summary()
    assert summary["isolation"] == "subprocess" and "WITHOUT a sandbox" in summary["warning"]


def test_a_reply_read_deep_in_the_graders_own_stack_is_still_read():
    # numpy walking a student's object array through a proxy recurses in the grader; the reply
    # that then arrives is short and valid: it is read, the protocol stays in step (the case
    # fails as unusable, not the whole notebook as a broken channel)
    from grader.channel import ChannelBroken, parse_message

    line = b'{"kind":"reply","results":[{"value":{"$":"ref","h":-2}}]}'
    raw_failed = parsed = 0

    def at_depth(n):
        nonlocal raw_failed, parsed
        if n:
            return at_depth(n - 1)
        try:
            json.loads(line)
        except RecursionError:
            raw_failed += 1
        try:
            assert parse_message(line)["kind"] == "reply"
            parsed += 1
        except RecursionError:
            pass  # too deep for this frame itself: not a message problem

    frame, used = sys._getframe(), 0
    while frame is not None:
        frame, used = frame.f_back, used + 1
    for margin in range(0, 40):
        try:
            at_depth(sys.getrecursionlimit() - used - margin)
        except RecursionError:
            pass
    assert raw_failed and parsed >= raw_failed
    with pytest.raises(ChannelBroken):
        parse_message(b"[" * 100_000 + b"]" * 100_000)  # a message truly too deep
    with pytest.raises(ChannelBroken):
        parse_message(b"{not json")
