"""Derivation, not transcription, in lessons 07-09 (issue 11 item 1).

Where a formula is the learning goal of an exercise (each VJP of 07, softmax cross-entropy's
gradient, the sigmoid's derivative and the chain's bound in 08, Leaky ReLU's derivative, the
residual block's and BatchNorm's backward passes in 09), the released notebook states the task,
the shapes and the API, and keeps the answer for the last of three collapsed hints:

* no answer expression (LaTeX or code spelling) appears in a released code cell other than the
  graded self-checks, nor in released markdown outside a ``<details>`` block;
* the markdown cell right before each such exercise ends with three ``<details>`` hints, a
  nudge, the key step and the formula, in that order, and the formula is in the third only.

The visible part of the graded self-checks (the code a student reads before
``### BEGIN HIDDEN TESTS``) is held to the same rule: it compares with literal numbers or with a
numerical gradient and names no answer in its code or messages. The released graded cells keep
only that part, so they are checked as released.

The releases are generated from today's masters (as tests/test_lesson_handworked.py does), so
the test does not depend on course/ having been regenerated.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
DETAILS = re.compile(r"<details>\s*<summary>(.*?)</summary>(.*?)</details>", re.S)
HINT_TITLES = [r"Hint 1 \(a nudge\)", r"Hint 2 \(the key step\)", r"Hint 3 \(the formula\)"]

# ---------------------------------------------------------------------------- the answers
# Patterns are matched case-sensitively against the raw source; LaTeX spellings allow optional
# braces, thin spaces (\,) and \big/\left parentheses, code spellings any whitespace.
T = r"(?:\\top|T|\{\\top\}|\{T\})"  # a transpose in LaTeX
SIGMA_PAREN = r"\s*(?:\\[,;!]\s*)?(?:\\(?:big|Big|bigg|left)\s*)?\(\s*1\s*-\s*"
SIGMOID_DERIVATIVE = [
    r"\\sigma\s*\(\s*[a-z]\s*\)" + SIGMA_PAREN + r"\\sigma",  # \sigma(x)\,(1 - \sigma(x))
    r"\bs\s*\*?\s*\(\s*1(?:\.0)?\s*-\s*s\s*\)",  # s (1 - s), s * (1.0 - s)
    r"\bsig\w*\s*\*\s*\(\s*1(?:\.0)?\s*-\s*sig",  # sig * (1 - sig)
    r"sigmoid\s*\(\s*\w+\s*\)\s*\*\s*\(\s*1(?:\.0)?\s*-\s*sigmoid",  # sigmoid(x) * (1 - sigmoid(x))
    r"\\sigma\s*\(\s*[a-z]\s*\)\s*\\cdot\s*\(\s*1\s*-\s*\\sigma",
]

# final: the exercise's formula (third hint only); key: its key step (hints 2-3 only)
EXERCISES: dict[str, dict[str, dict[str, list[str]]]] = {
    "07_tensor_engine": {
        "ex_unbroadcast": {
            "final": [r"while\s+grad\.ndim\s*>\s*len\(\s*shape\s*\)"],
            "key": [
                r"over the axes that were\s+added",
                r"leading axes that `?shape`? does\s+not have",
            ],
        },
        "ex_reductions": {
            "final": [r"\\frac\{1\}\{N_\\text\{axis\}\}\s*\\?\s*\\?\s*\\mathrm\{broadcast\}"],
            "key": [
                r"copy\s+g\s+back",
                r"\*\*copies\*\*",
                r"\\bar x_\{ij\}\s*=\s*\\bar s_i",
                r"sum's VJP divided by",
            ],
        },
        "ex_add_mul": {
            "final": [r"unbroadcast\}?\s*\(\s*\\bar\s*\{?C\}?\s*\\odot\s*\{?B"],
            "key": [
                r"d\(ab\)/da\s*=\s*b",
                r"unbroadcast\s*\(\s*g\s*\*\s*b\s*,",
                r"each input gets g",
            ],
        },
        "ex_matmul": {
            "final": [
                r"\bg\s*@\s*b\w*\s*\.\s*T\b",  # g @ b.T, g @ bm.T
                r"\ba\s*\.\s*T\s*@\s*g\b",
                r"\\bar\s*\{?C\}?\s*\{?B\}?\s*\^\s*" + T,
                r"\{?A\}?\s*\^\s*" + T + r"\s*\\bar\s*\{?C",
            ],
            "key": [
                r"\bg\s*b\s*\^\s*" + T,  # (g b^T, a^T g) in a docstring
                r"\ba\s*\^\s*" + T + r"\s*g\b",
                r"\(\\bar C B\^\\top\)_\{ip\}",
                r"np\.dot\(\s*g\s*,\s*b\.T",
            ],
        },
        "ex_elementwise": {
            "final": [
                r"1\s*-\s*\\tanh\s*\^\s*\{?2\}?",  # 1 - \tanh^2 x
                *SIGMOID_DERIVATIVE[:1],
            ],
            "key": [
                r"1(?:\.0)?\s*-\s*(?:np\.)?tanh\s*\(\s*\w+\s*\)\s*\*\*\s*2",
                r"1(?:\.0)?\s*-\s*t\s*\*\s*t\b",
                *SIGMOID_DERIVATIVE[1:],
                r"\bg\s*\*\s*\(\s*a\s*>\s*0\s*\)",
                r"\bg\s*/\s*a\b",
                r"\bg\s*\*\s*np\.exp\(\s*a\s*\)",
                r"pass g where",
            ],
        },
        "ex_cross_entropy": {
            "final": [
                r"softmax\}?\s*\(\s*[a-z]\s*\)\s*-\s*(?:\\mathrm\{|\\text\{)?one[-_ ]?hot",
            ],
            "key": [
                r"\bp(?:_\{?[a-z,\s]*\}?)?\s*-\s*(?:\\mathrm\{|\\text\{)?one[-_ ]?hot",
                r"\bp_\{?[a-z,\s]*\}?\s*-\s*\[\s*c\s*=\s*y",  # p_c - [c = y]
                r"\[\s*c\s*=\s*y_?\w*\s*\]\s*-\s*p",  # [c = y] - p_c
                r"\(\s*p\s*-\s*onehot\s*\)",
            ],
        },
    },
    "08_vanishing_gradients": {
        "ex_sigmoid_bound": {
            "final": [
                SIGMOID_DERIVATIVE[0],
                r"\\lvert\s*w_l\s*\\rvert\s*\\cdot\s*0\.25\s*\^\s*\{\s*D\s*-\s*1\s*\}",
            ],
            "key": [
                *SIGMOID_DERIVATIVE[1:],
                r"\|\s*w_l\s*\|\s*\\cdot\s*0\.25",
                r"0\.25\s*\*\*\s*\(\s*len\(\s*weights\s*\)\s*-\s*1\s*\)",
                r"6\s*\*\s*0\.25\s*=",
            ],
        },
    },
    "09_fixing_gradient_flow": {
        "ex_leaky_relu": {
            "final": [r"\\begin\{cases\}\s*1\s*&\s*x\s*>\s*0\s*\\\\\s*\\alpha"],
            "key": [
                r"\$1\$\s*(?:if|for|where)\s*\$x\s*>\s*0\$\s*,?\s*(?:else\s*)?\$\\alpha\$",
                r"np\.where\(\s*x\s*>\s*0\s*,\s*1(?:\.0)?\s*,\s*negative_slope",
                r"array\(\[0\.01,\s*1\.0\]\)",
            ],
        },
        "ex_residual": {
            "final": [
                r"\bdx\s*=\s*dy\s*\+\s*dz\s*@\s*W1\s*\.\s*T",
                r"\bdW2\s*=\s*a\s*\.\s*T\s*@\s*dy",
            ],
            "key": [
                r"\ba\s*\.\s*T\s*@\s*dy\b",
                r"\bdy\s*@\s*W2\s*\.\s*T",
                r"\bx\s*\.\s*T\s*@\s*dz\b",
                r"\bdz\s*@\s*W1\s*\.\s*T",
            ],
        },
        "ex_batchnorm": {
            "final": [
                r"N\s*g_\{?n\}?\s*-\s*\\sum_\{?m\}?\s*g_\{?m\}?",  # N g_n - \sum_m g_m - ...
                r"\bn\s*\*\s*g\s*-\s*g\.sum\(",
                r"\\partial\s*\\gamma\}\s*=\s*\\sum",
            ],
            "key": [
                r"\\hat\s*\{?x\}?_\{?n\}?\s*\\sum_\{?m\}?\s*g_\{?m\}?\s*\\hat\s*\{?x\}?_\{?m\}?",
                r"x_hat\s*\*\s*\(\s*g\s*\*\s*x_hat\s*\)\s*\.sum",
                r"\\partial\s*\\beta\}\s*=\s*\\sum",
                r"three terms: N g",
            ],
        },
    },
}
ASSIGNMENTS = list(EXERCISES)


def patterns(assignment: str, kind: tuple[str, ...] = ("final", "key")) -> list[str]:
    return [p for spec in EXERCISES[assignment].values() for k in kind for p in spec[k]]


# ---------------------------------------------------------------------------- the releases
@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """The student versions of 07-09 generated from today's masters (not course/)."""
    from grader.course import generate_assignment

    root = tmp_path_factory.mktemp("course")
    for assignment in ASSIGNMENTS:
        shutil.copytree(REPO / "solutions" / assignment, root / "solutions" / assignment)
        generate_assignment(root, assignment)
    return root / "course"


