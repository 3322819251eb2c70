"""autodiff_lib.tensors.function: a new op is one decorated function in one place."""

from __future__ import annotations

import numpy as np

import autodiff_lib as ad
from autodiff_lib.tensors.function import Tensor, record, tensor_method, unbroadcast


@tensor_method
def scaled_sinh(x: Tensor, scale: float = 1.0) -> Tensor:
    """The docs' worked example with a parameter: :math:`s \\sinh a`, local :math:`s \\cosh a`."""
    a = x.data
    return record("ScaledSinh", scale * np.sinh(a), (x,), lambda g: (g * scale * np.cosh(a),))


def test_a_new_op_is_a_function_a_method_and_differentiable():
    x = ad.tensor([0.5, -1.0], dtype=ad.float64, requires_grad=True)
    y = x.scaled_sinh(2.0)
    assert np.allclose(y.data, 2 * np.sinh([0.5, -1.0]))
    assert y.grad_fn.name() == "ScaledSinhBackward"
    assert np.array_equal(scaled_sinh(x, 2.0).data, y.data)
    assert ad.gradcheck(lambda t: t.scaled_sinh(3.0) * t, [x])


def test_record_builds_no_graph_without_grad_or_inside_no_grad():
    x = ad.tensor([1.0, 2.0])
    assert scaled_sinh(x).grad_fn is None and not scaled_sinh(x).requires_grad
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    with ad.no_grad():
        assert scaled_sinh(w).grad_fn is None


def test_a_binary_op_with_broadcasting_needs_only_unbroadcast():
    @tensor_method
    def weighted_sum(a: Tensor, b: Tensor) -> Tensor:
        def vjp(g):
            return unbroadcast(2 * g, a.shape), unbroadcast(3 * g, b.shape)

        return record("WeightedSum", 2 * a.data + 3 * b.data, (a, b), vjp)

    a = ad.randn(4, 3, dtype=ad.float64, requires_grad=True)
    b = ad.randn(3, dtype=ad.float64, requires_grad=True)
    assert ad.gradcheck(lambda p, q: p.weighted_sum(q), [a, b])
    b.grad = None  # gradcheck ran backward once
    a.weighted_sum(b).sum().backward()
    assert np.allclose(b.grad.data, 3 * 4)
