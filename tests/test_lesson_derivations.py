"""Derivation, not transcription (issue 11 item 1): the released 03 and 05 do not hand over the
local derivatives and tangent rules their exercises ask for.

Each rule group of an exercise has a list of patterns for its key formulas, in LaTeX and in code
spellings (matched on a normalised text: no spaces, ``$``, braces or LaTeX spacing, ``**`` as
``^``, ``\\cdot`` as ``*``, ``x.data`` and ``x.value`` as ``x``). In the student version,
generated from the master as ``python -m grader release`` does:

* no pattern occurs in a code cell, nor in markdown outside ``<details>``; of a graded cell only
  the visible self-check (the text before ``### BEGIN HIDDEN TESTS``) is read: it compares with
  literal numbers and its messages name the expected value, never the rule;
* the exercise cell's docstrings and comments never mention a local derivative or tangent rule;
* every group has its three collapsed hints, in order (a nudge, the key step, the formula), and
  its formula is in the third hint and in neither of the first two.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent

#: one multiplication sign or none (LaTeX writes products by juxtaposition)
M = r"\*?"
#: an optional call or subscript after a function name: tanh, tanh(x), tanh(self)
ARG = r"(\([^()]*\))?"
#: an exponent name times a base to the power (the same name - 1): n*self^(n-1), p a^{p-1}
POWER = r"\b([a-z]+)" + M + r"[a-z_]+(\([^()]*\))?\^\(?\1-1(?!\d)"

GROUPS: dict[str, dict[str, list[str]]] = {
    "05_value_engine": {
        "+, - and unary -": [
            r"partial\(a-b\)/partialb=-1",
            r"partial\(-a\)/partiala=-1",
            r"partial\(a\+b\)/partiala=",
        ],
        "* and /": [
            r"partial\(ab\)/partiala=b",
            r"-(a|self|x)/(b|other|y)\^2",
            r"/\(?other\^2",
            r"partial\(a/b\)/partiala=1/b",
        ],
        "**": [
            POWER,
            r"partial\(a\^n\)/partiala=",
        ],
        "exp and log": [
            r"partiale\^a/partiala=e\^a",
            r"partialln" + ARG + r"a/partiala=1/a",
            r"\be\^a=o\b",
            r"out" + M + r"out\.grad",
            r"out\.grad/self\b",
        ],
        "tanh, sigmoid and relu": [
            r"1-tanh" + ARG + r"\^2",
            r"1-tanh" + ARG + r"\*tanh",
            r"1(\.0)?-(t|o|out)(\^2|\*(t|o|out)\b)",
            r"sigma" + ARG + M + r"\(1-sigma",
            r"sigmoid" + ARG + M + r"\(1-sigmoid",
            r"\b(s|o|out)" + M + r"\(1(\.0)?-(s|o|out)\)",
            r"relu'\(a\)=1",
            r"\(out>0\)" + M + r"out\.grad",
        ],
    },
    "03_forward_mode": {
        "the product *": [
            r"\bad\+bc\b",
            r"\bbc\+ad\b",
            r"a'b\+ab'",
            r"ab'\+a'b",
            r"dotxy\+xdoty",
            r"dotab\+adotb",
            r"self\.tangent\*other\+self\*other\.tangent",
            r"self\*other\.tangent\+self\.tangent\*other",
            r"\ba\*d\+b\*c\b",
            r"\bb\*c\+a\*d\b",
        ],
        "the quotient /": [
            r"\(bc-ad\)\)?/\(?c\^2",
            r"\(a'b-ab'\)\)?/\(?b\^2",
            r"\(self\.tangent\*other-self\*other\.tangent\)\)?/\(?other\^2",
        ],
        "the power **": [
            POWER,
            r"\b\d+(\.\d+)?\*x0?\^\(?-?\d",
        ],
        "exp, log, sin, cos and tanh": [
            r"\be\^a" + M + r"(a'|b)\b",
            r"\b(a'|b)/a\b",
            r"\bcos" + ARG + r"a" + M + r"(a'|b)\b",
            r"-sin" + ARG + r"a" + M + r"(a'|b)\b",
            r"\(1-tanh\^2a\)" + M + r"(a'|b)\b",
            r"\(1(\.0)?-t(\^2|\*t)\)" + M + r"(a'|b|self\.tangent)",
            r"\bcos\(self\)\*self\.tangent",
            r"-sin\(self\)\*self\.tangent",
            r"self\.tangent/self\b",
            r"\be\*self\.tangent",
            r"1-tanh" + ARG + r"\^2",
        ],
    },
}
EXERCISES = {"05_value_engine": "value_impl", "03_forward_mode": "ex_dual"}
#: words that announce a rule in a docstring or comment of an exercise cell
RULE_WORDS = re.compile(
    r"local derivative|tangent rule|product rule|quotient rule|power rule", re.I
)

DETAILS = re.compile(r"<details>.*?</details>", re.S)
HINT = re.compile(
    r"<details>\s*<summary>\s*Hint (?P<n>[123]) \((?P<kind>[^)]*)\):\s*(?P<group>.*?)\s*</summary>"
    r"(?P<body>.*?)</details>",
    re.S,
)
KINDS = {"1": "a nudge", "2": "the key step", "3": "the formula"}


def normalise(text: str) -> str:
    """One spelling for LaTeX and code: what the patterns above are written against."""
    s = text.lower().replace("**", "^").replace("ε", "eps").replace("·", "*")
    s = re.sub(r"\\(cdot|times)\b", "*", s)
    s = re.sub(r"\\[,;:! ]|~", "", s)
    s = re.sub(r"\\(left|right|mathrm|operatorname|text|bigl|bigr|big|bigg)\b", "", s)
    s = re.sub(r"\\d?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", s)
    s = s.replace("\\", "")
    s = re.sub(r"[{}$`\s]", "", s)
    s = s.replace("math.", "")
    s = re.sub(r"\.(data|value)\b", "", s)
    return s


def hits(text: str, patterns: list[str]) -> list[str]:
    flat = normalise(text)
    return [p for p in patterns if re.search(p, flat)]


def all_patterns(assignment: str) -> list[str]:
    return [p for patterns in GROUPS[assignment].values() for p in patterns]


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> dict[str, nbformat.NotebookNode]:
    """The student versions of 03 and 05, generated from the masters in a scratch course."""
    from grader import course

    root = tmp_path_factory.mktemp("derivations")
    notebooks = {}
    previous = os.environ.get("AUTODIFF_COURSE_SECRET")
    os.environ["AUTODIFF_COURSE_SECRET"] = "test-derivations"
    try:
        for assignment in GROUPS:
            shutil.copytree(REPO / "solutions" / assignment, root / "solutions" / assignment)
            course.generate_assignment(root, assignment)
            path = root / "course" / assignment / f"{assignment}.ipynb"
            notebooks[assignment] = nbformat.read(path, as_version=4)
    finally:
        if previous is None:
            os.environ.pop("AUTODIFF_COURSE_SECRET", None)
        else:
            os.environ["AUTODIFF_COURSE_SECRET"] = previous
    return notebooks


def nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


HIDDEN = "### BEGIN HIDDEN TESTS"


def visible(cell) -> str:
    """What a student reads of a graded cell: the self-check before the hidden tests."""
    return cell.source.split(HIDDEN, 1)[0]


def test_normalise_reads_latex_and_code_alike():
    tanh = GROUPS["05_value_engine"]["tanh, sigmoid and relu"]
    for spelling in (
        r"$1 - \tanh^2 x$",
        "(1 - t * t) * out.grad",
        "1 - math.tanh(x) ** 2",
        r"$1 - \mathrm{out}^2$",
        r"$\sigma(1-\sigma)$",
        "s * (1 - s) * out.grad",
    ):
        assert hits(spelling, tanh), spelling
    power = [POWER]
    for spelling in (
        r"$n \cdot self^{n-1}$",
        "exponent * self.data ** (exponent - 1)",
        r"$p\,a^{p-1}\,b$",
        "p * self.value ** (p - 1) * self.tangent",
    ):
        assert hits(spelling, power), spelling
    quotient = GROUPS["03_forward_mode"]["the quotient /"]
    for spelling in (
        r"$(bc - ad)/c^2$",
        "(self.tangent * other.value - self.value * other.tangent) / other.value**2",
        r"$\frac{a'b - ab'}{b^2}$",
    ):
        assert hits(spelling, quotient), spelling
    division = GROUPS["05_value_engine"]["* and /"]
    for spelling in ("$-self/other^2$", "out.grad * self.data / other.data**2"):
        assert hits(spelling, division), spelling
    assert not hits("$out = \\tanh(self)$; returns a new Value.", all_patterns("05_value_engine"))
    forward = all_patterns("03_forward_mode")
    for spelling in (  # spellings of the old visible self-checks of 03
        "3.0 * 7.0 + 2.0 * 5.0 (a*d + b*c)",
        '("x**3", lambda d: d**3, 3 * x0**2)',
        '("x**0.5", lambda d: d**0.5, 0.5 * x0**-0.5)',
        "1 - math.tanh(x0) ** 2",
    ):
        assert hits(spelling, forward), spelling


@pytest.mark.parametrize("assignment", sorted(GROUPS))
def test_release_hands_over_no_rule_outside_the_hints(released, assignment):
    patterns = all_patterns(assignment)
    leaks = []
    for cell in released[assignment].cells:
        meta = nbgrader(cell)
        if cell.cell_type == "code":
            text = visible(cell) if meta.get("grade") else cell.source
        else:
            text = DETAILS.sub("", cell.source)
        leaks += [f"{meta.get('grade_id')}: {p}" for p in hits(text, patterns)]
    assert not leaks, f"{assignment} shows a rule outside a collapsed hint: {leaks}"


@pytest.mark.parametrize("assignment", sorted(GROUPS))
def test_exercise_docstrings_state_what_is_computed_not_the_rule(released, assignment):
    exercise = EXERCISES[assignment]
    cell = next(c for c in released[assignment].cells if nbgrader(c).get("grade_id") == exercise)
    docs = re.findall(r'r?"""(.*?)"""', cell.source, flags=re.S)
    comments = re.findall(r"#(.*)", cell.source)
    assert len(docs) >= 15, f"{exercise}: expected a docstring on every method, found {len(docs)}"
    named = [text.strip() for text in docs + comments if RULE_WORDS.search(text)]
    assert not named, f"{exercise} names a rule in a docstring or comment: {named}"
    assert not hits("\n".join(docs + comments), all_patterns(assignment))


@pytest.mark.parametrize("assignment", sorted(GROUPS))
def test_every_rule_group_has_three_progressive_hints(released, assignment):
    markdown = "\n".join(c.source for c in released[assignment].cells if c.cell_type == "markdown")
    hints: dict[str, list] = {}
    for match in HINT.finditer(markdown):
        hints.setdefault(match["group"], []).append(match)
    patterns = all_patterns(assignment)
    for group, formulas in GROUPS[assignment].items():
        found = hints.get(group, [])
        assert [(m["n"], m["kind"]) for m in found] == list(KINDS.items()), (
            f"{assignment}, {group}: expected Hint 1 (a nudge), Hint 2 (the key step), "
            f"Hint 3 (the formula), found {[(m['n'], m['kind']) for m in found]}"
        )
        nudge, key, formula = (m["body"] for m in found)
        assert hits(formula, formulas), f"{assignment}, {group}: the third hint lacks the formula"
        for n, body in (("1", nudge), ("2", key)):
            assert not hits(body, patterns), (
                f"{assignment}, {group}: hint {n} already gives a formula: {hits(body, patterns)}"
            )
    extra = sorted(set(hints) - set(GROUPS[assignment]))
    assert not extra, f"{assignment}: hints for groups the test does not know: {extra}"


@pytest.mark.parametrize("assignment", sorted(GROUPS))
def test_visible_self_checks_of_the_masters_compare_with_numbers(assignment):
    """The same check on the masters, so a leak shows before a release is generated."""
    path = REPO / "solutions" / assignment / f"{assignment}.ipynb"
    cells = nbformat.read(path, as_version=4).cells
    graded = [c for c in cells if c.cell_type == "code" and nbgrader(c).get("grade")]
    checks = [c for c in graded if HIDDEN in c.source]
    assert checks, f"{assignment}: no graded self-check with hidden tests found"
    patterns = all_patterns(assignment)
    leaks = [
        f"{nbgrader(c).get('grade_id')}: {p}" for c in checks for p in hits(visible(c), patterns)
    ]
    assert not leaks, f"{assignment}: a visible self-check spells a rule: {leaks}"
