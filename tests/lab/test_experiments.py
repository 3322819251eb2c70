"""The claims lessons 08 and 09 make, checked on autodiff_lib.lab.experiments with fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_lib as ad
from autodiff_lib import nn
from autodiff_lib.data import load_deck_dataset
from autodiff_lib.lab import experiments as ex

# ---- the deck's Linear(1, 1) chain --------------------------------------------------------------


def test_create_deep_network_is_the_decks_layout():
    model = ex.create_deep_network(4)
    assert len(model) == 7
    assert all(isinstance(model[i], nn.Linear) for i in (0, 2, 4, 6))
    assert model[1] is model[3] is model[5] and isinstance(model[1], nn.Sigmoid)


@pytest.mark.parametrize("seed", range(4))
def test_sigmoid_chain_gradients_shrink_at_least_like_a_quarter_per_layer(seed):
    result = ex.linear_chain_gradients(10, "sigmoid", seed=seed)
    assert result.gradients.shape == (10,)
    # |w| <= 1 (PyTorch's default init for 1 input) and sigma' <= 1/4: a hard bound per layer
    assert np.all(result.gradients <= result.bound * (1 + 1e-6))
    assert result.gradients[0] <= 0.25**9
    per_layer_factor = (result.gradients[0] / result.gradients[-1]) ** (1 / 9)
    assert per_layer_factor < 0.25


def test_chain_gradients_match_the_chain_rule_by_hand():
    result = ex.linear_chain_gradients(3, "sigmoid", seed=1)
    ad.manual_seed(1)  # the same seed rebuilds the same weights
    model = ex.create_deep_network(3, nn.Sigmoid())
    w = [model[i].weight.item() for i in (0, 2, 4)]
    b = [model[i].bias.item() for i in (0, 2, 4)]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    z1 = w[0] * 1.0 + b[0]
    a1 = sig(z1)
    z2 = w[1] * a1 + b[1]
    a2 = sig(z2)
    # y = w3 a2 + b3: dy/dw3 = a2, dy/dw2 = w3 sig'(z2) a1, dy/dw1 = w3 sig'(z2) w2 sig'(z1) x
    d2 = w[2] * sig(z2) * (1 - sig(z2))
    expected = [abs(d2 * w[1] * sig(z1) * (1 - sig(z1))), abs(d2 * a1), abs(a2)]
    np.testing.assert_allclose(result.gradients, expected, rtol=1e-5)


def test_chain_plot_and_bad_activation():
    ax = ex.linear_chain_gradients(6).plot()
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    with pytest.raises(ValueError, match="activation"):
        ex.linear_chain_gradients(3, "softplus")


# ---- gradient flow through configurable MLPs ----------------------------------------------------


def test_sigmoid_with_default_init_vanishes():
    result = ex.gradient_flow(depth=20, activation="sigmoid", init="pytorch_default")
    assert result.grad_norms.shape == (20,)
    assert result.first_to_last_ratio < 1e-10


@pytest.mark.parametrize("depth", [20, 50])
def test_relu_with_he_init_keeps_norms_within_an_order_of_magnitude(depth):
    result = ex.gradient_flow(depth=depth, activation="relu", init="he")
    assert result.spread < 10


def test_residual_connections_keep_the_gradient():
    plain = ex.gradient_flow(depth=20, activation="sigmoid", init="pytorch_default")
    residual = ex.gradient_flow(depth=20, activation="sigmoid", residual=True)
    assert residual.first_to_last_ratio > 1e-3
    assert residual.grad_norms[0] > 1e10 * plain.grad_norms[0]


def test_batchnorm_rescues_a_deep_sigmoid_network():
    result = ex.gradient_flow(depth=20, activation="sigmoid", norm="batchnorm")
    assert result.spread < 10


def test_relu_with_default_init_has_dead_units_and_vanishes():
    result = ex.gradient_flow(depth=20, activation="relu", init="pytorch_default")
    assert result.first_to_last_ratio < 1e-4
    assert max(s.fraction_dead for s in result.activation_stats) > 0.3


def test_small_init_makes_activations_collapse():
    result = ex.gradient_flow(depth=10, activation="relu", init="normal_0.01")
    assert result.init == "small"
    assert result.activation_stats[-1].std < 1e-10 < result.activation_stats[0].std


@pytest.mark.parametrize("activation", list(ex.ACTIVATIONS))
def test_every_activation_init_and_norm_runs(activation):
    for init in ("pytorch_default", "small", "xavier", "kaiming"):
        for norm in ex.NORMS:
            result = ex.gradient_flow(
                depth=3, activation=activation, init=init, norm=norm, width=8, batch=8
            )
            assert result.grad_norms.shape == (3,) and np.all(np.isfinite(result.grad_norms))
            assert len(result.activation_stats) == 3 and len(result.activations) == 3
            assert activation in result.title and str(norm or "no norm") in result.title


def test_gradient_flow_is_reproducible_and_seeded():
    first = ex.gradient_flow(depth=5, activation="tanh", init="xavier", seed=3)
    again = ex.gradient_flow(depth=5, activation="tanh", init="xavier", seed=3)
    other = ex.gradient_flow(depth=5, activation="tanh", init="xavier", seed=4)
    np.testing.assert_array_equal(first.grad_norms, again.grad_norms)
    assert not np.allclose(first.grad_norms, other.grad_norms)


def test_gradient_flow_rejects_unknown_settings():
    with pytest.raises(ValueError, match="sigmoid, tanh"):
        ex.gradient_flow(depth=3, activation="softsign")
    with pytest.raises(ValueError, match="pytorch_default"):
        ex.gradient_flow(depth=3, init="orthogonal")
    with pytest.raises(ValueError, match="normalisation"):
        ex.gradient_flow(depth=3, norm="groupnorm")
    with pytest.raises(ValueError, match="depth"):
        ex.gradient_flow(depth=0)


def test_gradient_flow_plots():
    result = ex.gradient_flow(depth=6, activation="tanh", init="xavier")
    ax = result.plot()
    assert ax.get_yscale() == "log"
    assert ax.get_legend().get_texts()[0].get_text() == result.title
    np.testing.assert_allclose(ax.lines[0].get_ydata(), result.grad_norms)
    assert result.plot_activations().get_legend() is not None


# ---- the papers' numbers ------------------------------------------------------------------------


def test_glorot_bengio_ratios():
    standard = ex.glorot_bengio("standard")
    normalized = ex.glorot_bengio("normalized")
    assert standard.grad_std.shape == (5,)
    assert 0.05 < standard.ratio < 0.12  # the paper and measured-facts: about 0.08
    assert 0.3 < normalized.ratio < 0.55  # about 0.41
    # back-propagated gradients shrink layer after layer towards the input
    assert np.all(np.diff(standard.grad_std) > 0)
    assert standard.plot().lines[0].get_ydata()[-1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="standard"):
        ex.glorot_bengio("xavier")


def test_he_init_output_std():
    var_1 = ex.he_init_depth("var_1_over_n", batch=64)
    var_2 = ex.he_init_depth("var_2_over_n", batch=64)
    assert 1e-5 < var_1.output_std < 1e-4  # (1/sqrt 2)^30 = 3e-5
    assert 0.4 < var_2.output_std < 2.0  # about 0.8
    halving = (var_1.activation_std[-1] / var_1.activation_std[0]) ** (1 / 29)
    assert halving == pytest.approx(1 / np.sqrt(2), rel=0.1)
    assert var_2.plot().get_yscale() == "log"
    with pytest.raises(ValueError, match="var_2_over_n"):
        ex.he_init_depth("he")


# ---- exploding gradients and clipping ------------------------------------------------------------


def test_exploding_gradients_grow_by_the_scale_per_layer():
    result = ex.exploding_gradients(scale=2.0, depth=10)
    growth = result.signal_norms[0] / result.signal_norms[-1]
    assert 2.0**9 / 4 < growth < 2.0**9 * 4
    assert not np.isfinite(result.loss_after_step) or result.loss_after_step > result.loss_before
    he = ex.exploding_gradients(scale=1.0, depth=10)
    assert he.signal_norms[0] / he.signal_norms[-1] < 10
    assert result.total_norm > 1e3 * he.total_norm


def test_clipping_bounds_the_step_and_keeps_the_direction():
    raw = ex.exploding_gradients(scale=2.0, depth=10)
    clipped = ex.exploding_gradients(scale=2.0, depth=10, clip=1.0)
    assert clipped.total_norm == pytest.approx(raw.total_norm)  # measured before clipping
    assert np.linalg.norm(clipped.clipped_grad_norms) <= 1.0
    np.testing.assert_allclose(
        clipped.clipped_grad_norms / clipped.grad_norms, 1.0 / raw.total_norm, rtol=1e-3
    )
    assert clipped.loss_after_step < clipped.loss_before
    ax = clipped.plot()
    assert len(ax.lines) == 3


# ---- training ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_deck_dataset():
    return load_deck_dataset(mnist_dir="/nonexistent", max_train=768)


def test_deep_mlp_is_the_decks_architecture():
    model = ex.DeepMLP(batchnorm=True)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (784, 512),
        (512, 256),
        (256, 128),
        (128, 64),
        (64, 10),
    ]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in model.modules()) == 4
    assert len(ex.DeepMLP(batchnorm=False).model) == 9


def test_sigmoid_stalls_where_relu_with_batchnorm_learns(small_deck_dataset):
    sigmoid = ex.train_deep_mlp("sigmoid", dataset=small_deck_dataset, progress=False)
    relu_bn = ex.train_deep_mlp("relu", batchnorm=True, dataset=small_deck_dataset, progress=False)
    assert sigmoid.history.epoch_loss[-1] > 2.2  # still near ln 10 = 2.30
    assert sigmoid.test_accuracy < 0.3
    assert relu_bn.history.epoch_loss[-1] < 0.5 and relu_bn.test_accuracy > 0.8
    assert relu_bn.label == "relu + BatchNorm"
    assert relu_bn.plot().lines[0].get_label() == "relu + BatchNorm"


def test_residual_trains_where_plain_stalls():
    result = ex.residual_vs_plain(depth=20, epochs=2, progress=False)
    assert result.plain.epoch_loss[-1] > 2.2
    assert result.residual.epoch_loss[-1] < 1.8
    assert result.residual.test_accuracy[-1] > 0.6
    plain, residual = (
        result.first_step_grad_norms("plain"),
        result.first_step_grad_norms("residual"),
    )
    assert plain.shape == residual.shape == (22,)
    assert plain[0] < 1e-3 * residual[0]
    assert len(result.plot().lines) == 2


# ---- recurrent cells ---------------------------------------------------------------------------


def test_first_token_task_layout():
    x, labels = ex.first_token_task(5, 4, 3, noise=1.0, rng=np.random.default_rng(0))
    assert x.shape == (5, 4, 4) and labels.shape == (4,)
    np.testing.assert_array_equal(x[0, :, :3].argmax(axis=1), labels)
    assert np.all(x[1:, :, :3] == 0) and np.all(x[0, :, 3] == 0)


def test_open_gates_sets_the_forget_and_update_bias():
    lstm = ex.SequenceClassifier("lstm", 3, 4, 2)
    ex.open_gates_(lstm, 3.0)
    np.testing.assert_array_equal(lstm.cell.bias_ih.detach().numpy()[4:8], 3.0)
    gru = ex.SequenceClassifier("gru", 3, 4, 2)
    ex.open_gates_(gru, 2.0)
    np.testing.assert_array_equal(gru.cell.bias_ih.detach().numpy()[4:8], 2.0)
    with pytest.raises(ValueError, match="rnn, lstm, gru"):
        ex.SequenceClassifier("transformer", 3, 4, 2)


def test_gated_cells_learn_the_long_task_where_the_vanilla_rnn_stalls():
    rnn = ex.rnn_vs_gated("rnn", seq_len=40, steps=80, progress=False)
    gru = ex.rnn_vs_gated("gru", seq_len=40, steps=80, progress=False)
    lstm = ex.rnn_vs_gated("lstm", seq_len=40, steps=60, progress=False)
    assert np.mean(rnn.history.step_loss[-20:]) > 0.6 and rnn.accuracy < 0.7  # chance: ln 2
    for gated in (gru, lstm):
        assert np.mean(gated.history.step_loss[-20:]) < 0.2 and gated.accuracy > 0.9
    # at initialisation the gradient reaching the first input has vanished for the RNN only
    assert rnn.input_grad_norms[0] < 1e-6 * rnn.input_grad_norms[-1]
    assert gru.input_grad_norms[0] > 1e-2 * gru.input_grad_norms[-1]
    assert lstm.input_grad_norms[0] > 1e-2 * lstm.input_grad_norms[-1]
    assert rnn.plot_input_gradients().get_yscale() == "log"
    assert rnn.plot().lines[0].get_label() == "rnn"
