r"""Layers, activations, normalisation, recurrent cells and losses, as in ``torch.nn``.

Parameter names, shapes and default initialisations follow PyTorch, so a ``state_dict``
moves between the two libraries unchanged.

Example::

    >>> import autodiff_lib as torch
    >>> import autodiff_lib.nn as nn
    >>> model = nn.Sequential(nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(),
    ...                       nn.Linear(256, 10))
    >>> loss = nn.CrossEntropyLoss()(model(torch.randn(32, 784)), torch.tensor([3] * 32))
    >>> loss.backward()
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autodiff_lib.nn import functional as F
from autodiff_lib.nn import init
from autodiff_lib.nn.module import Module, Parameter
from autodiff_lib.tensors.creation import zeros
from autodiff_lib.tensors.tensor_type import DEFAULT_DTYPE, Tensor, from_numpy

__all__ = [
    "Identity",
    "Linear",
    "Flatten",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "SELU",
    "SiLU",
    "GELU",
    "Softmax",
    "BatchNorm1d",
    "LayerNorm",
    "Residual",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "MSELoss",
    "CrossEntropyLoss",
]


def _empty_parameter(*shape: int) -> Parameter:
    return Parameter(np.empty(shape, dtype=DEFAULT_DTYPE))


# --------------------------------------------------------------------------------------------
# Basic layers
# --------------------------------------------------------------------------------------------


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for an optional layer)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Linear(Module):
    r"""Affine layer :math:`y = x W^\top + b`, ``weight`` of shape ``(out_features, in_features)``.

    PyTorch's default initialisation: ``kaiming_uniform_(weight, a=sqrt(5))``, i.e.
    :math:`W_{ij} \sim U(-1/\sqrt{\text{in}}, 1/\sqrt{\text{in}})`, and the same bound for ``bias``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _empty_parameter(out_features, in_features)
        if bias:
            self.bias = _empty_parameter(out_features)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Flatten(Module):
    """Flattens dimensions ``start_dim..end_dim`` (by default all but the batch dimension)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)


class Residual(Module):
    r"""Skip connection :math:`y = x + f(x)`: the identity path gives every earlier layer a
    gradient term :math:`\bar y` that no layer can shrink (He et al. 2016)."""

    def __init__(self, module: Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        return x + self.module(x)


# --------------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------------


class Sigmoid(Module):
    r""":math:`\sigma(x) = 1/(1+e^{-x})`; its derivative is at most 1/4 (vanishing gradients)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()


class Tanh(Module):
    r""":math:`\tanh x`; derivative at most 1 (at 0)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class ReLU(Module):
    r""":math:`\max(0, x)`; derivative exactly 1 for :math:`x > 0`."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace  # accepted for PyTorch compatibility; always out of place

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class LeakyReLU(Module):
    r""":math:`\max(\alpha x, x)` with :math:`\alpha` = ``negative_slope``: no dead units."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    r""":math:`x` for :math:`x>0`, else :math:`\alpha(e^x-1)`: smooth, negative mean-shifting."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SELU(Module):
    r"""Scaled ELU with constants that keep activations near zero mean, unit variance."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return F.selu(x)


class SiLU(Module):
    r"""SiLU / Swish :math:`x\,\sigma(x)`."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(x)


class GELU(Module):
    r""":math:`x\,\Phi(x)`; ``approximate='tanh'`` for the tanh approximation."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """Softmax along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.dim)


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------


