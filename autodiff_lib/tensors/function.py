r"""How to define a differentiable tensor operation: the one public way, used by every built-in op.

An op is a plain function that computes its forward result with numpy and, right next to it,
its *vector-Jacobian product* (VJP): given :math:`\bar y = \partial L/\partial y`, one array
:math:`\bar x_i = \bar y\,\partial y/\partial x_i` per input (``None`` for an input that needs
none). :func:`record` turns the two into the result tensor and records the graph node; nothing
else about the graph needs to be known. :func:`~autodiff_lib.tensors.tensor_type.tensor_method`
makes the function a method as well. A complete new op, in one place:

Example::

    @tensor_method
    def sinh(x: Tensor) -> Tensor:
        # sinh a; local derivative cosh a
        a = x.data
        return record("Sinh", np.sinh(a), (x,), lambda g: (g * np.cosh(a),))

    sinh(x); x.sinh()          # both work, and both differentiate

This is the spirit of HIPS autograd's ``defvjp`` and MiniTorch's ``Function``: the math of an
op in one function, the graph machinery out of sight. Helpers for the usual chores:
:func:`unbroadcast` (the gradient of a broadcast input) and :func:`normalize_dims` (``dim``
arguments).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autodiff_lib.tensors.state import is_grad_enabled
from autodiff_lib.tensors.tensor_type import VJP, Array, Node, Tensor, from_numpy, tensor_method

__all__ = [
    "record",
    "unbroadcast",
    "normalize_dims",
    "shape_argument",
    "Tensor",
    "Array",
    "VJP",
    "from_numpy",
    "tensor_method",
]


def record(op: str, output: Array, inputs: tuple[Tensor, ...], vjp: VJP) -> Tensor:
    """The result of an operation: ``output`` as a tensor, with a graph :class:`Node` recorded
    if any input requires a gradient.

    Args:
        op: the op's name (``"Exp"``; the node is shown as ``ExpBackward``).
        output: the forward result (a numpy array or scalar).
        inputs: the tensors the result was computed from, in the order ``vjp`` answers.
        vjp: ``vjp(grad_output)`` returns one gradient per input (``None`` where not needed).

    The single place where the graph is built. Inside :func:`~autodiff_lib.no_grad` nothing is
    recorded.
    """
    if type(output) is not np.ndarray:  # numpy returns scalars for 0-d results
        output = np.asarray(output)
    out = from_numpy(output)
    if is_grad_enabled():
        for t in inputs:
            if t.requires_grad:
                edges = tuple([i.grad_fn or (i if i.requires_grad else None) for i in inputs])
                out.requires_grad = True
                out.grad_fn = Node(op, edges, vjp)
                break
    return out


def unbroadcast(grad: Array, shape: tuple[int, ...]) -> Array:
    r"""Sum ``grad`` over the axes numpy broadcasting added or stretched, to get ``shape``.

    If ``y = x + b`` broadcast ``b`` of shape ``(3,)`` to ``(N, 3)``, every row used ``b``,
    so :math:`\bar b = \sum_n \bar y_n`.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    stretched = tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    return grad.sum(axis=tuple(range(extra)) + stretched).reshape(shape)


def normalize_dims(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """Turn ``dim`` (int, tuple, negative or ``None`` for all) into sorted non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"dim {d} out of range for a tensor with {ndim} dimensions")
        out.append(d % max(ndim, 1))
    return tuple(sorted(out))


def shape_argument(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike, as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], list | tuple):
        return tuple(shape[0])
    return tuple(shape)