def notebook(root: Path, assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(root / assignment / f"{assignment}.ipynb", as_version=4)


def grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def is_self_check(cell) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("grade")) and cell.cell_type == "code"


def visible_text(assignment: str, nb) -> list[tuple[str, str]]:
    """(where, text) of everything a student reads before opening a hint."""
    out = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            out.append((f"markdown {grade_id(cell)}", DETAILS.sub("", cell.source)))
        elif not is_self_check(cell):
            out.append((f"code {grade_id(cell)}", cell.source))
    return out


def leaks(texts: list[tuple[str, str]], pats: list[str]) -> list[str]:
    found = []
    for where, text in texts:
        for pattern in pats:
            for match in re.finditer(pattern, text):
                found.append(f"{where}: {match.group(0)!r} (pattern {pattern!r})")
    return found


def hints_before(nb, exercise: str) -> list[tuple[str, str]]:
    index = next(i for i, c in enumerate(nb.cells) if grade_id(c) == exercise)
    before = nb.cells[index - 1]
    assert before.cell_type == "markdown", f"{exercise}: the cell before it is not markdown"
    return DETAILS.findall(before.source)


# ---------------------------------------------------------------------------- the tests
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_states_no_answer_outside_the_hints(released, assignment):
    found = leaks(visible_text(assignment, notebook(released, assignment)), patterns(assignment))
    assert not found, f"{assignment} shows an answer outside the collapsed hints:\n" + "\n".join(
        found
    )