class BatchNorm1d(Module):
    r"""Batch normalisation (Ioffe and Szegedy 2015) for ``(N, C)`` or ``(N, C, L)`` input.

    Training mode: normalise each channel with the batch mean and biased variance, then
    :math:`\gamma \hat x + \beta`; update ``running_mean`` and ``running_var`` (unbiased batch
    variance) with ``momentum`` (``None``: a cumulative average over all batches so far).
    Evaluation mode: use the running statistics.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=DEFAULT_DTYPE))
            self.bias = Parameter(np.zeros(num_features, dtype=DEFAULT_DTYPE))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features))
            self.register_buffer(
                "running_var", from_numpy(np.ones(num_features, dtype=DEFAULT_DTYPE))
            )
            self.register_buffer("num_batches_tracked", from_numpy(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}) expects input (N, {self.num_features}) or "
                f"(N, {self.num_features}, L), got {x.shape}"
            )
        use_batch_stats = self.training or self.running_mean is None
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # cumulative average: the n-th batch gets weight 1/n
                momentum = 1.0 / self.num_batches_tracked.item()
        return F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=use_batch_stats,
            momentum=momentum,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class LayerNorm(Module):
    r"""Layer normalisation (Ba et al. 2016) over the trailing ``normalized_shape`` dimensions:
    per-sample statistics, identical in training and evaluation."""

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
    ) -> None:
        super().__init__()
        shape = (
            (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        )
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=DEFAULT_DTYPE))
            self.bias = Parameter(np.zeros(shape, dtype=DEFAULT_DTYPE))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


# --------------------------------------------------------------------------------------------
# Recurrent cells
# --------------------------------------------------------------------------------------------


class _RNNCellBase(Module):
    """Shared weights of the cells: ``weight_ih (G*H, in)``, ``weight_hh (G*H, H)``,
    ``bias_ih``, ``bias_hh (G*H)``, all initialised :math:`U(-1/\\sqrt H, 1/\\sqrt H)`."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_gates: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = _empty_parameter(num_gates * hidden_size, input_size)
        self.weight_hh = _empty_parameter(num_gates * hidden_size, hidden_size)
        if bias:
            self.bias_ih = _empty_parameter(num_gates * hidden_size)
            self.bias_hh = _empty_parameter(num_gates * hidden_size)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _batched(self, x: Tensor, h: Tensor | None) -> tuple[Tensor, Tensor, bool]:
        """Add a batch dimension to unbatched input; zeros for a missing hidden state."""
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__} expects input (N, {self.input_size}) or "
                f"({self.input_size},), got {x.shape}"
            )
        unbatched = x.ndim == 1
        if unbatched:
            x = x.unsqueeze(0)
            h = None if h is None else h.unsqueeze(0)
        if h is None:
            h = zeros(x.shape[0], self.hidden_size, dtype=x.dtype)
        return x, h, unbatched

    def _input_part(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight_ih, self.bias_ih)

    def _hidden_part(self, h: Tensor) -> Tensor:
        return F.linear(h, self.weight_hh, self.bias_hh)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_RNNCellBase):
    r"""Elman cell :math:`h' = \phi(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})`.

    :math:`\phi` is ``tanh`` (default) or ``relu``.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, num_gates=1)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, h, unbatched = self._batched(input, hx)
        pre = self._input_part(x) + self._hidden_part(h)
        h_new = pre.tanh() if self.nonlinearity == "tanh" else pre.relu()
        return h_new.squeeze(0) if unbatched else h_new


class LSTMCell(_RNNCellBase):
    r"""LSTM cell (gates in PyTorch's order i, f, g, o):

    .. math::
        i, f, o = \sigma(\cdot),\quad g = \tanh(\cdot),\quad
        c' = f \odot c + i \odot g,\quad h' = o \odot \tanh c'.

    The additive path :math:`c \to c'` (scaled by :math:`f`) carries gradients across time.
    Returns ``(h', c')``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias, num_gates=4)

    def forward(
        self,
        input: Tensor,  # noqa: A002
        hx: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, Tensor]:
        h0, c0 = (None, None) if hx is None else hx
        x, h, unbatched = self._batched(input, h0)
        c = zeros(h.shape, dtype=x.dtype) if c0 is None else (c0.unsqueeze(0) if unbatched else c0)
        gates = self._input_part(x) + self._hidden_part(h)
        i, f, g, o = gates.chunk(4, dim=1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c_new = f * c + i * g
        h_new = o * c_new.tanh()
        if unbatched:
            return h_new.squeeze(0), c_new.squeeze(0)
        return h_new, c_new


class GRUCell(_RNNCellBase):
    r"""GRU cell (gates in PyTorch's order r, z, n):

    .. math::
        r = \sigma(W_{ir}x + b_{ir} + W_{hr}h + b_{hr}),\quad
        z = \sigma(W_{iz}x + b_{iz} + W_{hz}h + b_{hz}),

        n = \tanh(W_{in}x + b_{in} + r \odot (W_{hn}h + b_{hn})),\quad
        h' = (1 - z) \odot n + z \odot h.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias, num_gates=3)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, h, unbatched = self._batched(input, hx)
        x_r, x_z, x_n = self._input_part(x).chunk(3, dim=1)
        h_r, h_z, h_n = self._hidden_part(h).chunk(3, dim=1)
        r = (x_r + h_r).sigmoid()
        z = (x_z + h_z).sigmoid()
        n = (x_n + r * h_n).tanh()
        h_new = (1 - z) * n + z * h
        return h_new.squeeze(0) if unbatched else h_new


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


class MSELoss(Module):
    r"""Mean squared error :math:`\frac1n\sum_i (x_i - y_i)^2`.

    ``reduction`` is 'mean' (default), 'sum' or 'none'.
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.mse_loss(input, target, self.reduction)


class CrossEntropyLoss(Module):
    r"""Softmax cross-entropy with class-index targets, computed stably from logits:
    :math:`\ell = -\frac1N\sum_n \log\operatorname{softmax}(x_n)_{t_n}`."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.cross_entropy(input, target, self.reduction)
