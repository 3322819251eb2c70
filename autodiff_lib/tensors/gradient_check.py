r"""Checking a tensor function's backward pass against finite differences.

The same contract as lesson 01's :func:`autodiff_lib.scalar.numerical.gradcheck`, which does
the comparing: central differences coordinate by coordinate, a coordinate passes when its
relative error :math:`|a - n| / \max(10^{-8}, |a| + |n|)` is at most ``tol`` or its absolute
error at most ``atol``, and the answer is a :class:`GradcheckReport` (true when it passed,
printed it names the worst coordinate). What the tensor version adds is the function to
differentiate: a tensor function's output is turned into one number with a fixed random
cotangent :math:`v`, :math:`s(x) = \sum v \odot fn(x)`, whose gradient ``backward(v)`` gives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from autodiff_lib.scalar.numerical import GradcheckReport
from autodiff_lib.scalar.numerical import gradcheck as check_gradient
from autodiff_lib.tensors.state import no_grad
from autodiff_lib.tensors.tensor_type import Tensor, float64

__all__ = ["gradcheck", "GradcheckReport"]


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    h: float = 1e-6,
    tol: float = 1e-5,
    atol: float = 1e-8,
    seed: int = 0,
) -> GradcheckReport:
    r"""Compare the gradients ``backward`` gives for ``fn(*inputs)`` with central differences.

    Every element of every input that requires grad is checked (they must be float64); the
    other inputs are held fixed. ``seed`` fixes the cotangent :math:`v`. ``report.worst_input``
    is the position of the worst input in ``inputs``.

    Example::

        >>> import autodiff_lib as torch
        >>> x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
        >>> bool(torch.gradcheck(lambda t: (t * t).sum(dim=1), [x]))
        True
    """
    inputs = list(inputs)
    checked = [k for k, t in enumerate(inputs) if t.requires_grad]
    for k in checked:
        if inputs[k].dtype != float64:
            raise ValueError(f"gradcheck needs float64 inputs, got {inputs[k].dtype}")
    out = fn(*inputs)
    v = np.random.default_rng(seed).standard_normal(out.shape)
    for t in inputs:
        t.grad = None
    out.backward(v)
    analytic = tuple(
        np.zeros(inputs[k].shape) if inputs[k].grad is None else inputs[k].grad.data
        for k in checked
    )

    def cotangent_sum(*arrays: np.ndarray) -> float:
        """:math:`s = \\sum v \\odot fn(x)` with the checked inputs holding ``arrays``.

        The arrays go into the input tensors themselves, so a function that reaches an input
        some other way (a module's own parameter) sees the change too.
        """
        held = [inputs[k].data for k in checked]
        try:
            for k, array in zip(checked, arrays, strict=True):
                inputs[k].data = array
            with no_grad():
                return float(np.sum(v * fn(*inputs).data))
        finally:
            for k, array in zip(checked, held, strict=True):
                inputs[k].data = array

    points = tuple(np.array(inputs[k].data, dtype=float) for k in checked)
    report = check_gradient(cotangent_sum, points, analytic, h=h, tol=tol, atol=atol)
    return dataclasses.replace(report, worst_input=checked[report.worst_input] if checked else 0)
