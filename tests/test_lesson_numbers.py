"""Numbers in a lesson's prose are the ones its own cells measure.

Each test runs the few master cells that measure something (in this process, no kernel) and
checks what the text says about it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import nbformat
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def cells(assignment: str) -> dict[str, nbformat.NotebookNode]:
    path = REPO / "solutions" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells}


def run(assignment: str, grade_ids: list[str], namespace: dict | None = None) -> dict:
    """Execute the named cells of a master in order in one namespace, plots discarded."""
    namespace = {"__name__": "__main__"} if namespace is None else namespace
    by_id = cells(assignment)
    show = plt.show
    plt.show = lambda *args, **kwargs: plt.close("all")
    try:
        for grade_id in grade_ids:
            exec(compile(by_id[grade_id].source, grade_id, "exec"), namespace)
    finally:
        plt.show = show
        plt.close("all")
    return namespace


def test_08_text_states_the_deck_chains_measured_first_layer_gradients():
    namespace = run(
        "08_vanishing_gradients", ["setup_imports", "demo_plot_style", "demo_deck_experiment"]
    )
    first_10, _ = namespace["first_layer"][10]
    first_20, last_20 = namespace["first_layer"][20]
    text = cells("08_vanishing_gradients")["theory_deck_reading"].source
    mantissa, exponent = f"{first_20:.1e}".split("e")
    assert f"{mantissa}\\times10^{{{int(exponent)}}}" in text, (
        f"08 says the 20-layer chain's first-layer gradient is something else than {first_20:.1e}"
    )
    mantissa, exponent = f"{first_10:.1e}".split("e")
    assert f"{mantissa}\\times10^{{{int(exponent)}}}" in text
    ratio = round(np.log10(last_20 / first_20))
    assert f"10^{{{ratio}}}" in text, f"08 should say the ratio is about 10^{ratio}"


def test_09_deep_mlp_relu_clearly_beats_sigmoid_without_batchnorm():
    namespace = {"__name__": "__main__"}
    exec("import autodiff_lib as torch\nimport autodiff_lib.nn as nn", namespace)
    run(
        "09_fixing_gradient_flow",
        ["setup_imports", "demo_plot_style", "demo_deck_models", "demo_deep_mlp_training"],
        namespace,
    )
    final = {
        label: float(np.mean(history.step_loss[-8:]))
        for label, history in namespace["histories"].items()
    }
    assert final["ReLU"] < 0.5 * final["sigmoid"], final
    assert final["sigmoid"] > 2.2, final  # the sigmoid network does not learn
    text = cells("09_fixing_gradient_flow")["theory_deep_mlp_reading"].source
    for label in ("ReLU", "sigmoid", "ReLU, default init"):
        assert f"{final[label]:.2f}" in text, (
            f"09's reading of the DeepMLP run does not state {label}'s measured {final[label]:.2f}"
        )


def test_08_text_states_the_activation_comparisons_measured_ratios():
    drawn = []

    def record_then_close(*args, **kwargs):
        for ax in plt.gcf().axes:
            drawn.extend((ax.get_title(), line.get_label(), line.get_ydata()) for line in ax.lines)
        plt.close("all")

    namespace = {"__name__": "__main__"}
    ids = ["setup_imports", "demo_plot_style", "ex_layer_gradient_norms"]
    run("08_vanishing_gradients", ids, namespace)
    show, plt.show = plt.show, record_then_close
    try:
        source = cells("08_vanishing_gradients")["demo_activation_comparison"].source
        exec(compile(source, "demo_activation_comparison", "exec"), namespace)
    finally:
        plt.show = show
    ratios = {(title, label): ys[-1] / ys[0] for title, label, ys in drawn}
    sigmoid = [np.log10(r) for (_, label), r in ratios.items() if label == "Sigmoid"]
    relu_default = np.log10(ratios[("PyTorch default init", "ReLU")])
    text = cells("08_vanishing_gradients")["theory_activation_reading"].source
    assert "$10^{5}$-$10^{10}$ times smaller" in text
    assert 5 <= min(sigmoid) and max(sigmoid) <= 10.5, sigmoid  # last over first layer, both inits
    assert "a factor $10^{3}$-$10^{4}$ over 12 layers" in text
    assert 3 <= relu_default <= 4, relu_default


def test_08_text_states_the_checkpointing_measurement():
    """Section 10's reading and the summary quote the memory the cell measures, and the
    checkpointed chain's gradients equal the plain chain's."""
    namespace = run(
        "08_vanishing_gradients", ["setup_imports", "demo_plot_style", "demo_checkpointing"]
    )
    plain, checkpointed = namespace["memory"]["plain"], namespace["memory"]["checkpointed"]
    deepest = namespace["depths"].index(64)
    text = cells("08_vanishing_gradients")["theory_checkpointing_reading"].source
    summary = cells("08_vanishing_gradients")["summary"].source
    ratio = checkpointed[deepest] / plain[deepest]
    assert f"${plain[deepest]:.1f}$ MB" in text and f"${checkpointed[deepest]:.1f}$ MB" in text
    assert f"${ratio:.2f}$ of it" in text and f"keeps {ratio:.2f} of it" in summary
    assert f"{plain[deepest]:.1f} MB at depth 64" in summary
    assert f"${checkpointed[0]:.1f}$ MB against ${plain[0]:.1f}$ MB" in text
    assert checkpointed[0] > plain[0]  # at depth 4 checkpointing does not pay
    step = (plain[-1] - plain[1]) / (namespace["depths"][-1] - namespace["depths"][1])
    assert f"${step:.2f}$ MB" in text
    plain_peak, plain_runs, plain_grads = namespace["peak_memory"](16)
    kept_peak, kept_runs, kept_grads = namespace["peak_memory"](16, 4)
    assert (plain_runs, kept_runs) == (16, 32)
    np.testing.assert_array_equal(plain_grads, kept_grads)


def test_05_control_flow_and_second_derivatives_are_what_the_text_says():
    """Section 9: the unrolled Newton loop's gradient converges to 1/(2 sqrt a), and the
    reverse-over-reverse demo gives the f' and f'' of the text and the exact Hv."""
    namespace = {"__name__": "__main__"}
    exec("import autodiff_lib as adl", namespace)
    run(
        "05_value_engine",
        ["setup_imports", "setup_helpers", "demo_style", "demo_deck_value"],
        namespace,
    )
    run("05_value_engine", ["demo_control_flow", "demo_higher_order"], namespace)
    slopes, exact = namespace["newton_slopes"], namespace["exact_slope"]
    errors = [abs(slope - exact) for slope in slopes]
    assert all(errors[k + 1] < errors[k] for k in range(4)), errors
    assert errors[5] < 1e-15
    text = cells("05_value_engine")["theory_higher_order"].source
    first, second = namespace["first"].data, namespace["inner"][0].grad
    assert f"f'(3) = 3x^2 = {first:.0f}$" in text and f"f''(3) = 6x = {second:.0f}$" in text
    np.testing.assert_allclose(namespace["hv"], namespace["exact_hv"], rtol=1e-12)
    np.testing.assert_allclose(namespace["numeric_hv"], namespace["exact_hv"], rtol=1e-7)
    # fresh inner leaves per call: a second product is not added to the first
    np.testing.assert_allclose(
        namespace["hessian_vector_product"]([1.5, -0.5], [1.0, 2.0]), namespace["hv"]
    )
