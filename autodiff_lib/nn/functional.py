r"""Stateless neural-network functions, named and called like ``torch.nn.functional``.

Each function is one differentiable operation, defined the public way of
:mod:`autodiff_lib.tensors.function`: its forward rule and its vector-Jacobian product (VJP)
side by side. ``relu``, ``sigmoid``, ``tanh``, ``softmax`` and ``log_softmax`` are the tensor
engine's own ops (:mod:`autodiff_lib.tensors.ops`), the same functions under PyTorch's
``F.`` names. The derivative in each docstring is the *local derivative*
that the VJP multiplies the incoming gradient :math:`\bar y` by.

Example::

    >>> import autodiff_lib as torch
    >>> import autodiff_lib.nn.functional as F
    >>> logits = torch.tensor([[2.0, 0.0, -1.0]], requires_grad=True)
    >>> loss = F.cross_entropy(logits, torch.tensor([0]))
    >>> loss.backward()           # logits.grad = softmax(logits) - one_hot(0)
"""

from __future__ import annotations

import math

import numpy as np

from autodiff_lib.tensors.function import Array, Tensor, normalize_dims, record
from autodiff_lib.tensors.ops import log_softmax, relu, sigmoid, softmax, tanh

__all__ = [
    "relu",
    "sigmoid",
    "tanh",
    "leaky_relu",
    "elu",
    "selu",
    "silu",
    "gelu",
    "softmax",
    "log_softmax",
    "cross_entropy",
    "mse_loss",
    "linear",
    "batch_norm",
    "layer_norm",
]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _check_reduction(reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


# --------------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------------


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    r""":math:`x` for :math:`x > 0`, else :math:`\alpha x`; derivative 1 or :math:`\alpha`."""
    a = x.data
    slope = np.where(a > 0, 1.0, negative_slope).astype(a.dtype)
    return record("LeakyRelu", a * slope, (x,), lambda g: (g * slope,))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    r""":math:`x` for :math:`x > 0`, else :math:`\alpha(e^x - 1)`.

    Local derivative: 1 for :math:`x > 0`, else :math:`\alpha e^x`.
    """
    a = x.data
    positive = a > 0
    exp_part = alpha * np.exp(np.minimum(a, 0))  # alpha e^x on the negative side
    out = np.where(positive, a, exp_part - alpha)
    slope = np.where(positive, 1.0, exp_part).astype(a.dtype)
    return record("Elu", out, (x,), lambda g: (g * slope,))


def selu(x: Tensor) -> Tensor:
    r""":math:`\lambda\,\mathrm{ELU}_\alpha(x)` with the self-normalising constants
    :math:`\lambda \approx 1.0507`, :math:`\alpha \approx 1.6733` (Klambauer et al. 2017)."""
    return elu(x, SELU_ALPHA) * SELU_SCALE


def silu(x: Tensor) -> Tensor:
    r"""SiLU / Swish :math:`x\,\sigma(x)`; derivative :math:`\sigma(x)(1 + x(1-\sigma(x)))`."""
    a = x.data
    s = x.sigmoid().data
    return record("Silu", a * s, (x,), lambda g: (g * s * (1 + a * (1 - s)),))


def _erf(a: Array) -> Array:
    """Element-wise error function: scipy's vectorised ``erf`` (scipy comes with scikit-learn),
    else ``math.erf`` element by element (same values, slower)."""
    try:
        from scipy.special import erf
    except ImportError:
        return np.vectorize(math.erf, otypes=[a.dtype])(a) if a.size else a.copy()
    return erf(a)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    r"""GELU :math:`x\,\Phi(x)` with :math:`\Phi` the standard normal CDF.

    Exact form: :math:`\Phi(x) = \tfrac12(1+\operatorname{erf}(x/\sqrt2))`, derivative
    :math:`\Phi(x) + x\,\varphi(x)`. ``approximate='tanh'`` uses
    :math:`\tfrac12 x(1+\tanh u)`, :math:`u = \sqrt{2/\pi}(x + 0.044715x^3)`.
    """
    a = x.data
    if approximate == "none":
        cdf = 0.5 * (1 + _erf(a / math.sqrt(2)))
        pdf = np.exp(-0.5 * a * a) / math.sqrt(2 * math.pi)
        local = cdf + a * pdf
        return record("Gelu", a * cdf, (x,), lambda g: (g * local,))
    if approximate == "tanh":
        k = math.sqrt(2 / math.pi)
        t = np.tanh(k * (a + 0.044715 * a**3))
        local = 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * k * (1 + 3 * 0.044715 * a * a)
        return record("Gelu", 0.5 * a * (1 + t), (x,), lambda g: (g * local,))
    raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


# --------------------------------------------------------------------------------------------
# Softmax family and losses
# --------------------------------------------------------------------------------------------


def cross_entropy(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    r"""Softmax cross-entropy with class-index targets.

    :math:`\ell_n = -\log \operatorname{softmax}(x_n)_{t_n}`, averaged over :math:`n` by default.

    ``input`` has shape ``(N, C)`` (or ``(C,)``), ``target`` holds integer classes, shape
    ``(N,)`` (or ``()``). One fused op: the VJP is
    :math:`\bar x_n = \bar\ell_n\,(\operatorname{softmax}(x_n) - \text{onehot}(t_n))`.
    """
    _check_reduction(reduction)
    logits = input.data
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy expects integer class indices, got dtype {labels.dtype}")
    unbatched = logits.ndim == 1
    if unbatched:
        logits, labels = logits[None], labels.reshape(1)
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise ValueError(
            f"cross_entropy expects input (N, C) and target (N,), got {input.shape} and "
            f"{labels.shape}"
        )
    n, c = logits.shape
    if labels.size and (labels.min() < 0 or labels.max() >= c):
        raise IndexError(f"target class out of range [0, {c})")
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    losses = log_norm - shifted[rows, labels]
    if reduction == "mean":
        out = losses.mean()
    elif reduction == "sum":
        out = losses.sum()
    else:
        out = losses[0] if unbatched else losses

    def vjp(g: Array) -> tuple[Array]:
        grad = np.exp(shifted - log_norm[:, None])  # softmax
        grad[rows, labels] -= 1
        if reduction == "mean":
            grad *= g / n
        elif reduction == "sum":
            grad *= g
        else:
            grad *= g.reshape(-1, 1)
        return (grad[0] if unbatched else grad,)

    return record("CrossEntropy", np.asarray(out, dtype=logits.dtype), (input,), vjp)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    r"""Mean squared error :math:`\frac1n\sum_i (x_i - y_i)^2`.

    Built from primitives; its gradient is :math:`\frac2n(x - y)\bar\ell`.
    """
    _check_reduction(reduction)
    diff = input - target
    squared = diff * diff
    if reduction == "mean":
        return squared.mean()
    if reduction == "sum":
        return squared.sum()
    return squared


# --------------------------------------------------------------------------------------------
# Layers as functions
# --------------------------------------------------------------------------------------------


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    r"""Affine map :math:`y = x W^\top + b`, ``weight`` of shape ``(out, in)``.

    VJPs: :math:`\bar x = \bar y W`, :math:`\bar W = \bar y^\top x`,
    :math:`\bar b = \sum_n \bar y_n` (leading dimensions flattened into :math:`n`).
    """
    x, w = input.data, weight.data
    out = x @ w.T
    if bias is not None:
        out += bias.data
    need_x, need_w = input.requires_grad, weight.requires_grad
    need_b = bias is not None and bias.requires_grad

    def vjp(g: Array) -> tuple[Array | None, ...]:
        g2 = g.reshape(-1, g.shape[-1])
        grad_x = g @ w if need_x else None
        grad_w = g2.T @ x.reshape(-1, x.shape[-1]) if need_w else None
        grad_b = g2.sum(axis=0) if need_b else None
        return (grad_x, grad_w) if bias is None else (grad_x, grad_w, grad_b)

    inputs = (input, weight) if bias is None else (input, weight, bias)
    return record("Linear", out, inputs, vjp)


def _normalize(x: Tensor, axes: tuple[int, ...], eps: float) -> tuple[Tensor, Array, Array]:
    r"""Standardise over ``axes``: :math:`\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}`.

    :math:`\mu`, :math:`\sigma^2` are the mean and the *biased* variance over ``axes``. VJP:

    .. math::
        \bar x = \frac{1}{\sqrt{\sigma^2+\epsilon}}\Big(\bar{\hat x}
                 - \operatorname{mean}(\bar{\hat x})
                 - \hat x \operatorname{mean}(\bar{\hat x} \odot \hat x)\Big).

    Returns :math:`\hat x`, the mean and the biased variance (both with kept dims).
    """
    a = x.data
    mean = a.mean(axis=axes, keepdims=True)
    centered = a - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = centered * inv_std

    def vjp(g: Array) -> tuple[Array]:
        g_mean = g.mean(axis=axes, keepdims=True)
        gx_mean = (g * x_hat).mean(axis=axes, keepdims=True)
        return (inv_std * (g - g_mean - x_hat * gx_mean),)

    return record("Normalize", x_hat, (x,), vjp), mean, var


def batch_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    r"""Batch normalisation over the batch (and length) axes of ``(N, C)`` or ``(N, C, L)`` input.

    Training: normalise with the batch mean and biased variance, and update the running
    statistics in place, :math:`r \leftarrow (1-m)\,r + m\,s` with the *unbiased* batch variance.
    Evaluation: normalise with the running statistics (a fixed affine map).
    Then :math:`y = \gamma \hat x + \beta` per channel.
    """
    if input.ndim not in (2, 3):
        raise ValueError(f"batch_norm expects 2-D or 3-D input, got shape {input.shape}")
    axes = (0,) if input.ndim == 2 else (0, 2)
    channel_shape = (1, -1) if input.ndim == 2 else (1, -1, 1)
    if training:
        count = math.prod(input.shape[a] for a in axes)
        if count <= 1:
            raise ValueError(
                f"expected more than 1 value per channel when training, got input {input.shape}"
            )
        x_hat, mean, var = _normalize(input, axes, eps)
        if running_mean is not None and running_var is not None:
            unbiased = var * (count / (count - 1))
            rm, rv = running_mean.data, running_var.data
            rm *= 1 - momentum
            rm += momentum * mean.reshape(-1).astype(rm.dtype)
            rv *= 1 - momentum
            rv += momentum * unbiased.reshape(-1).astype(rv.dtype)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm in eval mode needs running_mean and running_var")
        mean = running_mean.data.reshape(channel_shape)
        inv_std = 1.0 / np.sqrt(running_var.data.reshape(channel_shape) + eps)
        x_hat = (input - mean) * inv_std.astype(input.dtype)
    if weight is not None:
        x_hat = x_hat * weight.reshape(channel_shape)
    if bias is not None:
        x_hat = x_hat + bias.reshape(channel_shape)
    return x_hat


def layer_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: tuple[int, ...] | list[int] | int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    r"""Layer normalisation over the last ``len(normalized_shape)`` dimensions of each sample.

    :math:`y = \gamma \hat x + \beta`, statistics per sample (biased variance), so it behaves
    the same in training and evaluation.
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape) :]) != shape:
        raise ValueError(
            f"layer_norm: input shape {input.shape} does not end with normalized_shape {shape}"
        )
    axes = normalize_dims(tuple(range(-len(shape), 0)), input.ndim)
    x_hat, _, _ = _normalize(input, axes, eps)
    if weight is not None:
        x_hat = x_hat * weight
    if bias is not None:
        x_hat = x_hat + bias
    return x_hat
