"""The gradient-flow explorer driven from Python: set a control's value, check what it drew."""

from __future__ import annotations

import base64

import ipywidgets as widgets
import matplotlib
import numpy as np
import pytest

from autodiff_lib.lab.experiments import ACTIVATIONS, INITS, gradient_flow
from autodiff_lib.lab.widgets import (
    GradientFlowExplorer,
    gradient_flow_explorer,
    new_gradient_flow_figure,
    render_gradient_flow,
)
from benchmarks import bench_widgets

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def explorer() -> GradientFlowExplorer:
    return gradient_flow_explorer(depth=6, activation="sigmoid", width=16, batch=16)


def shown_png(explorer: GradientFlowExplorer) -> bytes:
    (output,) = explorer.output.outputs
    return base64.b64decode(output["data"]["image/png"])


def test_explorer_has_the_controls_the_lesson_describes(explorer):
    assert isinstance(explorer, widgets.VBox)
    assert isinstance(explorer.depth, widgets.IntSlider)
    assert (explorer.depth.min, explorer.depth.max) == (1, 50)
    assert isinstance(explorer.activation, widgets.Dropdown)
    assert list(explorer.activation.options) == list(ACTIVATIONS)
    assert list(explorer.activation.options) == [
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "elu",
        "selu",
        "swish",
        "gelu",
    ]
    assert list(explorer.init.options) == list(INITS)
    assert isinstance(explorer.residual, widgets.Checkbox)
    assert [value for _, value in explorer.norm.options] == ["none", "batchnorm", "layernorm"]
    assert explorer.norm.label == "none", "the norm dropdown must show its choice, not a blank"
    assert explorer.settings["norm"] is None
    assert isinstance(explorer.output, widgets.Output)
    assert explorer.output in explorer.children


def test_initial_draw_is_a_png_of_the_starting_settings(explorer):
    assert explorer.redraws == 1
    assert explorer.png.startswith(PNG_SIGNATURE)
    assert shown_png(explorer) == explorer.png
    assert explorer.result.depth == 6 and explorer.result.activation == "sigmoid"
    assert explorer.output.outputs[0]["data"]["text/plain"] == f"<Figure: {explorer.result.title}>"


def test_moving_the_depth_slider_redraws_for_the_new_depth(explorer):
    before = explorer.png
    explorer.depth.value = 11
    assert explorer.redraws == 2
    assert explorer.result.depth == 11 and explorer.result.grad_norms.shape == (11,)
    assert "depth 11" in explorer.result.title
    assert explorer.png != before and shown_png(explorer) == explorer.png


def test_choosing_an_activation_redraws_with_that_activation(explorer):
    explorer.activation.value = "relu"
    assert explorer.result.activation == "relu" and "relu" in explorer.result.title
    expected = gradient_flow(depth=6, activation="relu", width=16, batch=16, seed=0)
    np.testing.assert_allclose(explorer.result.grad_norms, expected.grad_norms)


def test_init_residual_and_norm_controls_each_redraw(explorer):
    explorer.init.value = "xavier"
    assert explorer.result.init == "xavier" and "init xavier" in explorer.result.title
    explorer.residual.value = True
    assert explorer.result.residual and "residual" in explorer.result.title
    explorer.norm.value = "layernorm"
    assert explorer.result.norm == "layernorm" and "layernorm" in explorer.result.title
    assert explorer.redraws == 4


def test_the_plot_matches_a_fresh_render_of_the_same_settings(explorer):
    explorer.update(depth=9, activation="tanh")
    expected = render_gradient_flow(
        gradient_flow(depth=9, activation="tanh", width=16, batch=16, seed=0),
        new_gradient_flow_figure(),
    )
    assert explorer.png == expected


def test_the_png_does_not_depend_on_the_notebooks_rcparams():
    result = gradient_flow(depth=4, activation="tanh", width=8, batch=8)
    plain = render_gradient_flow(result, new_gradient_flow_figure())
    restyled = {"font.size": 15, "figure.facecolor": (1, 1, 1, 0), "lines.linewidth": 4}
    with matplotlib.rc_context(restyled):
        assert render_gradient_flow(result, new_gradient_flow_figure()) == plain


def test_update_sets_several_controls_and_draws_once(explorer):
    result = explorer.update(depth=50, activation="gelu", init="kaiming", norm="batchnorm")
    assert explorer.redraws == 2
    assert explorer.settings == {
        "depth": 50,
        "activation": "gelu",
        "init": "he",
        "residual": False,
        "norm": "batchnorm",
    }
    assert result is explorer.result and result.depth == 50 and result.norm == "batchnorm"
    with pytest.raises(TypeError, match="unknown settings"):
        explorer.update(width=64)


def test_returning_to_earlier_settings_uses_the_cache(explorer):
    first_png, first_result = explorer.png, explorer.result
    explorer.depth.value = 20
    explorer.depth.value = 6
    assert explorer.result is first_result and explorer.png == first_png
    assert explorer.redraws == 3


def test_the_sigmoid_plot_shows_the_vanishing_gradient():
    explorer = gradient_flow_explorer(depth=30, activation="sigmoid", width=16, batch=16)
    assert explorer.result.first_to_last_ratio < 1e-8
    explorer.update(activation="relu", init="he")
    assert explorer.result.first_to_last_ratio > 1e-3


def test_bad_starting_values_are_refused():
    with pytest.raises(ValueError, match="depth"):
        gradient_flow_explorer(depth=51)
    with pytest.raises(ValueError, match="initialisation"):
        gradient_flow_explorer(init="orthogonal")


def test_bench_widgets_quick_mode_runs(capsys):
    medians = bench_widgets.main(["--quick", "--threads", "1"])
    assert set(medians) == set(bench_widgets.CONFIGURATIONS)
    for times in medians.values():
        assert all(seconds > 0 for seconds in times.values())
    out = capsys.readouterr().out
    assert "median/target" in out and "cached update" in out
