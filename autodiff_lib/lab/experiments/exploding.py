r"""Lesson 08, family 5: exploding gradients (weights scaled above He's) and gradient clipping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autodiff_lib import nn, optim, tensors
from autodiff_lib.lab.experiments.builders import (
    hidden_blocks,
)
from autodiff_lib.lab.plots import (
    axes_or_new,
)
from autodiff_lib.lab.recorders import ActivationRecorder
from autodiff_lib.lab.statistics import to_numpy

__all__ = [
    "ExplodingResult",
    "exploding_gradients",
]


@dataclass
class ExplodingResult:
    r"""Gradients of a ReLU network whose weights are ``scale`` times He's.

    ``signal_norms[l]`` is :math:`\lVert\partial L/\partial a^{(l)}\rVert` (the back-propagated
    signal), ``grad_norms[l]`` is :math:`\lVert\partial L/\partial W^{(l)}\rVert`, both layer 1
    first; ``clipped_grad_norms`` are the weight-gradient norms after ``clip_grad_norm_``.
    """

    scale: float
    clip: float | None
    signal_norms: np.ndarray
    grad_norms: np.ndarray
    clipped_grad_norms: np.ndarray | None
    total_norm: float
    loss_before: float
    loss_after_step: float

    def plot(self, ax: Any = None) -> Any:
        ax = axes_or_new(ax)
        layers = np.arange(1, len(self.grad_norms) + 1)
        ax.semilogy(layers, self.signal_norms, "o-", label=r"$\|\partial L/\partial a^{(l)}\|$")
        ax.semilogy(layers, self.grad_norms, "s-", label=r"$\|\partial L/\partial W^{(l)}\|$")
        if self.clipped_grad_norms is not None:
            ax.semilogy(
                layers, self.clipped_grad_norms, "s--", label=f"clipped (total {self.clip})"
            )
        ax.set_xlabel("layer $l$ (1 = next to the input)")
        ax.set_ylabel("gradient norm")
        ax.set_title(
            f"Weights {self.scale} x He: loss {self.loss_before:.3g} -> "
            f"{self.loss_after_step:.3g} after one SGD step"
        )
        ax.legend()
        return ax


def exploding_gradients(
    scale: float = 2.0,
    depth: int = 20,
    clip: float | None = None,
    width: int = 64,
    batch: int = 64,
    lr: float = 0.01,
    seed: int = 0,
) -> ExplodingResult:
    r"""ReLU layers with :math:`w \sim \mathcal N(0, \text{scale}^2\cdot 2/n)`, above He's variance.

    Every layer multiplies the back-propagated signal by about ``scale``, so
    :math:`\lVert\partial L/\partial a^{(1)}\rVert \approx \text{scale}^{L-1}\,
    \lVert\partial L/\partial a^{(L)}\rVert`. The forward signal grows the same way, so every
    weight gradient :math:`\partial L/\partial W^{(l)} = \delta^{(l)} a^{(l-1)\top}` is huge and
    one SGD step with learning rate ``lr`` overshoots (the loss grows or overflows).

    With ``clip``, ``nn.utils.clip_grad_norm_`` rescales all gradients together so their joint
    norm is ``clip``: the direction and the per-layer ratios stay, the step is bounded and the
    same SGD step lowers the loss.

    Example:
        >>> r = exploding_gradients(scale=2.0, depth=10, clip=1.0)
        >>> bool(r.signal_norms[0] > 100 * r.signal_norms[-1]), r.loss_after_step < r.loss_before
        (True, True)
    """
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    tensors.manual_seed(seed)
    body, linears = hidden_blocks(depth, width, "relu", init="he")
    for linear in linears:
        linear.weight.data *= scale
    model = nn.Sequential(body, nn.Linear(width, 1))
    x, target = tensors.randn(batch, width), tensors.randn(batch, 1)
    loss_fn = nn.MSELoss()
    with ActivationRecorder(model, retain_grad=True) as recorder:
        loss = loss_fn(model(x), target)
    loss.backward()
    signal_norms = np.array([np.linalg.norm(g) for g in recorder.gradients().values()])
    grad_norms = np.array([np.linalg.norm(to_numpy(lin.weight.grad)) for lin in linears])
    total_norm = float(np.sqrt(sum(np.sum(to_numpy(p.grad) ** 2) for p in model.parameters())))
    clipped = None
    if clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=clip)
        clipped = np.array([np.linalg.norm(to_numpy(lin.weight.grad)) for lin in linears])
    optim.SGD(model.parameters(), lr=lr).step()
    with tensors.no_grad(), np.errstate(over="ignore", invalid="ignore"):
        loss_after = float(loss_fn(model(x), target).item())
    return ExplodingResult(
        scale, clip, signal_norms, grad_norms, clipped, total_norm, float(loss.item()), loss_after
    )
