r"""Every built-in tensor operation, each defined the one public way (:mod:`.function`).

Each op is a function: its forward rule with numpy, and next to it its VJP, the local
derivative applied to the incoming gradient :math:`\bar y`, handed to :func:`record`.
:func:`tensor_method` makes each a method too (``exp(x)`` is ``x.exp()``, ``__add__`` is
``x + y``). The functions keep PyTorch's names, so inside this module ``sum``, ``max``,
``min``, ``abs`` and ``pow`` are the tensor ops, not Python's builtins.

Example::

    >>> import autodiff_lib as torch
    >>> x = torch.tensor(2.0, requires_grad=True)
    >>> y = torch.tensor(3.0, requires_grad=True)
    >>> f = (x + y) * (x * y)
    >>> f.backward()
    >>> x.grad.item(), y.grad.item()
    (21.0, 16.0)

Broadcasting follows numpy; the gradient of a broadcast input is summed back over the
broadcast axes (:func:`unbroadcast`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from autodiff_lib.core.rules import exponent_rule, power_rule
from autodiff_lib.tensors.function import (
    Array,
    Tensor,
    from_numpy,
    normalize_dims,
    record,
    shape_argument,
    tensor_method,
    unbroadcast,
)
from autodiff_lib.tensors.tensor_type import DEFAULT_DTYPE, int64, numpy_index

# the tensor functions of the top-level namespace (autodiff_lib.exp, ...); every op here is
# also a Tensor method
__all__ = [
    "cat",
    "stack",
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "relu",
    "sqrt",
    "abs",
    "matmul",
    "softmax",
    "log_softmax",
    "MaxResult",
]


class MaxResult(NamedTuple):
    """``(values, indices)`` as returned by ``Tensor.max(dim)``, like ``torch.return_types.max``."""

    values: Tensor
    indices: Tensor


@functools.cache
def _exp_limit(dtype: np.dtype) -> float:
    """An exponent whose ``exp`` is finite in ``dtype`` (87.7 for float32, 708.8 for float64)."""
    return float(np.log(np.finfo(dtype).max)) - 1.0


# --------------------------------------------------------------------------------------------
# Copies and conversions that stay in the graph
# --------------------------------------------------------------------------------------------


@tensor_method
def clone(x: Tensor) -> Tensor:
    """A copy of the data that stays in the graph (gradient flows back unchanged)."""
    return record("Clone", x.data.copy(), (x,), lambda g: (g,))


@tensor_method
def to(x: Tensor, dtype: Any) -> Tensor:
    """Convert to ``dtype`` (differentiable: the gradient is converted back)."""
    dtype = np.dtype(dtype)
    if dtype == x.dtype:
        return x
    source = x.dtype
    return record("ToCopy", x.data.astype(dtype), (x,), lambda g: (g.astype(source),))


# --------------------------------------------------------------------------------------------
# Element-wise arithmetic
# --------------------------------------------------------------------------------------------


def _coerce(x: Tensor, other: Any) -> Tensor:
    """Wrap a number or array as a constant tensor; Python numbers take this tensor's dtype."""
    if isinstance(other, Tensor):
        return other
    if isinstance(other, int | float) and not isinstance(other, bool):
        kind = x.dtype.kind
        dtype = x.dtype if kind == "f" or isinstance(other, int) else DEFAULT_DTYPE
        return from_numpy(np.asarray(other, dtype=dtype))
    return from_numpy(np.asarray(other))


@tensor_method
def __add__(x: Tensor, other: Any) -> Tensor:
    """:math:`a + b`; local derivatives 1 and 1."""
    other = _coerce(x, other)
    a_shape, b_shape = x.shape, other.shape

    def vjp(g: Array) -> tuple[Array, Array]:
        return unbroadcast(g, a_shape), unbroadcast(g, b_shape)

    return record("Add", x.data + other.data, (x, other), vjp)


@tensor_method
def __radd__(x: Tensor, other: Any) -> Tensor:
    return _coerce(x, other) + x


@tensor_method
def __sub__(x: Tensor, other: Any) -> Tensor:
    """:math:`a - b`; local derivatives 1 and -1."""
    other = _coerce(x, other)
    a_shape, b_shape = x.shape, other.shape
    need_b = other.requires_grad

    def vjp(g: Array) -> tuple[Array, Array | None]:
        return unbroadcast(g, a_shape), unbroadcast(-g, b_shape) if need_b else None

    return record("Sub", x.data - other.data, (x, other), vjp)


