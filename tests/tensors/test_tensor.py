"""The Tensor engine: every op's gradient against finite differences, broadcasting, dtypes,
graph mechanics (accumulation, retain_graph, hooks, no_grad, deep graphs)."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes
from tensor_support import away_from_zero, leaf

import autodiff_lib as ad
import autodiff_lib.tensors as T
from autodiff_lib.tensors import Tensor, gradcheck
from autodiff_lib.tensors.function import record

FAST = settings(max_examples=25, deadline=None)


# --------------------------------------------------------------------------------------------
# The deck's first example and basic behaviour
# --------------------------------------------------------------------------------------------


def test_deck_example_values():
    x = ad.tensor(2.0, requires_grad=True)
    y = ad.tensor(3.0, requires_grad=True)
    f = (x + y) * (x * y)
    f.backward()
    assert (f.item(), x.grad.item(), y.grad.item()) == (30.0, 21.0, 16.0)


def test_default_dtypes_and_no_upcasting():
    assert ad.tensor(1.0).dtype == ad.float32
    assert ad.tensor([1, 2]).dtype == T.int64
    assert ad.randn(2, 3).dtype == ad.float32
    assert ad.zeros((2, 3), dtype=ad.float64).dtype == ad.float64
    x = ad.randn(3, requires_grad=True)
    y = (2.5 * x + 1) / 3.0 - 0.5 * x**2
    assert y.dtype == ad.float32
    y.sum().backward()
    assert x.grad.dtype == ad.float32
    assert (ad.tensor(np.ones(2)) * 2.0).dtype == ad.float64  # numpy keeps its dtype


def test_dtype_conversion_is_differentiable_and_grad_keeps_the_leaf_dtype():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * ad.tensor([3.0, 4.0], dtype=ad.float64)
    assert y.dtype == ad.float64
    y.sum().backward()
    assert x.grad.dtype == ad.float32 and x.grad.tolist() == [3.0, 4.0]
    assert x.float() is x and x.to(ad.float32) is x


def test_shape_constructors_accept_ints_or_tuple():
    assert ad.zeros(2, 3).shape == ad.zeros((2, 3)).shape == (2, 3)
    assert ad.ones([4]).shape == (4,)
    t = ad.randn(2, 5, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None


def test_manual_seed_makes_randn_reproducible():
    ad.manual_seed(123)
    a = ad.randn(4, 4)
    ad.manual_seed(123)
    assert np.array_equal(a.numpy(), ad.randn(4, 4).numpy())
    assert not np.array_equal(a.numpy(), ad.randn(4, 4).numpy())


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        ad.tensor([1, 2], requires_grad=True)


def test_item_numpy_detach():
    x = ad.tensor([[1.5]], requires_grad=True)
    assert x.item() == 1.5
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    d = x.detach()
    assert not d.requires_grad and d.numpy() is x.data
    with pytest.raises(ValueError):
        ad.tensor([1.0, 2.0]).item()


def test_repr_shows_grad_fn_and_requires_grad():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<MulBackward>" in repr(x * 2)
    assert (x * 2).grad_fn.name() == "MulBackward"
    assert (x * 2).grad_fn.next_functions == ((None, 0), (None, 0))


# --------------------------------------------------------------------------------------------
# Gradient checks: element-wise ops with broadcasting
# --------------------------------------------------------------------------------------------

BINARY_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


@FAST
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    op=st.sampled_from(sorted(BINARY_OPS)),
)
def test_binary_ops_gradcheck_with_broadcasting(shapes, op):
    a_shape, b_shape = shapes.input_shapes
    a = leaf(a_shape, 0.5, 2.0, seed=1)  # positive: valid base for pow, away from 0 for div
    b = leaf(b_shape, 0.5, 2.0, seed=2)
    fn = BINARY_OPS[op]
    assert fn(a, b).shape == shapes.result_shape
    assert gradcheck(fn, [a, b])


@FAST
@given(shape=array_shapes(min_dims=0, max_dims=3, max_side=3), scalar=st.floats(0.5, 3.0))
def test_ops_with_python_scalars_on_either_side(shape, scalar):
    x = leaf(shape, 0.5, 2.0)
    for fn in (
        lambda t: t + scalar,
        lambda t: scalar - t,
        lambda t: scalar * t,
        lambda t: scalar / t,
        lambda t: t**scalar,
        lambda t: scalar**t,
        lambda t: -t,
        lambda t: np.float64(scalar) * t,
        lambda t: np.full(t.shape, scalar) - t,
    ):
        assert gradcheck(fn, [x])


UNARY_OPS = {
    "exp": (lambda t: t.exp(), "any"),
    "log": (lambda t: t.log(), "positive"),
    "tanh": (lambda t: t.tanh(), "any"),
    "sigmoid": (lambda t: t.sigmoid(), "any"),
    "relu": (lambda t: t.relu(), "nonzero"),
    "abs": (lambda t: t.abs(), "nonzero"),
    "sqrt": (lambda t: t.sqrt(), "positive"),
    "pow3": (lambda t: t.pow(3), "any"),
    "clamp": (lambda t: t.clamp(min=-1.0, max=1.0), "nonzero"),
    "clamp_min": (lambda t: t.clamp(min=0.25), "nonzero"),
    "norm": (lambda t: t.norm(), "nonzero"),
    "norm_p3": (lambda t: t.norm(p=3), "nonzero"),
}


def _module_functions(t: Tensor) -> Tensor:
    return T.exp(t) + T.log(t) + T.tanh(t) + T.sigmoid(t) + T.relu(t) + T.sqrt(t) + T.abs(t)


UNARY_OPS["module_functions"] = (_module_functions, "positive")


@FAST
@given(
    shape=array_shapes(min_dims=0, max_dims=3, max_side=4), op=st.sampled_from(sorted(UNARY_OPS))
)
def test_unary_ops_gradcheck(shape, op):
    fn, domain = UNARY_OPS[op]
    if domain == "positive":
        x = leaf(shape, 0.5, 2.0)
    elif domain == "nonzero":
        x = away_from_zero(shape)
        if op == "clamp":  # keep values off the clamp boundaries at +-1 too
            x.data[np.abs(np.abs(x.data) - 1.0) < 0.05] *= 1.2
    else:
        x = leaf(shape)
    assert gradcheck(fn, [x])


def test_sigmoid_is_stable_for_large_inputs():
    x = ad.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    y = x.sigmoid()
    y.sum().backward()
    assert np.allclose(y.data, [0.0, 0.5, 1.0]) and np.allclose(x.grad.data, [0.0, 0.25, 0.0])


def test_relu_and_clamp_gradients_at_their_kinks_follow_pytorch():
    x = ad.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]
    x.grad = None
    x.clamp(min=-1.0, max=1.0).sum().backward()  # bounds pass the gradient
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


# --------------------------------------------------------------------------------------------
# Reductions, matmul, shapes, indexing
# --------------------------------------------------------------------------------------------


@FAST
@given(
    shape=array_shapes(min_dims=1, max_dims=3, max_side=4),
    keepdim=st.booleans(),
    data=st.data(),
)
def test_reductions_gradcheck(shape, keepdim, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = leaf(shape, seed=3)
    assert gradcheck(lambda t: t.sum(), [x])
    assert gradcheck(lambda t: t.mean(), [x])
    assert gradcheck(lambda t: t.sum(dim=dim, keepdim=keepdim), [x])
    assert gradcheck(lambda t: t.mean(dim=dim, keepdim=keepdim), [x])
    assert gradcheck(lambda t: t.max(dim=dim, keepdim=keepdim).values, [x])
    assert gradcheck(lambda t: t.min(dim=dim, keepdim=keepdim)[0], [x])
    assert gradcheck(lambda t: t.max(), [x])
    if shape[dim] > 1:
        assert gradcheck(lambda t: t.var(dim=dim, keepdim=keepdim), [x])
        assert gradcheck(lambda t: t.std(dim=dim), [x])


def test_sum_over_several_dims_and_max_indices():
    x = ad.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert x.sum(dim=(0, 2)).tolist() == [60.0, 92.0, 124.0]
    values, indices = x.max(dim=1)
    assert indices.tolist() == [[2] * 4] * 2 and values.shape == (2, 4)
    assert x.argmax().item() == 23


def test_full_max_shares_gradient_among_ties():
    x = ad.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]


@FAST
@given(
    case=st.sampled_from(
        [
            ((3, 4), (4, 2)),
            ((4,), (4, 2)),
            ((3, 4), (4,)),
            ((4,), (4,)),
            ((2, 3, 4), (4, 5)),
            ((3, 4), (2, 4, 5)),
            ((2, 1, 3, 4), (3, 4, 2)),
        ]
    )
)
def test_matmul_gradcheck_all_ranks(case):
    a_shape, b_shape = case
    a, b = leaf(a_shape, seed=4), leaf(b_shape, seed=5)
    assert np.allclose((a @ b).data, a.data @ b.data)
    assert gradcheck(lambda p, q: p @ q, [a, b])
    assert gradcheck(lambda p, q: T.matmul(p, q), [a, b])


def test_matmul_skips_gradient_of_constant_operand():
    w = leaf((4, 3))
    x = ad.tensor(np.ones((2, 4)), dtype=ad.float64)
    (x @ w).sum().backward()
    assert x.grad is None and np.allclose(w.grad.data, 2.0)


def test_shape_ops_gradcheck():
    x = leaf((2, 3, 4), seed=6)
    for fn in (
        lambda t: t.reshape(4, 6),
        lambda t: t.view(-1),
        lambda t: t.reshape((3, 8)) * ad.tensor(np.arange(8.0)),
        lambda t: t.transpose(0, 2),
        lambda t: t.permute(2, 0, 1),
        lambda t: t.flatten(1),
        lambda t: t.unsqueeze(1).squeeze(1),
        lambda t: t[0].T,
        lambda t: t.clone() * t,
        lambda t: t.chunk(2, dim=2)[1],
    ):
        assert gradcheck(fn, [x])


def test_indexing_gradcheck_slices_masks_and_repeated_integer_arrays():
    x = leaf((4, 5), seed=7)
    rows = ad.tensor([0, 2, 2, 3])
    for fn in (
        lambda t: t[1],
        lambda t: t[1:3, ::2],
        lambda t: t[..., -1],
        lambda t: t[:, None, 2],
        lambda t: t[rows],
        lambda t: t[rows, ad.tensor([1, 1, 4, 0])],
        lambda t: t[[0, 0, 1]],
        lambda t: t[t.data > 0],
    ):
        assert gradcheck(fn, [x])
    # a repeated index collects the gradient of every use
    x.grad = None
    x[ad.tensor([2, 2, 2])].sum().backward()
    assert np.allclose(x.grad.data[2], 3.0) and np.allclose(x.grad.data[[0, 1, 3]], 0.0)


def test_cat_and_stack_gradcheck():
    a, b, c = leaf((2, 3), seed=8), leaf((1, 3), seed=9), leaf((2, 3), seed=10)
    assert ad.cat([a, b], dim=0).shape == (3, 3)
    assert gradcheck(lambda p, q: ad.cat([p, q, p], dim=0), [a, b])
    assert gradcheck(lambda p, q: ad.cat([p, q], dim=-1), [a, c])
    assert gradcheck(lambda p, q: T.stack([p, q], dim=1), [a, c])


# --------------------------------------------------------------------------------------------
# Graph mechanics
# --------------------------------------------------------------------------------------------


def test_gradients_accumulate_across_backward_calls_until_zeroed():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]
    x.grad.zero_()
    (3 * x).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_a_variable_used_twice_gets_both_contributions():
    x = ad.tensor(3.0, requires_grad=True)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad.item() == 7.0


def test_subtraction_gradient_sign():
    a = ad.tensor(5.0, requires_grad=True)
    b = ad.tensor(2.0, requires_grad=True)
    (a - b).backward()
    assert (a.grad.item(), b.grad.item()) == (1.0, -1.0)


def test_two_leaves_never_share_one_gradient_array():
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    b = ad.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.data is not b.grad.data
    (a * 2).sum().backward()  # accumulating into a.grad must leave b.grad alone
    assert a.grad.tolist() == [3.0, 3.0] and b.grad.tolist() == [1.0, 1.0]


def test_backward_twice_raises_unless_graph_retained():
    x = ad.tensor(2.0, requires_grad=True)
    y = x**3
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 24.0
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_with_explicit_gradient_and_scalar_requirement():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    y.backward(ad.tensor([1.0, 0.0, -1.0]))
    assert x.grad.tolist() == [2.0, 0.0, -6.0]
    with pytest.raises(RuntimeError, match="does not require grad"):
        ad.tensor(1.0).backward()


def test_deep_chain_has_no_recursion_limit():
    x = ad.tensor(1.0, dtype=ad.float64, requires_grad=True)
    y = x
    for _ in range(10000):  # micrograd's recursive sort fails near 1000
        y = y * 1.0001
    y.backward()
    assert np.isclose(x.grad.item(), 1.0001**10000, rtol=1e-9)


def test_graph_has_no_reference_cycles():
    """Freed by reference counting alone: the garbage collector never has to scan graphs."""
    gc.disable()
    try:
        x = ad.randn(3, requires_grad=True)
        middle = (x * 2).sigmoid()
        watch = weakref.ref(middle.data)
        loss = (middle * x).sum()
        loss.backward()
        del middle, loss
        assert watch() is None
    finally:
        gc.enable()


def test_intermediate_arrays_are_freed_when_no_vjp_needs_them():
    x = ad.randn(4, requires_grad=True)
    z = x * 2
    watch = weakref.ref(z.data)
    y = z.sigmoid()  # sigmoid's VJP keeps its output, not its input
    del z
    assert watch() is None
    y.sum().backward()
    s = y.data
    assert np.allclose(x.grad.data, 2 * s * (1 - s))


def test_retained_tensor_dropped_before_backward_is_harmless():
    x = ad.randn(3, requires_grad=True)
    h = x * 3
    h.retain_grad()
    y = (h * h).sum()
    del h
    y.backward()
    assert np.allclose(x.grad.data, 18 * x.data)


def test_no_grad_works_as_a_decorator():
    @ad.no_grad()
    def doubled(t):
        return t * 2

    x = ad.ones(2, requires_grad=True)
    assert not doubled(x).requires_grad and (x * 2).requires_grad


def test_no_grad_and_grad_mode_switches():
    x = ad.tensor(1.0, requires_grad=True)
    with ad.no_grad():
        y = x * 2
        assert not T.is_grad_enabled()
        with T.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None and z.requires_grad
    assert T.is_grad_enabled()


def test_inplace_update_of_leaf_needs_no_grad():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        w -= 1.0
    with ad.no_grad():
        w -= 1.0
        w.mul_(2.0).add_(ad.tensor([1.0, 1.0]), alpha=0.5)
    assert w.tolist() == [0.5, 2.5] and w.requires_grad


def test_setitem_assigns_in_place_outside_the_graph():
    x = ad.zeros(2, 3)
    x[0] = 1.0
    x[1, ad.tensor([0, 2])] = ad.tensor([5.0, 6.0])
    assert x.tolist() == [[1.0, 1.0, 1.0], [5.0, 0.0, 6.0]]
    w = ad.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        w[0] = 1.0


def test_detached_branch_gets_no_gradient():
    x = ad.tensor(2.0, requires_grad=True)
    y = x * x.detach()  # treats the second factor as a constant
    y.backward()
    assert x.grad.item() == 2.0


def test_tensor_hooks_see_and_can_replace_gradients():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    seen = []
    handle = h.register_hook(lambda g: seen.append(g.tolist()))
    h.register_hook(lambda g: g * 10)
    h.sum().backward()
    assert seen == [[1.0, 1.0]] and x.grad.tolist() == [30.0, 30.0]
    handle.remove()
    x.grad = None
    h2 = x * 3
    h2.retain_grad()
    (h2 * h2).sum().backward()
    assert h2.grad.tolist() == [6.0, 12.0] and x.grad.tolist() == [18.0, 36.0]


def test_comparisons_give_bool_tensors_without_grad():
    x = ad.tensor([1.0, -2.0], requires_grad=True)
    mask = x > 0
    assert mask.dtype == np.bool_ and mask.tolist() == [True, False] and not mask.requires_grad
    assert (x == x).tolist() == [True, True]


# --------------------------------------------------------------------------------------------
# gradcheck itself must catch a wrong derivative
# --------------------------------------------------------------------------------------------


def test_gradcheck_reports_a_wrong_vjp_at_the_element_it_gets_wrong():
    def wrong_square(t: Tensor) -> Tensor:
        a = t.data
        return record("WrongSquare", a * a, (t,), lambda g: (g * a,))  # should be 2a

    constant = ad.tensor([1.0, 2.0, 3.0], dtype=ad.float64)
    x = leaf((3,))
    report = gradcheck(lambda c, t: c * wrong_square(t), [constant, x])
    assert not report and "FAILED" in str(report)
    assert report.worst_input == 1, "the position in the inputs, the constant included"
    worst = report.worst_index
    assert report.numerical == pytest.approx(2 * report.analytic, rel=1e-6)
    assert report.analytic != 0 and x.data[worst] != 0
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda t: t * 2, [ad.randn(2, requires_grad=True)])
