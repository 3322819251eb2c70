"""The plots of lessons 08 and 09, each drawing into a given matplotlib axes or a new one.

The widgets draw with these same functions, so a plot reads the same in a lesson and in the
explorer. matplotlib is imported when a plot is drawn, not when this module is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import cycle
from typing import Any

import numpy as np

from autodiff_lib.style import COLORS, LINE_STYLES

__all__ = [
    "plot_grad_flow",
    "axes_or_new",
    "shown_norms",
    "label_grad_norm_axes",
    "plot_grad_norms",
    "evenly_spaced",
    "layers_to_show",
    "label_activation_axes",
    "layer_colors",
    "plot_activation_histograms",
    "plot_training_curves",
]


def plot_grad_flow(named_parameters: Iterable[tuple[str, Any]], ax: Any = None) -> Any:
    """The seed deck's gradient-flow bar chart: mean |grad| of every non-bias parameter.

    Exactly the deck's ``plot_grad_flow``; with ``ax`` it draws into that axes instead of a
    new 10x8 figure (and does not call ``plt.show()``). Returns the axes.

    Example:
        >>> loss.backward()  # doctest: +SKIP
        >>> plot_grad_flow(model.named_parameters())  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    ave_grads = []
    layers = []
    for n, p in named_parameters:
        if (p.requires_grad) and ("bias" not in n):
            layers.append(n)
            ave_grads.append(p.grad.abs().mean().item())
    new_figure = ax is None
    if new_figure:
        ax = plt.figure(figsize=(10, 8)).gca()
    ax.bar(range(len(ave_grads)), ave_grads, align="center")
    ax.set_xticks(range(len(ave_grads)), layers, rotation=90)
    ax.set_xlabel("Layers")
    ax.set_ylabel("Average gradient")
    ax.set_title("Gradient flow")
    if new_figure:
        plt.tight_layout()
        plt.show()
    return ax


def axes_or_new(ax: Any, figsize: tuple[float, float] = (6, 4)) -> Any:
    """``ax`` itself, or the axes of a new pyplot figure when ``ax`` is ``None``."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def shown_norms(norms: Mapping[str, float] | Sequence[float]) -> tuple[np.ndarray, np.ndarray, int]:
    """``(layers, norms, hidden)``: the layers (1 = next to the input) whose norm can be drawn
    on a log scale, their norms, and how many were left out (overflowed, nan or zero)."""
    values = np.asarray(list(norms.values()) if isinstance(norms, Mapping) else norms, float)
    layers = np.arange(1, len(values) + 1)
    shown = np.isfinite(values) & (values > 0)
    return layers[shown], values[shown], int(np.sum(~shown))


def label_grad_norm_axes(ax: Any, title: str = "Gradient norm per layer") -> None:
    """The axes labels of every gradient-norm plot (the lessons' and the explorer's)."""
    ax.set_yscale("log")
    ax.set_xlabel("layer $l$ (1 = next to the input)")
    ax.set_ylabel(r"$\|\partial L / \partial W^{(l)}\|_2$")
    ax.set_title(title)


def plot_grad_norms(
    norms: Mapping[str, float] | Sequence[float],
    ax: Any = None,
    label: str | None = None,
    title: str = "Gradient norm per layer",
) -> Any:
    r"""Per-layer :math:`\lVert \partial L / \partial W^{(l)} \rVert_2` on a log scale.

    ``norms`` is a ``{layer name: norm}`` mapping (e.g. :func:`gradient_norms`) or a sequence
    in layer order. Non-finite norms (overflow) are left out of the line and reported in the
    legend. Returns the axes.
    """
    ax = axes_or_new(ax)
    layers, values, hidden = shown_norms(norms)
    if hidden:
        label = f"{label or 'norms'} ({hidden} layers overflowed or zero)"
    ax.plot(layers, values, marker="o", markersize=3, label=label)
    label_grad_norm_axes(ax, title)
    if label:
        ax.legend()
    return ax


def evenly_spaced(n_layers: int, max_layers: int) -> list[int]:
    """Indices of at most ``max_layers`` layers out of ``n_layers``, first and last included.

    Example:
        >>> evenly_spaced(50, 6)
        [0, 10, 20, 29, 39, 49]
    """
    return sorted({round(i) for i in np.linspace(0, n_layers - 1, min(max_layers, n_layers))})


def layers_to_show(
    activations: Mapping[str, np.ndarray], max_layers: int
) -> list[tuple[int, np.ndarray]]:
    """``(layer index, finite values)`` of up to ``max_layers`` evenly spaced layers."""
    names = list(activations)
    if not names:
        raise ValueError("no activations to plot: record a forward pass first")
    picked = []
    for index in evenly_spaced(len(names), max_layers):
        values = np.asarray(activations[names[index]], float).ravel()
        picked.append((index, values[np.isfinite(values)]))
    return picked


def label_activation_axes(ax: Any) -> None:
    """The axes labels of every activation histogram (the lessons' and the explorer's)."""
    ax.set_xlabel("activation value $a^{(l)}$")
    ax.set_ylabel("count")
    ax.set_title("Activations per layer")


def layer_colors(n: int) -> np.ndarray:
    """Dark for shallow layers, light for deep ones (viridis), for ``n`` layers."""
    from matplotlib import colormaps

    return colormaps["viridis"](np.linspace(0, 0.9, n))


def plot_activation_histograms(
    activations: Mapping[str, np.ndarray], ax: Any = None, bins: int = 40, max_layers: int = 6
) -> Any:
    """Overlaid histograms of the activations of up to ``max_layers`` evenly spaced layers.

    Shallow layers are drawn dark, deep layers light, each with its own line style, so a
    distribution that collapses with depth (to 0, or onto the asymptotes of a sigmoid) is
    visible at a glance, in grey too. Returns the axes.
    """
    ax = axes_or_new(ax)
    picked = layers_to_show(activations, max_layers)
    colors = layer_colors(len(picked))
    for color, style, (index, values) in zip(colors, cycle(LINE_STYLES), picked, strict=False):
        if values.size:
            label = f"layer {index + 1}"
            ax.hist(values, bins=bins, histtype="step", color=color, ls=style, label=label)
    label_activation_axes(ax)
    ax.legend(fontsize="small", loc="upper right")
    return ax


def plot_training_curves(
    histories: Mapping[str, Any] | Sequence[Any],
    ax: Any = None,
    metric: str = "loss",
) -> Any:
    """Per-step loss (or accuracy) of several training runs on one axes, for comparison.

    ``histories`` is ``{label: History}`` or a sequence of
    :class:`~autodiff_lib.lab.training.History` objects (each labelled by its own
    ``label``). Returns the axes.

    Example:
        >>> plot_training_curves({"sigmoid": h_sigmoid, "relu": h_relu})  # doctest: +SKIP
    """
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"metric must be 'loss' or 'accuracy', got {metric!r}")
    ax = axes_or_new(ax)
    if isinstance(histories, Mapping):
        items = list(histories.items())
    else:
        items = [(h.label, h) for h in histories]
    looks = zip(cycle(COLORS), cycle(LINE_STYLES))
    for (label, history), (color, style) in zip(items, looks, strict=False):
        values = history.step_loss if metric == "loss" else history.step_accuracy
        ax.plot(np.arange(1, len(values) + 1), values, color=color, ls=style, label=label or None)
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss" if metric == "loss" else "training accuracy")
    ax.set_title(f"Training {metric}")
    if any(label for label, _ in items):
        ax.legend()
    return ax