@tensor_method
def __rsub__(x: Tensor, other: Any) -> Tensor:
    return _coerce(x, other) - x


@tensor_method
def __neg__(x: Tensor) -> Tensor:
    """:math:`-a`; local derivative -1."""
    return record("Neg", -x.data, (x,), lambda g: (-g,))


@tensor_method
def __mul__(x: Tensor, other: Any) -> Tensor:
    """:math:`a b`; local derivatives :math:`b` and :math:`a`."""
    other = _coerce(x, other)
    a, b = x.data, other.data
    need_a, need_b = x.requires_grad, other.requires_grad

    def vjp(g: Array) -> tuple[Array | None, Array | None]:
        return (
            unbroadcast(g * b, a.shape) if need_a else None,
            unbroadcast(g * a, b.shape) if need_b else None,
        )

    return record("Mul", a * b, (x, other), vjp)


@tensor_method
def __rmul__(x: Tensor, other: Any) -> Tensor:
    return _coerce(x, other) * x


@tensor_method
def __truediv__(x: Tensor, other: Any) -> Tensor:
    """:math:`a / b`; local derivatives :math:`1/b` and :math:`-a/b^2`."""
    other = _coerce(x, other)
    a, b = x.data, other.data
    if a.dtype.kind != "f" and b.dtype.kind != "f":
        a = a.astype(DEFAULT_DTYPE)
    need_a, need_b = x.requires_grad, other.requires_grad

    def vjp(g: Array) -> tuple[Array | None, Array | None]:
        return (
            unbroadcast(g / b, a.shape) if need_a else None,
            unbroadcast(-g * a / (b * b), b.shape) if need_b else None,
        )

    return record("Div", a / b, (x, other), vjp)


@tensor_method
def __rtruediv__(x: Tensor, other: Any) -> Tensor:
    return _coerce(x, other) / x


@tensor_method
def __pow__(x: Tensor, exponent: Any) -> Tensor:
    r""":math:`a^p`; local derivatives :math:`p\,a^{p-1}` and :math:`a^p \ln a`.

    Both from :mod:`autodiff_lib.core.rules`, so the limits at :math:`a = 0` are those of
    ``Value``: 0 for :math:`p = 0`, :math:`+\infty` for :math:`0 < p < 1`.
    """
    if not isinstance(exponent, Tensor):
        p = exponent
        a = x.data
        return record("Pow", a**p, (x,), lambda g: (g * power_rule(a, p),))
    a, b = x.data, exponent.data
    out = a**b
    need_a, need_b = x.requires_grad, exponent.requires_grad

    def vjp(g: Array) -> tuple[Array | None, Array | None]:
        return (
            unbroadcast(g * power_rule(a, b), a.shape) if need_a else None,
            unbroadcast(g * exponent_rule(a, out), b.shape) if need_b else None,
        )

    return record("Pow", out, (x, exponent), vjp)


@tensor_method
def __rpow__(x: Tensor, base: Any) -> Tensor:
    return _coerce(x, base) ** x


@tensor_method
def pow(x: Tensor, exponent: Any) -> Tensor:
    """Same as ``x ** exponent``."""
    return x**exponent


@tensor_method
def __matmul__(x: Tensor, other: Any) -> Tensor:
    return matmul(x, other)


@tensor_method
def __rmatmul__(x: Tensor, other: Any) -> Tensor:
    return matmul(_coerce(x, other), x)


# --------------------------------------------------------------------------------------------
# Element-wise functions
# --------------------------------------------------------------------------------------------


@tensor_method
def exp(x: Tensor) -> Tensor:
    r""":math:`e^a`; local derivative :math:`e^a` (the output itself)."""
    out = np.exp(x.data)
    return record("Exp", out, (x,), lambda g: (g * out,))


@tensor_method
def log(x: Tensor) -> Tensor:
    r""":math:`\ln a`; local derivative :math:`1/a`."""
    a = x.data
    return record("Log", np.log(a), (x,), lambda g: (g / a,))


@tensor_method
def tanh(x: Tensor) -> Tensor:
    r""":math:`\tanh a`; local derivative :math:`1 - \tanh^2 a`."""
    out = np.tanh(x.data)
    return record("Tanh", out, (x,), lambda g: (g * (1 - out * out),))


