r"""Weight initialisation, with ``torch.nn.init``'s names, defaults and fan conventions.

Every function fills a tensor in place (without recording a graph) from the global generator
(:func:`autodiff_lib.manual_seed`) and returns it.

For a weight of shape ``(out, in, *k)``: :math:`\text{fan\_in} = \text{in}\cdot\prod k`,
:math:`\text{fan\_out} = \text{out}\cdot\prod k`.

* Glorot/Xavier (2010) keeps the variance of activations *and* gradients roughly constant
  for symmetric activations:
  :math:`\operatorname{Var}(w) = \text{gain}^2 \cdot 2/(\text{fan\_in}+\text{fan\_out})`.
* He/Kaiming (2015) compensates ReLU halving the variance:
  :math:`\operatorname{Var}(w) = \text{gain}^2/\text{fan}` with :math:`\text{gain} = \sqrt2`.

Example::

    >>> import autodiff_lib.nn as nn
    >>> layer = nn.Linear(512, 512)
    >>> nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")  # std = sqrt(2/512)
"""

from __future__ import annotations

import math

from autodiff_lib.tensors.state import no_grad
from autodiff_lib.tensors.tensor_type import Tensor

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "constant_",
    "zeros_",
    "ones_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The recommended gain for a nonlinearity (PyTorch's table).

    linear/conv/sigmoid: 1; tanh: 5/3; relu: :math:`\sqrt2`;
    leaky_relu with slope :math:`a` (default 0.01): :math:`\sqrt{2/(1+a^2)}`; selu: 3/4.
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, int | float):
            raise ValueError(f"negative_slope {slope!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``."""
    if tensor.ndim < 2:
        raise ValueError(
            "fan in and fan out can not be computed for a tensor with fewer than 2 dimensions"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    r"""Fill with :math:`U(a, b)`."""
    with no_grad():
        return tensor.uniform_(a, b)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    r"""Fill with :math:`\mathcal N(\text{mean}, \text{std}^2)`."""
    with no_grad():
        return tensor.normal_(mean, std)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    r"""Glorot uniform :math:`U(-a, a)`.

    :math:`a = \text{gain}\sqrt{6/(\text{fan\_in}+\text{fan\_out})}`.
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    r"""Glorot normal :math:`\mathcal N(0, \sigma^2)`.

    :math:`\sigma = \text{gain}\sqrt{2/(\text{fan\_in}+\text{fan\_out})}`.
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    r"""He uniform: :math:`U(-b, b)`, :math:`b = \text{gain}\sqrt{3/\text{fan}}`.

    ``a`` is the negative slope used by the leaky_relu gain (``nn.Linear`` uses
    :math:`a = \sqrt5`, which gives :math:`b = 1/\sqrt{\text{fan\_in}}`).
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    r"""He normal :math:`\mathcal N(0, \sigma^2)`, :math:`\sigma = \text{gain}/\sqrt{\text{fan}}`.

    ``a``, ``mode`` and ``nonlinearity`` as in :func:`kaiming_uniform_`.
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std)