@pytest.mark.parametrize("assignment,exercise", [(a, e) for a in ASSIGNMENTS for e in EXERCISES[a]])
def test_exercise_has_three_progressive_hints_with_the_formula_last(released, assignment, exercise):
    nb = notebook(released, assignment)
    hints = hints_before(nb, exercise)
    assert len(hints) == 3, f"{exercise}: expected 3 <details> hints before it, found {len(hints)}"
    for (title, _), expected in zip(hints, HINT_TITLES, strict=True):
        assert re.fullmatch(expected, title.strip()), (
            f"{exercise}: hint titled {title!r}, expected {expected}"
        )
    spec = EXERCISES[assignment][exercise]
    formula = hints[2][1]
    assert any(re.search(p, formula) for p in spec["final"]), (
        f"{exercise}: the third hint does not give the formula ({spec['final']})"
    )
    # the formula of any exercise of the lesson appears in a third hint only
    for number, (_, body) in enumerate(hints[:2], start=1):
        found = leaks([(f"{exercise} hint {number}", body)], patterns(assignment, ("final",)))
        assert not found, "the formula is given before the third hint:\n" + "\n".join(found)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_master_exercises_keep_their_hints(assignment):
    """The hints live in the master's markdown, so the release is not their only copy."""
    nb = notebook(REPO / "solutions", assignment)
    for exercise in EXERCISES[assignment]:
        assert len(hints_before(nb, exercise)) == 3, exercise