@tensor_method
def sigmoid(x: Tensor) -> Tensor:
    r""":math:`\sigma(a) = 1/(1+e^{-a})`; local derivative :math:`\sigma(a)(1-\sigma(a))`."""
    a = x.data if x.dtype.kind == "f" else x.data.astype(DEFAULT_DTYPE)
    out = np.empty_like(a)  # computed in one buffer: e^{-a}, then 1 + e^{-a}, then 1 / it
    np.negative(a, out=out)
    # cap the exponent so that e^{-a} cannot overflow (numpy would warn): where the cap acts,
    # sigma(a) is below the smallest normal float either way
    np.minimum(out, _exp_limit(out.dtype), out=out)
    np.exp(out, out=out)
    out += 1
    np.divide(1, out, out=out)

    def vjp(g: Array) -> tuple[Array]:
        local = 1 - out  # sigma (1 - sigma), built in one buffer
        local *= out
        local *= g
        return (local,)

    return record("Sigmoid", out, (x,), vjp)


@tensor_method
def relu(x: Tensor) -> Tensor:
    r""":math:`\max(a, 0)`; local derivative 1 where :math:`a > 0`, else 0."""
    out = np.maximum(x.data, 0)
    # out > 0 exactly where a > 0: the VJP keeps the output, so the input can be freed
    return record("Relu", out, (x,), lambda g: (g * (out > 0),))


@tensor_method
def abs(x: Tensor) -> Tensor:
    r""":math:`|a|`; local derivative :math:`\operatorname{sign}(a)` (0 at 0)."""
    a = x.data
    return record("Abs", np.abs(a), (x,), lambda g: (g * np.sign(a),))


@tensor_method
def sqrt(x: Tensor) -> Tensor:
    r""":math:`\sqrt a`; local derivative :math:`1/(2\sqrt a)`."""
    out = np.sqrt(x.data)
    return record("Sqrt", out, (x,), lambda g: (g / (2 * out),))


@tensor_method
def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    r"""Clip to :math:`[\min, \max]`; local derivative 1 inside (bounds included), 0 outside."""
    if min is None and max is None:
        raise ValueError("clamp needs at least one of min and max")
    a = x.data
    inside = np.ones(a.shape, dtype=bool)
    if min is not None:
        inside &= a >= min
    if max is not None:
        inside &= a <= max
    out = np.clip(a, min, max)
    return record("Clamp", out, (x,), lambda g: (g * inside,))


