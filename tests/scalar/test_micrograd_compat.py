"""micrograd's own tests (karpathy/micrograd, test/test_engine.py), run against autodiff_lib.Value.

The two composite expressions are ported as they are (the same operations, the same checks
against PyTorch in float64), plus micrograd's check of ``tanh`` and ``exp``. Only the import
changed: ``from autodiff_lib import Value`` instead of ``from micrograd.engine import Value``.
"""

from __future__ import annotations

import torch

from autodiff_lib import Value


def test_sanity_check() -> None:
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xmg, ymg = x, y

    x = torch.Tensor([-4.0]).double()
    x.requires_grad = True
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xpt, ypt = x, y

    # forward pass went well
    assert ymg.data == ypt.data.item()
    # backward pass went well
    assert xmg.grad == xpt.grad.item()


def test_more_ops() -> None:
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    amg, bmg, gmg = a, b, g

    a = torch.Tensor([-4.0]).double()
    b = torch.Tensor([2.0]).double()
    a.requires_grad = True
    b.requires_grad = True
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    apt, bpt, gpt = a, b, g

    tol = 1e-6
    # forward pass went well
    assert abs(gmg.data - gpt.data.item()) < tol
    # backward pass went well
    assert abs(amg.grad - apt.grad.item()) < tol
    assert abs(bmg.grad - bpt.grad.item()) < tol


def test_unary_tensor_fns() -> None:
    def check_unary_fn(value_fn, tensor_fn, xs, tol=1e-6):
        for x in xs:
            xv = Value(x)
            yv = value_fn(xv)
            yv.backward()

            xt = torch.Tensor([x]).double()
            xt.requires_grad = True
            yt = tensor_fn(xt)
            yt.backward()

            # forward pass went well
            assert abs(yv.data - yt.data.item()) < tol
            # backward pass went well
            assert abs(xv.grad - xt.grad.item()) < tol

    check_unary_fn(Value.tanh, torch.Tensor.tanh, [-1.0, 0.123, 2.0])
    check_unary_fn(Value.exp, torch.Tensor.exp, [-1.0, 0.123, 2.0])
    # beyond micrograd: the other functions of autodiff_lib.Value, against PyTorch too
    check_unary_fn(Value.log, torch.Tensor.log, [0.1, 0.123, 2.0])
    check_unary_fn(Value.sigmoid, torch.Tensor.sigmoid, [-30.0, -1.0, 0.123, 2.0])
    check_unary_fn(Value.sin, torch.Tensor.sin, [-1.0, 0.123, 2.0])
    check_unary_fn(Value.cos, torch.Tensor.cos, [-1.0, 0.123, 2.0])
    check_unary_fn(lambda v: 2.0**v, lambda t: 2.0**t, [-1.0, 0.123, 2.0])


def test_accumulation_matches_pytorch() -> None:
    """A second backward adds to leaf gradients in both (micrograd issue #53)."""
    a = Value(1.5)
    out = (a * a).tanh() * a
    out.backward()
    out.backward()

    at = torch.tensor([1.5], dtype=torch.float64, requires_grad=True)
    outt = (at * at).tanh() * at
    outt.backward(retain_graph=True)
    outt.backward()
    assert abs(a.grad - at.grad.item()) < 1e-12
