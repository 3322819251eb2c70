r"""Lesson 08, family 1: the deck's chain of ``Linear(1, 1)`` layers, where gradients shrink
like :math:`0.25^{L}` with sigmoid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autodiff_lib import nn, tensors
from autodiff_lib.lab.experiments.builders import (
    make_activation,
)
from autodiff_lib.lab.plots import (
    axes_or_new,
)

__all__ = [
    "create_deep_network",
    "check_gradients",
    "LinearChainResult",
    "linear_chain_gradients",
]


def create_deep_network(depth: int, activation: nn.Module | None = None) -> nn.Sequential:
    """The deck's network: ``depth`` ``Linear(1, 1)`` layers with an activation between them.

    As in the deck one activation object (sigmoid by default) is shared by every position.
    """
    activation = nn.Sigmoid() if activation is None else activation
    layers: list[nn.Module] = []
    for i in range(depth):
        layers.append(nn.Linear(1, 1))
        if i < depth - 1:
            layers.append(activation)
    return nn.Sequential(*layers)


def check_gradients(model: nn.Sequential, depth: int) -> list[float]:
    r"""The deck's check: back-propagate from :math:`y = f(1)` and return
    :math:`|\partial y / \partial w^{(l)}|` for every layer, layer 1 first."""
    x = tensors.ones(1, 1, requires_grad=True)
    y = model(x)
    y.backward()
    gradients = []
    for i in range(0, 2 * depth - 1, 2):
        gradients.append(model[i].weight.grad.abs().item())
    return gradients


@dataclass
class LinearChainResult:
    r"""Per-layer :math:`|\partial y/\partial w^{(l)}|` of the deck's chain, layer 1 first.

    ``bound[l]`` is :math:`\max\phi'^{\,L-l}` (:math:`0.25^{L-l}` for sigmoid): with
    :math:`|w| \le 1` and :math:`|a| \le 1` no gradient can exceed it.
    """

    depth: int
    activation: str
    gradients: np.ndarray
    bound: np.ndarray

    def plot(self, ax: Any = None) -> Any:
        ax = axes_or_new(ax)
        layers = np.arange(1, self.depth + 1)
        shown = self.gradients > 0
        ax.semilogy(layers[shown], self.gradients[shown], "o-", label=r"$|\partial y/\partial w|$")
        ax.semilogy(layers, self.bound, "--", label=r"bound $\max\phi'^{\,L-l}$")
        ax.set_xlabel("layer $l$ (1 = next to the input)")
        ax.set_ylabel("gradient magnitude")
        ax.set_title(f"Chain of {self.depth} Linear(1, 1) + {self.activation}")
        ax.legend()
        return ax


_MAX_DERIVATIVE = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "leaky_relu": 1.0}


def linear_chain_gradients(
    depth: int, activation: str = "sigmoid", seed: int = 0
) -> LinearChainResult:
    r"""Run the deck's ``create_deep_network`` / ``check_gradients`` with a fixed seed.

    Each layer's gradient is a product of one factor :math:`w\,\phi'(z)` per later layer, so
    with sigmoid it shrinks at least like :math:`0.25^{L-l}`; at :math:`L = 10` the first layer
    gets about :math:`10^{-6}` of the last one's gradient.

    Example:
        >>> r = linear_chain_gradients(10)
        >>> bool(r.gradients[0] <= 0.25 ** 9)
        True
    """
    if activation not in _MAX_DERIVATIVE:
        raise ValueError(f"activation must be one of {', '.join(_MAX_DERIVATIVE)}")
    tensors.manual_seed(seed)
    model = create_deep_network(depth, make_activation(activation))
    gradients = np.array(check_gradients(model, depth))
    bound = _MAX_DERIVATIVE[activation] ** (depth - np.arange(1, depth + 1, dtype=float))
    return LinearChainResult(depth, activation, gradients, bound)