def test_patterns_recognise_the_spellings_they_are_written_for():
    """The spellings reviewers quoted (and their LaTeX forms) are caught; task statements not."""
    caught = {
        "07_tensor_engine": [
            "Return the pair `(g @ b.T, a.T @ g)`.",
            r"$$\bar A = \bar C B^\top, \qquad \bar B = A^\top \bar C$$",
            r"\bar{C} B^{T}",
            "VJP of a @ b for 2-D arrays: (g b^T, a^T g).",
            r"$\frac{g}{N}(\mathrm{softmax}(z) - \mathrm{onehot}(y))$",
            "softmax(z) - one_hot(labels)",
            r"\frac{1}{N}(p_{ic} - [c = y_i])",
            r"| $\tanh x$ | $1 - \tanh^2 x$ |",
            r"$\sigma(x)\,(1 - \sigma(x))$",
            "g * s * (1 - s) with s = sigmoid(a)",
            "VJP of tanh: g * (1 - tanh(a)**2).",
            r"\bar A = \mathrm{unbroadcast}(\bar C \odot B)",
        ],
        "08_vanishing_gradients": [
            r"$\sigma'(z) = \sigma(z)(1-\sigma(z))$",
            r"\sigma(x)\,\big(1-\sigma(x)\big)",
            r"$\prod_{l=1}^{D} \lvert w_l\rvert \cdot 0.25^{D-1}$",
            "sig * (1 - sig)",
        ],
        "09_fixing_gradient_flow": [
            r"\Big(N g_n - \sum_m g_m - \hat x_n \sum_m g_m \hat x_m\Big)",
            "inv_std / n * (n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))",
            r"* `leaky_relu_derivative`: $1$ where $x>0$, $\alpha$ elsewhere.",
            r"| Leaky ReLU | $\max(\alpha x, x)$, $\alpha = 0.01$ | $1$ if $x>0$, else $\alpha$ |",
            "dx = dy + dz @ W1.T",
        ],
    }
    for assignment, spellings in caught.items():
        for text in spellings:
            assert leaks([("", text)], patterns(assignment)), f"{assignment}: not caught: {text!r}"
    task_statements = {
        "07_tensor_engine": [
            "Return the pair $(\\bar A, \\bar B)$ of shapes `(n, k)` and `(k, m)`",
            r"$\bar x = \bar y \odot f'(x)$",
            r"| $\mathrm{ReLU}(x) = \max(0, x)$ | the slope of each of its two pieces |",
        ],
        "09_fixing_gradient_flow": [
            r"| ELU | $x$ if $x>0$, else $\alpha(e^x-1)$ | $1$ if $x>0$, else $\alpha e^x$ |",
            r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}"
            r" + \Big(\frac{\partial F}{\partial x}\Big)^{\!\top}\frac{\partial L}{\partial y}",
        ],
    }
    for assignment, texts in task_statements.items():
        for text in texts:
            assert not leaks([("", text)], patterns(assignment)), (
                f"{assignment}: false alarm: {text!r}"
            )


def self_check_leaks(released) -> dict[str, list[str]]:
    found = {}
    for assignment in ASSIGNMENTS:
        nb = notebook(released, assignment)
        texts = [(grade_id(c), c.source) for c in nb.cells if is_self_check(c)]
        cells = leaks(texts, patterns(assignment))
        if cells:
            found[assignment] = cells
    return found


def test_released_self_checks_keep_no_hidden_tests(released):
    """The check below reads what students see: the release must have dropped the hidden tests."""
    for assignment in ASSIGNMENTS:
        for cell in notebook(released, assignment).cells:
            if is_self_check(cell):
                assert "HIDDEN TESTS" not in cell.source, (assignment, grade_id(cell))
                assert "hidden_test" not in cell.source, (assignment, grade_id(cell))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_self_checks_show_no_answer(released, assignment):
    """The visible self-checks compare with numbers, never with a spelled-out answer."""
    found = self_check_leaks(released).get(assignment, [])
    assert not found, f"{assignment}: a visible self-check shows an answer:\n" + "\n".join(found)


def test_self_check_patterns_catch_the_spellings_they_used_to_show():
    """The answers the self-checks once spelled out are caught by the patterns."""
    old = {
        "07_tensor_engine": [
            "assert np.allclose(ga, g @ bm.T)",
            "assert np.allclose(gb, a.T @ g)",
            "assert np.allclose(got, (p - onehot) / 2)",
            '"1 - tanh(a)**2, not 1 - tanh(a)"',
            '"s (1 - s)"',
            "g * (1 - np.tanh(a) ** 2)",
        ],
        "08_vanishing_gradients": ["sigma'(z) = s(1 - s) with s = sigma(z)"],
        "09_fixing_gradient_flow": ["dx needs all three terms: N g, minus the sum of g"],
    }
    for assignment, spellings in old.items():
        for text in spellings:
            assert leaks([("", text)], patterns(assignment)), f"{assignment}: not caught: {text!r}"
