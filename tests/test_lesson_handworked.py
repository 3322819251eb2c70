"""The hand-worked backward passes of lessons 03 and 04 (issue 11: hand-worked backprop first).

* 04: the self-check of the neuron worked by hand fails, naming the node and its rule, when one
  gradient is wrong, and passes the master's answers; the unfinished release only asks for them.
* 03: the numbers of the primal and adjoint trace tables are the ones the notebook's cells
  compute, and the rows left blank (?) are exactly the exercise's, whose master answers agree.
* Neither released notebook contains the hand-worked answers.

The cells run in this process (no kernel), as in tests/test_lesson_numbers.py.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
NEURON_NODES = ["o", "n", "s", "b", "x1w1", "x2w2", "x1", "w1", "x2", "w2"]
ADJOINT_ANSWERS = ["vbar3", "xbar1", "xbar2"]


def cells(assignment: str, root: Path = REPO / "solutions") -> dict[str, nbformat.NotebookNode]:
    notebook = nbformat.read(root / assignment / f"{assignment}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells}


def run(assignment: str, sources: list[tuple[str, str]]) -> dict:
    """Execute ``(name, source)`` pairs in order in one namespace, plots discarded."""
    namespace: dict = {"__name__": "__main__"}
    show = plt.show
    plt.show = lambda *args, **kwargs: plt.close("all")
    try:
        for name, source in sources:
            exec(compile(source, name, "exec"), namespace)
    finally:
        plt.show = show
        plt.close("all")
    return namespace


# --------------------------------------------------------------------------- 04: the neuron

NEURON_SETUP = ["setup_imports", "demo_style", "demo_neuron_graph"]


def run_neuron_check(exercise_source: str | None = None, extra: str = "") -> dict:
    by_id = cells("04_computational_graphs")
    exercise = (
        by_id["practice_neuron_by_hand"].source if exercise_source is None else exercise_source
    )
    sources = [(g, by_id[g].source) for g in NEURON_SETUP]
    sources += [("practice_neuron_by_hand", exercise + extra)]
    sources += [("check_neuron_by_hand", by_id["check_neuron_by_hand"].source)]
    return run("04_computational_graphs", sources)


def test_04_master_passes_its_hand_worked_self_check(capsys):
    run_neuron_check()
    assert "All ten gradients agree" in capsys.readouterr().out


@pytest.mark.parametrize("node", NEURON_NODES)
def test_04_self_check_names_the_node_whose_gradient_is_wrong(node):
    # the master's answers with exactly one value changed
    wrong_one = (
        "\n\n_right = neuron_gradients_by_hand\n\n\n"
        "def neuron_gradients_by_hand():\n"
        "    grads = _right()\n"
        f"    grads[{node!r}] += 0.25\n"
        "    return grads\n"
    )
    with pytest.raises(AssertionError) as failure:
        run_neuron_check(extra=wrong_one)
    message = str(failure.value)
    assert message.startswith(f"grad_{node} is wrong"), message
    rule = {"o": "seed", "n": "tanh", "s": "add", "b": "add", "x1w1": "add", "x2w2": "add"}
    assert rule.get(node, "OTHER input") in message, f"no hint about the rule at {node}: {message}"


@pytest.mark.parametrize(
    ("find", "replace", "node", "hint"),
    [
        ("(1.0 - o**2) * grad_o", "(1.0 - o) * grad_o", "n", "1 - o**2"),
        ('grad_w1 = neuron_values["x1"]', 'grad_w1 = neuron_values["w1"]', "w1", "OTHER input, x1"),
        ('grad_x2 = neuron_values["w2"]', 'grad_x2 = neuron_values["x2"]', "x2", "OTHER input, w2"),
        ("grad_b = grad_n", "grad_b = 0.0", "b", "passes grad_n on to b unchanged"),
    ],
    ids=["tanh-without-square", "mul-not-swapped-w1", "mul-not-swapped-x2", "add-drops-b"],
)
def test_04_self_check_explains_the_usual_mistakes(find, replace, node, hint):
    source = cells("04_computational_graphs")["practice_neuron_by_hand"].source
    assert find in source
    with pytest.raises(AssertionError) as failure:
        run_neuron_check(source.replace(find, replace))
    assert str(failure.value).startswith(f"grad_{node} is wrong") and hint in str(failure.value)


def test_04_unfinished_exercise_only_asks_for_the_gradients(capsys):
    released = cells("04_computational_graphs")["practice_neuron_by_hand"].source
    blank = re.sub(
        r"### BEGIN SOLUTION.*?### END SOLUTION",
        "raise NotImplementedError()",
        released,
        flags=re.DOTALL,
    )
    run_neuron_check(blank)
    assert "Fill in neuron_gradients_by_hand()" in capsys.readouterr().out


def test_04_text_states_the_neuron_the_cells_compute():
    namespace = run_neuron_check()
    inputs = namespace["NEURON_INPUTS"]
    text = cells("04_computational_graphs")["theory_neuron_by_hand"].source
    for name, latex in (("x1", "x_1"), ("w1", "w_1"), ("x2", "x_2"), ("w2", "w_2"), ("b", "b")):
        stated = f"${latex} = {inputs[name]:g}$"
        assert stated in text, f"04's text does not state {stated}, the value the cells use"


# --------------------------------------------------------------------------- 03: the traces

TABLE_ROW = re.compile(r"^\|\s*\$(.+?)\$\s*\|(.*)\|\s*(\S+)\s*\|\s*$")


def trace_tables() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The (node, value) rows of the primal and the adjoint trace tables of 03."""
    text = cells("03_forward_mode")["theory_adjoint_trace"].source
    primal, adjoint = [], []
    for line in text.splitlines():
        row = TABLE_ROW.match(line)
        if not row:
            continue
        label, value = row.group(1), row.group(3)
        bar = re.fullmatch(r"\\bar ([vx])_\{?(-?\d+)\}?", label)
        if bar:
            adjoint.append((f"{bar.group(1)}bar{bar.group(2)}", value))
        else:
            plain = re.fullmatch(r"v_\{?(-?\d+)\}?|y", label)
            assert plain, f"unexpected row label {label!r} in 03's trace tables"
            primal.append(("y" if label == "y" else f"v{plain.group(1)}", value))
    return primal, adjoint


