r"""Gradient and activation statistics: the numbers lessons 08 and 09 diagnose with.

- **gradient statistics** per named parameter after ``loss.backward()``: the mean absolute
  gradient (what the seed deck's ``plot_grad_flow`` draws), the norm
  :math:`\lVert \partial L / \partial W^{(l)} \rVert_2` and the standard deviation;
- **activation statistics** per layer: mean, standard deviation, the fraction of saturated
  units (sigmoid/tanh outputs pinned to an asymptote, where :math:`\sigma'` is almost 0) and
  of dead units (ReLU units that output 0 for every example of the batch, so no gradient
  reaches their weights).

The functions only use the PyTorch-named interface (``named_parameters``, ``.grad``), so they
work on ``autodiff_lib.nn`` models and on PyTorch models alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "SATURATION_BOUNDS",
    "to_numpy",
    "GradStats",
    "gradient_stats",
    "gradient_norms",
    "ActivationStats",
    "activation_stats",
]

SATURATION_BOUNDS = {"Sigmoid": (0.0, 1.0), "Tanh": (-1.0, 1.0)}
"""Asymptotes of the bounded activations; near them the local derivative is almost 0."""


def to_numpy(tensor: Any) -> np.ndarray:
    """The values of an ``autodiff_lib`` or PyTorch tensor as a float64 numpy array."""
    return np.asarray(tensor.detach().numpy(), dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Gradient statistics
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradStats:
    r"""Gradient statistics of one parameter tensor :math:`g = \partial L / \partial W`.

    ``mean_abs`` is :math:`\frac{1}{n}\sum_i |g_i|`, ``norm`` is :math:`\lVert g \rVert_2`,
    ``std`` the standard deviation of the entries of :math:`g`.
    """

    name: str
    mean_abs: float
    norm: float
    std: float


def gradient_stats(
    named_parameters: Iterable[tuple[str, Any]], include_bias: bool = False
) -> dict[str, GradStats]:
    """Per-parameter gradient statistics, in the order of ``named_parameters``.

    Call after ``loss.backward()``. Parameters with ``requires_grad=False`` are skipped, and so
    are biases unless ``include_bias`` (the deck's gradient-flow plot skips them too).

    Raises:
        ValueError: if a trainable parameter has no gradient (``backward`` was not called).

    Example:
        >>> stats = gradient_stats(model.named_parameters())  # doctest: +SKIP
        >>> stats["0.weight"].norm  # doctest: +SKIP
        0.0123
    """
    stats = {}
    for name, parameter in named_parameters:
        if not parameter.requires_grad or (not include_bias and "bias" in name):
            continue
        if parameter.grad is None:
            raise ValueError(
                f"parameter {name!r} has no gradient: call loss.backward() before "
                "gradient_stats (and do not zero the gradients in between)"
            )
        grad = to_numpy(parameter.grad)
        stats[name] = GradStats(
            name=name,
            mean_abs=float(np.abs(grad).mean()),
            norm=float(np.linalg.norm(grad)),
            std=float(grad.std()),
        )
    return stats


def gradient_norms(model: Any, include_bias: bool = False) -> dict[str, float]:
    r"""``{parameter name: gradient norm}`` :math:`\lVert \partial L / \partial W \rVert_2`."""
    return {
        name: s.norm for name, s in gradient_stats(model.named_parameters(), include_bias).items()
    }


# ---------------------------------------------------------------------------------------------
# Activation statistics
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivationStats:
    """Statistics of one layer's activations ``a`` of shape ``(batch, units)``.

    ``fraction_saturated``: entries within ``tol`` (relative to the output range) of an
    asymptote of a bounded activation (sigmoid, tanh); ``nan`` for unbounded activations.
    ``fraction_dead``: units whose output is exactly 0 for every example of the batch.
    """

    name: str
    kind: str
    mean: float
    std: float
    fraction_saturated: float
    fraction_dead: float


def activation_stats(
    name: str, values: np.ndarray, kind: str = "", tol: float = 0.01
) -> ActivationStats:
    """Summarise one layer's activations ``values`` (``kind`` is the module's class name).

    Example:
        >>> a = np.array([[0.001, 0.5], [0.999, 0.5]])
        >>> s = activation_stats("layer", a, kind="Sigmoid")
        >>> s.fraction_saturated, s.fraction_dead
        (0.5, 0.0)
    """
    values = np.asarray(values, dtype=np.float64)
    units = values.reshape(values.shape[0], -1) if values.ndim > 1 else values[:, None]
    if kind in SATURATION_BOUNDS:
        low, high = SATURATION_BOUNDS[kind]
        margin = tol * (high - low)
        saturated = float(np.mean((units < low + margin) | (units > high - margin)))
    else:
        saturated = float("nan")
    dead = float(np.mean(np.all(units == 0.0, axis=0)))
    return ActivationStats(name, kind, float(units.mean()), float(units.std()), saturated, dead)
