"""Cross-check of autodiff_lib.nn against torch.nn in float64: with the same weights and inputs,
every module gives the same outputs, input gradients, parameter gradients and running
statistics (relative tolerance 1e-6). Also init functions' bounds/statistics and gains."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch as pt
import torch.nn as ptnn
import torch.nn.functional as ptF

import autodiff_lib as ad
import autodiff_lib.nn as nn
import autodiff_lib.nn.functional as F

RTOL = 1e-6


def close(ours, ref, rtol=RTOL):
    ref = ref.detach().numpy() if isinstance(ref, pt.Tensor) else ref
    np.testing.assert_allclose(np.asarray(ours.data), ref, rtol=rtol, atol=1e-12)


def twin(ours: nn.Module, ref: ptnn.Module) -> tuple[nn.Module, ptnn.Module]:
    """Both modules in float64, ours loaded with the reference's weights (and buffers)."""
    ref = ref.double()
    ours.double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    assert list(ours.state_dict()) == list(ref.state_dict())  # same names, same order
    return ours, ref


def forward_backward(ours, ref, x: np.ndarray, steps: int = 1):
    """Run both on ``x`` ``steps`` times and compare outputs and all gradients."""
    for step in range(steps):
        xo = ad.tensor(x + step, dtype=ad.float64, requires_grad=True)
        xr = pt.tensor(x + step, dtype=pt.float64, requires_grad=True)
        yo, yr = ours(xo), ref(xr)
        close(yo, yr)
        cot = np.random.default_rng(step).standard_normal(tuple(yr.shape))
        yo.backward(ad.tensor(cot, dtype=ad.float64))
        yr.backward(pt.tensor(cot))
        close(xo.grad, xr.grad)
        for (name, po), (name_r, pr) in zip(
            ours.named_parameters(), ref.named_parameters(), strict=True
        ):
            assert name == name_r
            close(po.grad, pr.grad)
    for (_, bo), (_, br) in zip(ours.named_buffers(), ref.named_buffers(), strict=True):
        close(bo, br)


X = np.random.default_rng(0).uniform(-2, 2, (6, 5))

ACTIVATION_PAIRS = [
    (nn.Sigmoid, ptnn.Sigmoid, {}),
    (nn.Tanh, ptnn.Tanh, {}),
    (nn.ReLU, ptnn.ReLU, {}),
    (nn.LeakyReLU, ptnn.LeakyReLU, {}),
    (nn.LeakyReLU, ptnn.LeakyReLU, {"negative_slope": 0.2}),
    (nn.ELU, ptnn.ELU, {}),
    (nn.ELU, ptnn.ELU, {"alpha": 0.5}),
    (nn.SELU, ptnn.SELU, {}),
    (nn.SiLU, ptnn.SiLU, {}),
    (nn.GELU, ptnn.GELU, {}),
    (nn.GELU, ptnn.GELU, {"approximate": "tanh"}),
    (nn.Identity, ptnn.Identity, {}),
    (nn.Softmax, ptnn.Softmax, {"dim": 1}),
]


@pytest.mark.parametrize(
    "ours_cls,ref_cls,kwargs", ACTIVATION_PAIRS, ids=lambda v: getattr(v, "__name__", str(v))
)
def test_activation_modules_match(ours_cls, ref_cls, kwargs):
    forward_backward(*twin(ours_cls(**kwargs), ref_cls(**kwargs)), X)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches(bias):
    forward_backward(*twin(nn.Linear(5, 3, bias=bias), ptnn.Linear(5, 3, bias=bias)), X)


def test_sequential_mlp_matches():
    ours = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
    ref = ptnn.Sequential(
        ptnn.Linear(5, 8), ptnn.Tanh(), ptnn.Linear(8, 4), ptnn.ReLU(), ptnn.Linear(4, 2)
    )
    forward_backward(*twin(ours, ref), X)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(6, 5), (4, 5, 3)])
def test_batchnorm_train_then_eval_matches(affine, shape):
    ours, ref = twin(
        nn.BatchNorm1d(5, momentum=0.3, affine=affine),
        ptnn.BatchNorm1d(5, momentum=0.3, affine=affine),
    )
    x = np.random.default_rng(1).normal(2.0, 3.0, shape)
    if affine:  # non-trivial gamma and beta
        with pt.no_grad():
            ref.weight.uniform_(0.5, 1.5)
            ref.bias.uniform_(-1, 1)
        ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    forward_backward(ours, ref, x, steps=3)  # running mean/var after three updates compared
    assert ours.num_batches_tracked.item() == ref.num_batches_tracked.item() == 3
    ours.eval(), ref.eval()
    forward_backward(ours, ref, x * 0.5, steps=1)


