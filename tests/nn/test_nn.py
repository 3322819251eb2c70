"""autodiff_lib.nn: every functional op and module gradient-checked in float64, Module
mechanics (registration, names, modes, state_dict, hooks), init statistics, clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from tensor_support import away_from_zero as _away_from_zero
from tensor_support import leaf

import autodiff_lib as ad
import autodiff_lib.nn as nn
import autodiff_lib.nn.functional as F
import autodiff_lib.tensors as T
from autodiff_lib.tensors import gradcheck

FAST = settings(max_examples=20, deadline=None)


def away_from_zero(shape, seed=0):
    return _away_from_zero(shape, seed, smallest=0.3)


def check_module(module: nn.Module, *inputs: T.Tensor) -> None:
    """Gradient-check a float64 module with respect to its inputs and all its parameters."""
    module.double()
    params = list(module.parameters())
    n = len(inputs)
    assert gradcheck(lambda *args: module(*args[:n]), [*inputs, *params])


# --------------------------------------------------------------------------------------------
# Functional ops
# --------------------------------------------------------------------------------------------

ACTIVATIONS = {
    "relu": F.relu,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.1),
    "elu": lambda t: F.elu(t, 0.7),
    "selu": F.selu,
    "silu": F.silu,
    "gelu": F.gelu,
    "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
}


@FAST
@given(
    shape=array_shapes(min_dims=1, max_dims=3, max_side=4),
    name=st.sampled_from(sorted(ACTIVATIONS)),
)
def test_activation_functions_gradcheck(shape, name):
    assert gradcheck(ACTIVATIONS[name], [away_from_zero(shape)])


def test_activation_values():
    x = ad.tensor([-2.0, 0.0, 3.0], dtype=ad.float64)
    assert F.leaky_relu(x).tolist() == [-0.02, 0.0, 3.0]
    assert np.allclose(F.elu(x).data, [math.exp(-2) - 1, 0.0, 3.0])
    assert np.allclose(
        F.selu(x).data,
        [1.0507009873554805 * 1.6732632423543772 * (math.exp(-2) - 1), 0.0, 1.0507009873554805 * 3],
    )
    assert np.allclose(F.silu(x).data, x.data / (1 + np.exp(-x.data)))
    phi = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in (-2.0, 0.0, 3.0)]
    assert np.allclose(F.gelu(x).data, phi, rtol=1e-12)
    assert np.allclose(F.gelu(x, approximate="tanh").data, phi, atol=2e-3)


@FAST
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_softmax_and_log_softmax_gradcheck(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = leaf(shape)
    assert np.allclose(F.softmax(x, dim).data.sum(axis=dim), 1.0)
    assert gradcheck(lambda t: F.softmax(t, dim), [x])
    assert gradcheck(lambda t: F.log_softmax(t, dim), [x])
    assert gradcheck(lambda t: t.softmax(dim) * t.log_softmax(dim), [x])


def test_log_softmax_is_stable_for_huge_logits():
    x = ad.tensor([[1000.0, 0.0, -1000.0]], dtype=ad.float64)
    out = F.log_softmax(x, dim=1)
    assert np.all(np.isfinite(out.data)) and np.isclose(out.data[0, 0], 0.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradcheck_and_value(reduction):
    logits = leaf((5, 4), seed=1)
    target = ad.tensor([0, 3, 1, 1, 2])
    expected = -F.log_softmax(logits, 1).data[np.arange(5), target.data]
    loss = F.cross_entropy(logits, target, reduction=reduction)
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    assert np.allclose(loss.data, reduce(expected))
    assert gradcheck(lambda t: F.cross_entropy(t, target, reduction=reduction), [logits])


def test_cross_entropy_unbatched_and_bad_targets():
    logits = leaf((4,))
    assert gradcheck(lambda t: F.cross_entropy(t, ad.tensor(2)), [logits])
    with pytest.raises(IndexError):
        F.cross_entropy(leaf((2, 3)), ad.tensor([0, 3]))
    with pytest.raises(TypeError, match="integer"):
        F.cross_entropy(leaf((2, 3)), ad.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(leaf((2, 3)), ad.tensor([0, 1]), reduction="avg")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_gradcheck(reduction):
    x, y = leaf((3, 2), seed=2), leaf((3, 2), seed=3)
    assert np.isclose(F.mse_loss(x, y).item(), np.mean((x.data - y.data) ** 2))
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, y])


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 5, 3), (3,)])
def test_linear_gradcheck_any_leading_dims(x_shape):
    x, w, b = leaf(x_shape, seed=4), leaf((2, 3), seed=5), leaf((2,), seed=6)
    assert np.allclose(F.linear(x, w, b).data, x.data @ w.data.T + b.data)
    assert gradcheck(F.linear, [x, w, b])
    assert gradcheck(lambda p, q: F.linear(p, q), [x, w])


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batch_norm_training_gradcheck(shape):
    x, w, b = leaf(shape, seed=7), leaf((3,), seed=8), leaf((3,), seed=9)
    assert gradcheck(lambda p, q, r: F.batch_norm(p, None, None, q, r, training=True), [x, w, b])


def test_batch_norm_eval_gradcheck_uses_running_stats():
    x, w, b = leaf((4, 3), seed=10), leaf((3,), seed=11), leaf((3,), seed=12)
    rm = ad.tensor([0.1, -0.2, 0.3], dtype=ad.float64)
    rv = ad.tensor([1.5, 0.5, 2.0], dtype=ad.float64)
    out = F.batch_norm(x, rm, rv, w, b, training=False)
    expected = (x.data - rm.data) / np.sqrt(rv.data + 1e-5) * w.data + b.data
    assert np.allclose(out.data, expected)
    assert gradcheck(lambda p, q, r: F.batch_norm(p, rm, rv, q, r, training=False), [x, w, b])


@pytest.mark.parametrize("shape,normalized", [((4, 5), (5,)), ((2, 3, 4), (3, 4))])
def test_layer_norm_gradcheck(shape, normalized):
    x, w, b = leaf(shape, seed=13), leaf(normalized, seed=14), leaf(normalized, seed=15)
    out = F.layer_norm(x, normalized, eps=0.0)
    axes = tuple(range(-len(normalized), 0))
    assert np.allclose(out.data.mean(axis=axes), 0.0) and np.allclose(out.data.var(axis=axes), 1.0)
    assert gradcheck(lambda p, q, r: F.layer_norm(p, normalized, q, r), [x, w, b])


# --------------------------------------------------------------------------------------------
# Modules: gradient checks with respect to inputs and parameters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Linear(3, 2),
        lambda: nn.Linear(3, 2, bias=False),
        lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid()),
        lambda: nn.Residual(nn.Sequential(nn.Linear(3, 3), nn.ReLU())),
        lambda: nn.LayerNorm(3),
        lambda: nn.BatchNorm1d(3),
        lambda: nn.Sequential(nn.Linear(3, 3), nn.ELU(), nn.LeakyReLU(0.2), nn.SELU(), nn.SiLU()),
        lambda: nn.Sequential(nn.GELU(), nn.GELU(approximate="tanh"), nn.Identity()),
    ],
)
def test_modules_gradcheck(make):
    ad.manual_seed(0)
    check_module(make(), away_from_zero((5, 3), seed=16))


def test_batchnorm_eval_mode_module_gradcheck():
    ad.manual_seed(0)
    bn = nn.BatchNorm1d(3).double()
    bn(leaf((8, 3), seed=17))  # one training step moves the running statistics
    bn.eval()
    check_module(bn, leaf((4, 3), seed=18))


@pytest.mark.parametrize("cell_type", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_recurrent_cells_gradcheck(cell_type):
    ad.manual_seed(0)
    cell = cell_type(3, 2).double()
    x, h = leaf((4, 3), seed=19), leaf((4, 2), seed=20)
    params = list(cell.parameters())
    if cell_type is nn.LSTMCell:
        c = leaf((4, 2), seed=21)
        assert gradcheck(lambda a, b, d, *p: T.cat(list(cell(a, (b, d))), 1), [x, h, c, *params])
    else:
        assert gradcheck(lambda a, b, *p: cell(a, b), [x, h, *params])


def test_recurrent_cells_shapes_names_and_defaults():
    ad.manual_seed(0)
    lstm = nn.LSTMCell(3, 5)
    assert [(n, p.shape) for n, p in lstm.named_parameters()] == [
        ("weight_ih", (20, 3)),
        ("weight_hh", (20, 5)),
        ("bias_ih", (20,)),
        ("bias_hh", (20,)),
    ]
    assert all(np.abs(p.data).max() <= 1 / math.sqrt(5) for p in lstm.parameters())
    h, c = lstm(ad.randn(3))  # unbatched input, zero initial state
    assert h.shape == c.shape == (5,)
    assert nn.GRUCell(3, 4)(ad.randn(2, 3)).shape == (2, 4)
    assert nn.RNNCell(3, 4, nonlinearity="relu")(ad.randn(2, 3)).data.min() >= 0
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="sigmoid")


def test_loss_modules():
    logits, target = leaf((4, 3)), ad.tensor([0, 1, 2, 1])
    assert np.isclose(
        nn.CrossEntropyLoss()(logits, target).item(), F.cross_entropy(logits, target).item()
    )
    x, y = leaf((4,), seed=1), leaf((4,), seed=2)
    assert np.isclose(nn.MSELoss(reduction="sum")(x, y).item(), np.sum((x.data - y.data) ** 2))


# --------------------------------------------------------------------------------------------
# BatchNorm and LayerNorm behaviour
# --------------------------------------------------------------------------------------------


def test_batchnorm_running_statistics_and_modes():
    bn = nn.BatchNorm1d(2, momentum=0.5)
    x = ad.tensor([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]])
    y = bn(x)
    assert np.allclose(y.data.mean(axis=0), 0.0, atol=1e-6)
    assert np.allclose(y.data.var(axis=0), 1.0, atol=1e-4)  # biased variance normalises
    assert np.allclose(bn.running_mean.data, 0.5 * np.array([3.0, 30.0]))
    unbiased = np.var(x.data, axis=0, ddof=1)
    assert np.allclose(bn.running_var.data, 0.5 + 0.5 * unbiased)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    before = bn.running_mean.data.copy()
    out = bn(x)
    assert np.array_equal(bn.running_mean.data, before) and bn.num_batches_tracked.item() == 1
    expected = (x.data - bn.running_mean.data) / np.sqrt(bn.running_var.data + 1e-5)
    assert np.allclose(out.data, expected, rtol=1e-5)


def test_batchnorm_without_running_stats_or_affine():
    bn = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(bn.parameters()) == [] and bn.running_mean is None
    bn.eval()  # still uses batch statistics
    assert np.allclose(bn(ad.randn(10, 3)).data.mean(axis=0), 0.0, atol=1e-5)


def test_batchnorm_errors():
    with pytest.raises(ValueError, match="more than 1 value"):
        nn.BatchNorm1d(3)(ad.randn(1, 3))
    with pytest.raises(ValueError, match="expects input"):
        nn.BatchNorm1d(3)(ad.randn(4, 5))


# --------------------------------------------------------------------------------------------
# Module mechanics
# --------------------------------------------------------------------------------------------


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU())
        self.head = nn.Linear(3, 2)
        self.scale = nn.Parameter(ad.ones(1))
        self.not_a_param = ad.ones(2)

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def test_parameter_registration_and_dotted_names():
    model = TwoLayer()
    names = [n for n, _ in model.named_parameters()]
    assert names == [
        "scale",
        "body.0.weight",
        "body.0.bias",
        "body.1.weight",
        "body.1.bias",
        "head.weight",
        "head.bias",
    ]
    assert len(list(model.parameters())) == 7
    assert [type(m).__name__ for m in model.children()] == ["Sequential", "Linear"]
    assert [n for n, _ in model.named_modules()] == [
        "",
        "body",
        "body.0",
        "body.1",
        "body.2",
        "head",
    ]
    assert isinstance(model.body[0], nn.Linear) and len(model.body) == 3
    assert [type(m).__name__ for m in model.body] == ["Linear", "BatchNorm1d", "ReLU"]
    assert isinstance(model.body[1:], nn.Sequential) and len(model.body[1:]) == 2


def test_shared_module_counts_once():
    act = nn.Sigmoid()
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, act, shared, act)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]


def test_assigning_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ad.ones(1))

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_train_eval_zero_grad_and_dtype_conversion():
    model = TwoLayer()
    assert model.training and model.body[1].training
    model.eval()
    assert not model.training and not model.body[1].training
    model.train()
    model(ad.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.double()
    assert all(p.dtype == ad.float64 for p in model.parameters())
    assert model.body[1].running_var.dtype == ad.float64
    assert model.body[1].num_batches_tracked.dtype == T.int64


def test_state_dict_round_trip_with_numpy_arrays():
    ad.manual_seed(1)
    a, b = TwoLayer(), TwoLayer()
    a(ad.randn(6, 4))  # moves BatchNorm running statistics
    state = a.state_dict()
    assert list(state)[:3] == ["scale", "body.0.weight", "body.0.bias"]
    assert "body.1.running_mean" in state and isinstance(state["head.weight"], np.ndarray)
    b.load_state_dict(state)
    x = ad.randn(3, 4)
    a.eval(), b.eval()
    assert np.array_equal(a(x).data, b(x).data)
    state["head.weight"][...] = 0  # a copy: the model is not changed through it
    assert not np.all(a.head.weight.data == 0)
    with pytest.raises(RuntimeError, match="missing"):
        b.load_state_dict({"scale": np.ones(1)})
    with pytest.raises(RuntimeError, match="size mismatch"):
        b.load_state_dict({**a.state_dict(), "scale": np.ones(2)})


def test_module_list_and_repr():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Tanh())
    assert len(layers) == 4 and len(list(layers.parameters())) == 6
    text = repr(nn.Sequential(nn.Linear(784, 256), nn.ReLU()))
    assert "(0): Linear(in_features=784, out_features=256, bias=True)" in text
    assert "(1): ReLU()" in text


def test_forward_hooks_record_activations_without_changing_the_model():
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    seen = {}
    handles = [
        layer.register_forward_hook(lambda m, inp, out, name=name: seen.__setitem__(name, out))
        for name, layer in model.named_children()
    ]
    y = model(ad.randn(5, 4))
    assert sorted(seen) == ["0", "1", "2"] and seen["2"] is y
    for h in handles:
        h.remove()
    seen.clear()
    model(ad.randn(5, 4))
    assert seen == {}


def test_full_backward_hooks_give_per_layer_gradients():
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    grads = {}
    for name, layer in model.named_children():
        layer.register_full_backward_hook(
            lambda m, gin, gout, name=name: grads.__setitem__(name, (gin, gout))
        )
    x = ad.randn(5, 4)
    out = model(x)
    h = model[1](model[0](x))
    h.retain_grad()
    model[2](h).sum().backward()
    gin, gout = grads["2"]
    assert np.allclose(gout[0].data, 1.0) and np.allclose(gin[0].data, h.grad.data)
    assert grads["0"][0] == (None,)  # the data input needs no gradient
    assert out.shape == (5, 2)


def test_forward_pre_hook_can_replace_inputs():
    layer = nn.Identity()
    layer.register_forward_pre_hook(lambda m, inputs: inputs[0] * 2)
    assert layer(ad.ones(2)).tolist() == [2.0, 2.0]


def test_backward_hook_on_a_cell_with_two_tensor_inputs_and_tuple_output():
    ad.manual_seed(0)
    cell = nn.LSTMCell(3, 2).double()
    calls = []
    cell.register_full_backward_hook(lambda m, gin, gout: calls.append((gin, gout)))
    x, h, c = leaf((4, 3)), leaf((4, 2), seed=1), leaf((4, 2), seed=2)
    h_new, c_new = cell(x, (h, c))
    h_new.sum().backward()
    assert len(calls) == 1
    grad_input, grad_output = calls[0]
    assert np.allclose(grad_input[0].data, x.grad.data)  # first positional input: x
    assert np.allclose(grad_output[0].data, 1.0)


def test_backward_hook_must_not_return_a_value():
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gin, gout: gin)
    x = ad.randn(3, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="return None"):
        layer(x).sum().backward()


# --------------------------------------------------------------------------------------------
# Initialisation
# --------------------------------------------------------------------------------------------


def test_linear_default_init_bounds_and_shape():
    ad.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)
    for p in (layer.weight, layer.bias):
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.95 * bound
    assert np.isclose(layer.weight.data.std(), bound / math.sqrt(3), rtol=0.02)


def test_calculate_gain_table():
    assert nn.init.calculate_gain("sigmoid") == 1.0
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert nn.init.calculate_gain("relu") == math.sqrt(2)
    assert nn.init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(1 / 3)
    assert nn.init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError):
        nn.init.calculate_gain("swish")


@pytest.mark.parametrize(
    "init_fn,expected_std,bound",
    [
        (lambda w: nn.init.xavier_uniform_(w), math.sqrt(2 / (300 + 200)), math.sqrt(6 / 500)),
        (lambda w: nn.init.xavier_normal_(w, gain=2.0), 2 * math.sqrt(2 / 500), None),
        (
            lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
            math.sqrt(2 / 300),
            math.sqrt(6 / 300),
        ),
        (
            lambda w: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
            math.sqrt(2 / 200),
            None,
        ),
        (lambda w: nn.init.kaiming_normal_(w, a=0.2), math.sqrt(2 / 1.04 / 300), None),
        (lambda w: nn.init.normal_(w, 1.0, 0.5), 0.5, None),
        (lambda w: nn.init.uniform_(w, -0.3, 0.3), 0.3 / math.sqrt(3), 0.3),
    ],
)
def test_init_statistics(init_fn, expected_std, bound):
    ad.manual_seed(0)
    w = nn.Parameter(ad.zeros(200, 300))  # fan_in 300, fan_out 200
    assert init_fn(w) is w
    assert np.isclose(w.data.std(), expected_std, rtol=0.02)
    if bound is not None:
        assert np.abs(w.data).max() <= bound


def test_constant_inits_and_fan_errors():
    w = nn.Parameter(ad.zeros(3, 4))
    assert np.all(nn.init.ones_(w).data == 1) and np.all(nn.init.constant_(w, 2.5).data == 2.5)
    assert np.all(nn.init.zeros_(w).data == 0)
    with pytest.raises(ValueError, match="fewer than 2"):
        nn.init.xavier_uniform_(nn.Parameter(ad.zeros(5)))
    w3 = nn.Parameter(ad.zeros(8, 4, 3))  # fan_in = 4 * 3
    ad.manual_seed(0)
    nn.init.kaiming_uniform_(w3, nonlinearity="linear")
    assert np.abs(w3.data).max() <= math.sqrt(3 / 12)


def test_init_functions_are_reproducible_with_manual_seed():
    ad.manual_seed(7)
    a = nn.Linear(5, 5).weight.data.copy()
    ad.manual_seed(7)
    assert np.array_equal(a, nn.Linear(5, 5).weight.data)


# --------------------------------------------------------------------------------------------
# Gradient clipping
# --------------------------------------------------------------------------------------------


def test_clip_grad_norm_scales_all_gradients_together():
    a = nn.Parameter(ad.zeros(2))
    b = nn.Parameter(ad.zeros(1))
    a.grad, b.grad = ad.tensor([3.0, 0.0]), ad.tensor([4.0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert np.isclose(total.item(), 5.0)
    assert np.allclose(a.grad.data, [0.6, 0.0], rtol=1e-5) and np.allclose(b.grad.data, [0.8])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=10.0)  # already small: unchanged
    assert np.isclose(total.item(), 1.0, rtol=1e-5) and np.allclose(b.grad.data, [0.8])
    a.grad = ad.tensor([-7.0, 2.0])
    assert nn.utils.clip_grad_norm_(a, 100.0, norm_type=float("inf")).item() == 7.0
