"""autodiff_lib.optim: the update equations by hand, and SGD/Adam trajectories that match
torch.optim step for step (float64, relative tolerance 1e-6)."""

from __future__ import annotations

import numpy as np
import pytest
import torch as pt

import autodiff_lib as ad
import autodiff_lib.nn as nn
import autodiff_lib.optim as optim


def param(values):
    return nn.Parameter(ad.tensor(values, dtype=ad.float64))


def test_plain_sgd_step_is_p_minus_lr_grad():
    p = param([1.0, -2.0])
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()  # grad = 2p
    opt.step()
    assert np.allclose(p.data, [0.8, -1.6])


def test_sgd_momentum_buffer_by_hand():
    p = param([1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        (3 * p).sum().backward()  # constant gradient 3
        opt.step()
    # step 1: b = 3, p = 1 - 0.3; step 2: b = 0.9*3 + 3 = 5.7, p = 0.7 - 0.57
    assert np.allclose(p.data, [0.13])
    assert np.allclose(opt.state[p]["momentum_buffer"], [5.7])  # keyed by parameter, as PyTorch


def test_adam_first_step_moves_each_coordinate_by_lr():
    p = param([1.0, -3.0, 0.5])
    opt = optim.Adam([p], lr=0.01)
    (p * p * p).sum().backward()
    opt.step()
    # bias correction makes the first step lr * g / (|g| + eps): lr * sign(g)
    assert np.allclose(p.data, [0.99, -3.01, 0.49], rtol=1e-6)


def test_zero_grad_and_parameter_groups():
    a, b = param([1.0]), param([1.0])
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    (a + b).sum().backward()
    opt.step()
    assert np.allclose(a.data, [0.9]) and np.allclose(b.data, [0.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    (a + b).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert a.grad.tolist() == [0.0]


def test_parameters_without_grad_are_skipped_and_bad_args_rejected():
    a, b = param([1.0]), param([2.0])
    opt = optim.Adam([a, b])
    (a * 2).sum().backward()
    opt.step()
    assert b.data.tolist() == [2.0] and a.data[0] != 1.0
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError):
        optim.SGD([a], lr=-1.0)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([a], betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="leaf"):
        optim.SGD([a * 2], lr=0.1)


def test_float32_parameters_stay_float32():
    layer = nn.Linear(3, 2)
    opt = optim.Adam(layer.parameters(), lr=1e-2, weight_decay=0.1)
    layer(ad.randn(4, 3)).sum().backward()
    opt.step()
    assert all(p.dtype == ad.float32 for p in layer.parameters())


# --------------------------------------------------------------------------------------------
# Trajectories against torch.optim
# --------------------------------------------------------------------------------------------

rng = np.random.default_rng(0)
X = rng.normal(size=(16, 4))
Y = rng.integers(0, 3, size=16)
W1, B1 = rng.normal(0, 0.5, (8, 4)), rng.normal(0, 0.1, 8)
W2, B2 = rng.normal(0, 0.5, (3, 8)), rng.normal(0, 0.1, 3)


def trajectory(lib, make_optimizer, steps=6):
    """Parameters after each step of training a small tanh MLP with ``lib``'s optimizer."""
    params = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in (W1, B1, W2, B2)]
    w1, b1, w2, b2 = params
    opt = make_optimizer(lib, params)
    x, y = lib.tensor(X, dtype=lib.float64), lib.tensor(Y)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        logits = (x @ w1.T + b1).tanh() @ w2.T + b2
        loss = lib.nn.functional.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


OPTIMIZERS = {
    "sgd": lambda lib, p: lib.optim.SGD(p, lr=0.5),
    "sgd_momentum": lambda lib, p: lib.optim.SGD(p, lr=0.2, momentum=0.9),
    "sgd_dampening_wd": lambda lib, p: lib.optim.SGD(
        p, lr=0.2, momentum=0.8, dampening=0.3, weight_decay=0.01
    ),
    "sgd_nesterov": lambda lib, p: lib.optim.SGD(p, lr=0.2, momentum=0.9, nesterov=True),
    "adam": lambda lib, p: lib.optim.Adam(p, lr=0.05),
    "adam_custom": lambda lib, p: lib.optim.Adam(
        p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05
    ),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_trajectory_matches_torch_optim(name):
    ours = trajectory(ad, OPTIMIZERS[name])
    ref = trajectory(pt, OPTIMIZERS[name])
    for step, (params_o, params_r) in enumerate(zip(ours, ref, strict=True)):
        for po, pr in zip(params_o, params_r, strict=True):
            np.testing.assert_allclose(po, pr, rtol=1e-6, atol=1e-12, err_msg=f"step {step}")
    assert not np.allclose(ours[-1][0], W1)  # training moved the weights