def test_batchnorm_cumulative_average_matches():
    ours, ref = twin(nn.BatchNorm1d(5, momentum=None), ptnn.BatchNorm1d(5, momentum=None))
    forward_backward(ours, ref, np.random.default_rng(7).normal(1.0, 2.0, (6, 5)), steps=3)


def test_batchnorm_without_running_stats_matches():
    ours, ref = twin(
        nn.BatchNorm1d(5, track_running_stats=False), ptnn.BatchNorm1d(5, track_running_stats=False)
    )
    ours.eval(), ref.eval()
    forward_backward(ours, ref, X)


@pytest.mark.parametrize("shape,normalized", [((6, 5), 5), ((2, 3, 5), (3, 5))])
def test_layernorm_matches(shape, normalized):
    ours, ref = twin(nn.LayerNorm(normalized), ptnn.LayerNorm(normalized))
    with pt.no_grad():
        ref.weight.uniform_(0.5, 1.5)
        ref.bias.uniform_(-1, 1)
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    forward_backward(ours, ref, np.random.default_rng(2).normal(1.0, 2.0, shape))


def test_residual_matches_explicit_skip():
    ours = nn.Residual(nn.Linear(5, 5)).double()
    ref_linear = ptnn.Linear(5, 5).double()
    ours.load_state_dict(
        {f"module.{k}": v.detach().numpy() for k, v in ref_linear.state_dict().items()}
    )
    xo = ad.tensor(X, dtype=ad.float64, requires_grad=True)
    xr = pt.tensor(X, requires_grad=True)
    yo, yr = ours(xo), xr + ref_linear(xr)
    close(yo, yr)
    yo.sum().backward(), yr.sum().backward()
    close(xo.grad, xr.grad)
    close(ours.module.weight.grad, ref_linear.weight.grad)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    "ours_cls,ref_cls,kwargs",
    [
        (nn.RNNCell, ptnn.RNNCell, {}),
        (nn.RNNCell, ptnn.RNNCell, {"nonlinearity": "relu"}),
        (nn.LSTMCell, ptnn.LSTMCell, {}),
        (nn.GRUCell, ptnn.GRUCell, {}),
    ],
    ids=["rnn_tanh", "rnn_relu", "lstm", "gru"],
)
def test_recurrent_cells_match_over_a_sequence(ours_cls, ref_cls, kwargs, bias):
    ours, ref = twin(ours_cls(5, 4, bias=bias, **kwargs), ref_cls(5, 4, bias=bias, **kwargs))
    seq = np.random.default_rng(3).uniform(-1, 1, (3, 6, 5))  # three steps, batch 6
    xs_o = [ad.tensor(x, dtype=ad.float64, requires_grad=True) for x in seq]
    xs_r = [pt.tensor(x, requires_grad=True) for x in seq]
    state_o = state_r = None
    total_o, total_r = 0, 0
    for xo, xr in zip(xs_o, xs_r, strict=True):
        state_o, state_r = ours(xo, state_o), ref(xr, state_r)
        h_o = state_o[0] if isinstance(state_o, tuple) else state_o
        h_r = state_r[0] if isinstance(state_r, tuple) else state_r
        close(h_o, h_r)
        total_o, total_r = total_o + (h_o * h_o).sum(), total_r + (h_r * h_r).sum()
    total_o.backward(), total_r.backward()
    for xo, xr in zip(xs_o, xs_r, strict=True):
        close(xo.grad, xr.grad)
    for po, pr in zip(ours.parameters(), ref.parameters(), strict=True):
        close(po.grad, pr.grad)


def test_losses_match():
    logits = np.random.default_rng(4).normal(0, 3, (7, 5))
    labels = np.array([0, 4, 2, 2, 1, 3, 0])
    for reduction in ("mean", "sum", "none"):
        lo = ad.tensor(logits, dtype=ad.float64, requires_grad=True)
        lr = pt.tensor(logits, requires_grad=True)
        out_o = nn.CrossEntropyLoss(reduction=reduction)(lo, ad.tensor(labels))
        out_r = ptnn.CrossEntropyLoss(reduction=reduction)(lr, pt.tensor(labels))
        close(out_o, out_r)
        out_o.sum().backward(), out_r.sum().backward()
        close(lo.grad, lr.grad)
        target = logits[::-1].copy()
        mo = ad.tensor(logits, dtype=ad.float64, requires_grad=True)
        mr = pt.tensor(logits, requires_grad=True)
        out_o = nn.MSELoss(reduction=reduction)(mo, ad.tensor(target))
        out_r = ptnn.MSELoss(reduction=reduction)(mr, pt.tensor(target))
        close(out_o, out_r)
        out_o.sum().backward(), out_r.sum().backward()
        close(mo.grad, mr.grad)