def run_traces() -> dict:
    by_id = cells("03_forward_mode")
    names = [
        "setup_imports",
        "demo_deck_example",
        "demo_primal_trace",
        "practice_adjoints_by_hand",
        "check_adjoints_by_hand",
        "demo_adjoint_trace",
    ]
    return run("03_forward_mode", [(g, by_id[g].source) for g in names])


def test_03_primal_table_states_what_the_cell_computes():
    namespace = run_traces()
    computed = dict(namespace["trace"], y=namespace["trace"]["v5"])
    primal, _ = trace_tables()
    assert [name for name, _ in primal] == ["v-1", "v0", "v1", "v2", "v3", "v4", "v5", "y"]
    for name, value in primal:
        assert value == f"{computed[name]:.3f}", (
            f"03's primal table: {name} = {value}, the cell computes {computed[name]:.3f}"
        )


def test_03_adjoint_table_states_what_the_cell_computes():
    namespace = run_traces()
    rows = namespace["adjoint_rows"]
    _, adjoint = trace_tables()
    assert [name for name, _ in adjoint] == [name for name, _ in rows], (
        "03's adjoint table lists other lines than adjoint_trace computes"
    )
    blanks = []
    for (name, stated), (_, value) in zip(adjoint, rows, strict=True):
        if stated == "?":
            blanks.append(name)
        else:
            assert stated == f"{value:.3f}", (
                f"03's adjoint table: {name} = {stated}, the cell computes {value:.3f}"
            )
    # the blanks are the exercise's adjoints and what follows from them; the master's answers agree
    assert blanks == ["vbar3", "vbar0", "vbar0", "vbar-1", "xbar1", "xbar2"], blanks
    answers = namespace["adjoints_by_hand"]()
    final = dict(rows)  # the last row of each name: the complete adjoint
    for name in ADJOINT_ANSWERS:
        assert answers[name] == pytest.approx(final[name], rel=1e-12), name


def test_03_self_check_names_the_wrong_adjoint():
    by_id = cells("03_forward_mode")
    for name in ADJOINT_ANSWERS:
        wrong_one = (
            "\n\n_right = adjoints_by_hand\n\n\n"
            "def adjoints_by_hand():\n"
            "    answers = _right()\n"
            f"    answers[{name!r}] = -answers[{name!r}]\n"
            "    return answers\n"
        )
        sources = [(g, by_id[g].source) for g in ("setup_imports", "demo_primal_trace")]
        sources += [("ex", by_id["practice_adjoints_by_hand"].source + wrong_one)]
        sources += [("check", by_id["check_adjoints_by_hand"].source)]
        with pytest.raises(AssertionError) as failure:
            run("03_forward_mode", sources)
        assert str(failure.value).startswith(f"{name} is wrong"), str(failure.value)


# --------------------------------------------------------------------------- the releases


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """The student versions of 03 and 04 generated from today's masters (not course/)."""
    from grader.course import generate_assignment

    root = tmp_path_factory.mktemp("course")
    for assignment in ("03_forward_mode", "04_computational_graphs"):
        shutil.copytree(REPO / "solutions" / assignment, root / "solutions" / assignment)
        generate_assignment(root, assignment)
    return root / "course"


def assigned_names(source: str) -> set[str]:
    return {
        target.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def spellings(value: float) -> set[str]:
    return {f"{abs(value):.{digits}f}" for digits in range(3, 7)}


def test_released_04_does_not_contain_the_hand_worked_gradients(released):
    answers = run_neuron_check()["neuron_gradients_by_hand"]()
    text = (released / "04_computational_graphs" / "04_computational_graphs.ipynb").read_text()
    for node in NEURON_NODES[1:]:  # grad_o = 1 is given
        leaked = {s for s in spellings(answers[node]) if s in text}
        assert not leaked, f"the released 04 shows grad_{node} ({sorted(leaked)})"
    exercise = cells("04_computational_graphs", released)["practice_neuron_by_hand"].source
    assert "raise NotImplementedError()" in exercise
    assert assigned_names(exercise) == {"grad_o"}, assigned_names(exercise)


def test_released_03_does_not_contain_the_hand_worked_adjoints(released):
    answers = run_traces()["adjoints_by_hand"]()
    text = (released / "03_forward_mode" / "03_forward_mode.ipynb").read_text()
    assert not {s for s in spellings(answers["xbar2"]) if s in text}
    assert f"{answers['xbar1']:.1f}" not in text and f"{answers['xbar1']:.3f}" not in text
    exercise = cells("03_forward_mode", released)["practice_adjoints_by_hand"].source
    assert "raise NotImplementedError()" in exercise
    assert not assigned_names(exercise) & set(ADJOINT_ANSWERS), assigned_names(exercise)
    table = cells("03_forward_mode", released)["theory_adjoint_trace"].source
    assert re.search(r"^\| \$\\bar v_3\$ \|.*\| \? \|$", table, re.MULTILINE), "v̄3 is shown"