@tensor_method
def clip(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Same as :func:`clamp`."""
    return clamp(x, min, max)


# --------------------------------------------------------------------------------------------
# Reductions
# --------------------------------------------------------------------------------------------


@tensor_method
def sum(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    r""":math:`\sum_i a_i` over ``dim`` (all by default); each input gets the output's grad."""
    axes = normalize_dims(dim, x.ndim)
    shape = x.shape

    def vjp(g: Array) -> tuple[Array]:
        if not keepdim:
            g = np.expand_dims(g, axes)
        return (np.broadcast_to(g, shape),)

    return record("Sum", x.data.sum(axis=axes, keepdims=keepdim), (x,), vjp)


@tensor_method
def mean(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    r""":math:`\frac1n\sum_i a_i` over ``dim``; each input gets the output's grad over n."""
    axes = normalize_dims(dim, x.ndim)
    shape = x.shape
    count = math.prod(shape[d] for d in axes) if x.ndim else 1

    def vjp(g: Array) -> tuple[Array]:
        if not keepdim:
            g = np.expand_dims(g, axes)
        return (np.broadcast_to(g / count, shape),)

    return record("Mean", x.data.mean(axis=axes, keepdims=keepdim), (x,), vjp)


@tensor_method
def var(
    x: Tensor,
    dim: int | Sequence[int] | None = None,
    unbiased: bool = True,
    keepdim: bool = False,
    correction: int | None = None,
) -> Tensor:
    r"""Variance :math:`\frac{1}{n-c}\sum_i (a_i-\bar a)^2` (``c = 1`` unbiased by default)."""
    axes = normalize_dims(dim, x.ndim)
    count = math.prod(x.shape[d] for d in axes)
    c = (1 if unbiased else 0) if correction is None else correction
    centered = x - x.mean(dim=axes, keepdim=True)
    return (centered * centered).sum(dim=axes, keepdim=keepdim) / (count - c)


@tensor_method
def std(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Standard deviation, the square root of :func:`var` (which takes the same arguments)."""
    return var(x, *args, **kwargs).sqrt()


def _extremum(x: Tensor, dim: int | None, keepdim: bool, pick: str) -> Tensor | MaxResult:
    a = x.data
    arg = np.argmax if pick == "max" else np.argmin
    if dim is None:
        out = a.max() if pick == "max" else a.min()

        def vjp_all(g: Array) -> tuple[Array]:
            # ties share the gradient equally, as in PyTorch's full reduction
            hits = a == out
            return (hits * (g / hits.sum()),)

        return record(pick.capitalize(), np.asarray(out), (x,), vjp_all)
    (axis,) = normalize_dims(dim, x.ndim)
    index = np.expand_dims(arg(a, axis=axis), axis)
    values = np.take_along_axis(a, index, axis=axis)

    def vjp(g: Array) -> tuple[Array]:
        grad = np.zeros_like(a)
        np.put_along_axis(grad, index, g if keepdim else np.expand_dims(g, axis), axis=axis)
        return (grad,)

    if not keepdim:
        values = values.squeeze(axis)
    indices = index if keepdim else index.squeeze(axis)
    out_t = record(pick.capitalize(), values, (x,), vjp)
    return MaxResult(out_t, from_numpy(indices.astype(int64)))


@tensor_method
def max(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """Largest element, or ``(values, indices)`` along ``dim``; gradient goes to the argmax."""
    return _extremum(x, dim, keepdim, "max")


@tensor_method
def min(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """Smallest element, or ``(values, indices)`` along ``dim``; gradient goes to the argmin."""
    return _extremum(x, dim, keepdim, "min")


@tensor_method
def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (flattened if ``dim`` is None); no gradient."""
    if dim is None:
        return from_numpy(np.asarray(x.data.argmax(), dtype=int64))
    return from_numpy(x.data.argmax(axis=dim, keepdims=keepdim).astype(int64))


@tensor_method
def norm(
    x: Tensor, p: float = 2, dim: int | Sequence[int] | None = None, keepdim: bool = False
) -> Tensor:
    r"""The :math:`p`-norm :math:`(\sum_i |a_i|^p)^{1/p}` (2 by default) over ``dim``."""
    if p == 2 or p == "fro":
        return (x * x).sum(dim=dim, keepdim=keepdim).sqrt()
    if not (isinstance(p, int | float) and p > 0 and math.isfinite(p)):
        raise ValueError(f"norm supports finite p > 0, got {p!r}")
    return (x.abs() ** p).sum(dim=dim, keepdim=keepdim) ** (1.0 / p)


# --------------------------------------------------------------------------------------------
# Shape
# --------------------------------------------------------------------------------------------


@tensor_method
def reshape(x: Tensor, *shape: Any) -> Tensor:
    """Same data in a new shape (one entry may be -1); the gradient is reshaped back."""
    old = x.shape
    out = x.data.reshape(shape_argument(shape))
    return record("Reshape", out, (x,), lambda g: (g.reshape(old),))


@tensor_method
def view(x: Tensor, *shape: Any) -> Tensor:
    """Same as :meth:`reshape` (numpy decides whether the data is shared)."""
    return x.reshape(*shape)


@tensor_method
def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one."""
    if x.ndim == 0:
        return x.reshape(1)
    start, end = start_dim % x.ndim, end_dim % x.ndim
    shape = x.shape[:start] + (-1,) + x.shape[end + 1 :]
    return x.reshape(shape)


@tensor_method
def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``."""
    axis = dim % (x.ndim + 1)
    return x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


@tensor_method
def squeeze(x: Tensor, dim: int | None = None) -> Tensor:
    """Remove dimensions of size 1 (only ``dim`` if given)."""
    if dim is None:
        return x.reshape(tuple(n for n in x.shape if n != 1))
    if x.ndim == 0:
        return x
    axis = dim % x.ndim
    if x.shape[axis] != 1:
        return x
    return x.reshape(x.shape[:axis] + x.shape[axis + 1 :])


@tensor_method
def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions; the gradient is swapped back."""
    out = np.swapaxes(x.data, dim0, dim1)
    return record("Transpose", out, (x,), lambda g: (np.swapaxes(g, dim0, dim1),))


@tensor_method
def permute(x: Tensor, *dims: Any) -> Tensor:
    """Reorder the dimensions; the gradient gets the inverse permutation."""
    order = shape_argument(dims)
    inverse = tuple(np.argsort(order))
    out = np.transpose(x.data, order)
    return record("Permute", out, (x,), lambda g: (np.transpose(g, inverse),))


@tensor_method
def __getitem__(x: Tensor, index: Any) -> Tensor:
    """Indexing with ints, slices, ``None``, ``...``, boolean masks and integer arrays.

    The gradient is scattered back into a zero array; repeated integer indices add up.
    """
    index = numpy_index(index)
    a = x.data
    out = a[index]
    basic = _is_basic_index(index)

    def vjp(g: Array) -> tuple[Array]:
        grad = np.zeros_like(a)
        if basic:
            grad[index] = g
        else:
            np.add.at(grad, index, g)
        return (grad,)

    return record("Index", out, (x,), vjp)


@tensor_method
def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into ``chunks`` equal pieces along ``dim`` (the last may be smaller)."""
    (axis,) = normalize_dims(dim, x.ndim)
    size = -(-x.shape[axis] // chunks)
    pieces = []
    for start in range(0, x.shape[axis], size):
        index = [slice(None)] * x.ndim
        index[axis] = slice(start, start + size)
        pieces.append(x[tuple(index)])
    return tuple(pieces)


@tensor_method
def matmul(a: Tensor, b: Tensor | Array) -> Tensor:
    r"""Matrix product :math:`C = AB` (numpy's ``@`` rules: 1-D, 2-D and batched).

    VJPs: :math:`\bar A = \bar C B^\top`, :math:`\bar B = A^\top \bar C` (summed over broadcast
    batch dimensions).
    """
    b = _coerce(a, b)
    A, B = a.data, b.data
    out = A @ B
    need_a, need_b = a.requires_grad, b.requires_grad
    if A.ndim == 2 and B.ndim == 2:

        def vjp2(g: Array) -> tuple[Array | None, Array | None]:
            return (g @ B.T if need_a else None, A.T @ g if need_b else None)

        return record("Mm", out, (a, b), vjp2)

    A2 = A.reshape(1, -1) if A.ndim == 1 else A
    B2 = B.reshape(-1, 1) if B.ndim == 1 else B
    out_shape = np.broadcast_shapes(A2.shape[:-2], B2.shape[:-2]) + (A2.shape[-2], B2.shape[-1])

    def vjp(g: Array) -> tuple[Array | None, Array | None]:
        g2 = g.reshape(out_shape)
        ga = gb = None
        if need_a:
            ga = unbroadcast(g2 @ np.swapaxes(B2, -1, -2), A2.shape).reshape(A.shape)
        if need_b:
            gb = unbroadcast(np.swapaxes(A2, -1, -2) @ g2, B2.shape).reshape(B.shape)
        return ga, gb

    return record("MatMul", out, (a, b), vjp)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along ``dim``; the gradient is split back into the pieces."""
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("cat needs at least one tensor")
    (axis,) = normalize_dims(dim, tensors[0].ndim)
    ends = np.cumsum([t.shape[axis] for t in tensors])[:-1]
    out = np.concatenate([t.data for t in tensors], axis=axis)
    return record("Cat", out, tensors, lambda g: tuple(np.split(g, ends, axis=axis)))


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new dimension ``dim``."""
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    axis = dim % (tensors[0].ndim + 1)
    out = np.stack([t.data for t in tensors], axis=axis)

    def vjp(g: Array) -> tuple[Array, ...]:
        return tuple(np.take(g, i, axis=axis) for i in range(len(tensors)))

    return record("Stack", out, tensors, vjp)


@tensor_method
def softmax(x: Tensor, dim: int) -> Tensor:
    r""":math:`s_i = e^{x_i} / \sum_j e^{x_j}` along ``dim``.

    VJP: :math:`\bar x = s \odot (\bar s - \sum_j \bar s_j s_j)`.
    """
    a = x.data
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    s = e / e.sum(axis=dim, keepdims=True)

    def vjp(g: Array) -> tuple[Array]:
        return (s * (g - (g * s).sum(axis=dim, keepdims=True)),)

    return record("Softmax", s, (x,), vjp)


@tensor_method
def log_softmax(x: Tensor, dim: int) -> Tensor:
    r""":math:`x_i - \log\sum_j e^{x_j}`, computed stably by subtracting :math:`\max_j x_j` first.

    VJP: :math:`\bar x = \bar y - \operatorname{softmax}(x) \sum_j \bar y_j`.
    """
    a = x.data
    shifted = a - a.max(axis=dim, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))

    def vjp(g: Array) -> tuple[Array]:
        return (g - np.exp(out) * g.sum(axis=dim, keepdims=True),)

    return record("LogSoftmax", out, (x,), vjp)


def _is_basic_index(index: Any) -> bool:
    """True for ints, slices, None and ``...`` only: each element is picked at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, int | slice | np.integer) or i is None or i is Ellipsis for i in parts)