def test_functional_softmax_family_matches():
    x = np.random.default_rng(5).normal(0, 4, (3, 6))
    for dim in (0, 1, -1):
        close(F.softmax(ad.tensor(x, dtype=ad.float64), dim), ptF.softmax(pt.tensor(x), dim))
        close(
            F.log_softmax(ad.tensor(x, dtype=ad.float64), dim), ptF.log_softmax(pt.tensor(x), dim)
        )


# --------------------------------------------------------------------------------------------
# Initialisation: same gains, same bounds, same statistics
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("linear",),
        ("sigmoid",),
        ("tanh",),
        ("relu",),
        ("leaky_relu",),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("selu",),
        ("conv1d",),
    ],
)
def test_calculate_gain_matches(args):
    assert nn.init.calculate_gain(*args) == pytest.approx(
        ptnn.init.calculate_gain(*args), rel=1e-12
    )


INIT_CASES = [
    ("xavier_uniform_", {}),
    ("xavier_uniform_", {"gain": 5 / 3}),
    ("xavier_normal_", {}),
    ("kaiming_uniform_", {}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"nonlinearity": "relu"}),
    ("kaiming_normal_", {"a": 0.1, "mode": "fan_out"}),
    ("normal_", {"mean": 0.5, "std": 0.2}),
    ("uniform_", {"a": -0.1, "b": 0.3}),
]


@pytest.mark.parametrize("name,kwargs", INIT_CASES, ids=[f"{n}{k}" for n, k in INIT_CASES])
@pytest.mark.parametrize("shape", [(300, 200), (64, 16, 3)])
def test_init_statistics_match_pytorch(name, kwargs, shape):
    ad.manual_seed(0)
    pt.manual_seed(0)
    ours = getattr(nn.init, name)(nn.Parameter(ad.zeros(shape)), **kwargs).data
    ref = getattr(ptnn.init, name)(pt.empty(shape), **kwargs).numpy()
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_allclose(ours.std(), ref.std(), rtol=0.03)
    np.testing.assert_allclose(ours.mean(), ref.mean(), atol=0.03 * ref.std() + 1e-3)
    if "uniform" in name:  # same support: compare the extremes
        np.testing.assert_allclose(ours.max(), ref.max(), rtol=0.01)
        np.testing.assert_allclose(ours.min(), ref.min(), rtol=0.01)


@pytest.mark.parametrize(
    "ours_make,ref_make",
    [
        (lambda: nn.Linear(120, 40), lambda: ptnn.Linear(120, 40)),
        (lambda: nn.LSTMCell(30, 50), lambda: ptnn.LSTMCell(30, 50)),
        (lambda: nn.GRUCell(30, 50), lambda: ptnn.GRUCell(30, 50)),
        (lambda: nn.RNNCell(30, 50), lambda: ptnn.RNNCell(30, 50)),
    ],
)
def test_default_layer_init_matches(ours_make, ref_make):
    ad.manual_seed(0)
    ours, ref = ours_make(), ref_make()
    for (name, po), (_, pr) in zip(ours.named_parameters(), ref.named_parameters(), strict=True):
        pr = pr.detach().numpy()
        assert po.shape == pr.shape and po.dtype == pr.dtype, name
        np.testing.assert_allclose(np.abs(po.data).max(), np.abs(pr).max(), rtol=0.05)
        np.testing.assert_allclose(po.data.std(), pr.std(), rtol=0.15)


def test_clip_grad_norm_matches():
    grads = [np.random.default_rng(6).normal(0, 2, s) for s in [(3, 4), (5,)]]
    ours = [nn.Parameter(ad.zeros(g.shape, dtype=ad.float64)) for g in grads]
    refs = [pt.zeros(g.shape, dtype=pt.float64, requires_grad=True) for g in grads]
    for p, r, g in zip(ours, refs, grads, strict=True):
        p.grad, r.grad = ad.tensor(g), pt.tensor(g)
    for max_norm, norm_type in [(1.0, 2.0), (100.0, 2.0), (0.5, 1.0), (0.1, float("inf"))]:
        close(
            nn.utils.clip_grad_norm_(ours, max_norm, norm_type),
            ptnn.utils.clip_grad_norm_(refs, max_norm, norm_type),
        )
        for p, r in zip(ours, refs, strict=True):
            close(p.grad, r.grad)
