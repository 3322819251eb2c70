"""Interactive explorers for the vanishing-gradient lessons (ipywidgets).

:func:`gradient_flow_explorer` returns a widget with a depth slider (1-50) and menus for the
activation, the initialisation, residual connections and normalisation. Every change reruns
:func:`autodiff_lib.lab.experiments.gradient_flow` and redraws two panels into an ``Output`` as a
PNG image: the per-layer gradient norms on a log scale and histograms of the activations. The
figure title names the current settings.

The network is kept small (width 32, batch 64) and results are cached by settings, so one
update at depth 50 renders in well under 300 ms (``benchmarks/bench_widgets.py``).

Example (in a notebook cell)::

    from autodiff_lib.lab.widgets import gradient_flow_explorer
    explorer = gradient_flow_explorer(depth=20, activation="sigmoid")
    explorer            # shows the controls and the plot
    explorer.update(activation="relu", init="he")   # the same as using the controls
"""

from __future__ import annotations

import base64
import inspect
import io
from itertools import cycle
from typing import Any

import ipywidgets as widgets
import matplotlib.style
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from autodiff_lib.lab.experiments.builders import ACTIVATIONS, INITS, canonical_init
from autodiff_lib.lab.experiments.flow import GradientFlowResult, gradient_flow
from autodiff_lib.lab.plots import (
    label_activation_axes,
    label_grad_norm_axes,
    layer_colors,
    layers_to_show,
    shown_norms,
)
from autodiff_lib.style import LINE_STYLES

MAX_DEPTH = 50
# the settings that have a control; the others (width, batch, seed) stay as they started
CONTROLS = ("depth", "activation", "init", "residual", "norm")
# where the explorer starts when it differs from gradient_flow: a network small enough to redraw
# in well under 300 ms, and the activation whose gradients vanish
EXPLORER_DEFAULTS = {"activation": "sigmoid", "width": 32}
# "No normalisation" needs a real value: ipywidgets 8 shows a Dropdown whose value is None
# as "nothing selected" (a blank box). `settings` maps it back to None, as gradient_flow expects.
NO_NORM = "none"
NORM_OPTIONS = (("none", NO_NORM), ("BatchNorm", "batchnorm"), ("LayerNorm", "layernorm"))


class GradientFlowFigure:
    r"""The explorer's two panels, drawn by updating the same artists on every redraw.

    Left: per-layer gradient norms :math:`\lVert\partial L/\partial W^{(l)}\rVert_2` on a log
    scale. Right: activation histograms of up to six evenly spaced layers, on shared bins. The
    figure is a standalone ``Figure`` (not pyplot, so a notebook never shows it twice); moving
    data into existing artists instead of clearing the axes keeps a redraw cheap. It is built
    and drawn with matplotlib's default style, so the same result gives the same PNG bytes in
    any process, whatever the notebook's ``rcParams``.
    """

    def __init__(self, dpi: int = 72, max_layers: int = 6, bins: int = 40) -> None:
        with matplotlib.style.context("default"):
            self._build(dpi, max_layers, bins)

    def _build(self, dpi: int, max_layers: int, bins: int) -> None:
        self.figure = Figure(figsize=(10, 3.6), dpi=dpi)
        FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.82, wspace=0.25)
        self.norms_ax, self.hist_ax = self.figure.subplots(1, 2)
        self.bins = bins
        label_grad_norm_axes(self.norms_ax)
        self.norms_ax.yaxis.set_minor_locator(NullLocator())
        self.norms_xlabel = self.norms_ax.get_xlabel()
        (self.norms_line,) = self.norms_ax.plot([], [], "o-", markersize=3)
        label_activation_axes(self.hist_ax)
        self.histograms = [
            self.hist_ax.stairs([0.0], [0.0, 1.0], color=color, ls=style)
            for color, style in zip(layer_colors(max_layers), cycle(LINE_STYLES), strict=False)
        ]
        self.title = self.figure.suptitle("")

    def draw(self, result: GradientFlowResult) -> bytes:
        """Show ``result`` and return the figure as PNG bytes."""
        with matplotlib.style.context("default"):
            self._draw_norms(result.grad_norms)
            self._draw_histograms(result.activations)
            self.title.set_text(result.title)
            buffer = io.BytesIO()
            self.figure.savefig(buffer, format="png")
        return buffer.getvalue()

    def _draw_norms(self, norms: np.ndarray) -> None:
        layers, values, hidden = shown_norms(norms)
        self.norms_line.set_data(layers, values)
        note = f"{hidden} layers overflowed or zero, not shown" if hidden else ""
        self.norms_ax.set_xlabel(f"{self.norms_xlabel} {note}".strip())
        self.norms_ax.relim()
        self.norms_ax.autoscale_view()

    def _draw_histograms(self, activations: dict[str, np.ndarray]) -> None:
        picked = layers_to_show(activations, len(self.histograms))
        finite = np.concatenate([values for _, values in picked])
        edges = np.histogram_bin_edges(finite if finite.size else [0.0], bins=self.bins)
        for step, (index, layer_values) in zip(self.histograms, picked, strict=False):
            step.set_data(np.histogram(layer_values, bins=edges)[0], edges)
            step.set_label(f"layer {index + 1}")
            step.set_visible(True)
        for step in self.histograms[len(picked) :]:
            step.set_visible(False)
            step.set_label("_hidden")
        self.hist_ax.relim()
        self.hist_ax.autoscale_view()
        self.hist_ax.legend(fontsize="small", loc="upper right")


def new_gradient_flow_figure(dpi: int = 72) -> GradientFlowFigure:
    """A fresh :class:`GradientFlowFigure` (what every explorer draws on)."""
    return GradientFlowFigure(dpi=dpi)


def render_gradient_flow(
    result: GradientFlowResult, figure: GradientFlowFigure | None = None
) -> bytes:
    """PNG of the gradient norms and activation histograms of ``result``, titled with its
    settings; the same bytes whether ``figure`` is fresh or has drawn other results before."""
    return (figure or new_gradient_flow_figure()).draw(result)


class GradientFlowExplorer(widgets.VBox):
    """The controls, the plot ``Output``, and the latest :class:`GradientFlowResult`.

    Attributes:
        depth, activation, init, residual, norm: the controls (``IntSlider``, ``Dropdown``,
            ``Dropdown``, ``Checkbox``, ``Dropdown``); setting ``.value`` redraws.
        output: the ``Output`` holding the PNG.
        fixed: the settings without a control (``width``, ``batch``, ``seed``).
        result: the :class:`~autodiff_lib.lab.experiments.GradientFlowResult` drawn last.
        png: the PNG bytes drawn last.
        redraws: how many times the plot was drawn (each control change draws once).
        cache: keep every drawn result and PNG by settings, so going back is instant
            (``False`` recomputes every time, as the benchmark needs).
    """

    def __init__(self, cache: bool = True, **settings: Any) -> None:
        chosen = inspect.signature(gradient_flow).bind(**{**EXPLORER_DEFAULTS, **settings})
        chosen.apply_defaults()
        start = chosen.arguments
        depth, activation, init = start["depth"], start["activation"], start["init"]
        if not 1 <= depth <= MAX_DEPTH:
            raise ValueError(f"depth must be between 1 and {MAX_DEPTH}, got {depth}")
        self.fixed = {name: value for name, value in start.items() if name not in CONTROLS}
        self.cache = cache
        self.depth = widgets.IntSlider(
            value=depth, min=1, max=MAX_DEPTH, description="depth", continuous_update=False
        )
        self.activation = widgets.Dropdown(
            options=list(ACTIVATIONS), value=activation, description="activation"
        )
        self.init = widgets.Dropdown(
            options=list(INITS), value=canonical_init(init), description="init"
        )
        self.residual = widgets.Checkbox(
            value=start["residual"], description="residual connections"
        )
        self.norm = widgets.Dropdown(
            options=NORM_OPTIONS, value=start["norm"] or NO_NORM, description="norm"
        )
        self.output = widgets.Output()
        self.result: GradientFlowResult | None = None
        self.png = b""
        self.redraws = 0
        self._cache: dict[tuple, tuple[GradientFlowResult, bytes]] = {}
        self._figure = new_gradient_flow_figure()
        self._holding = False
        controls = [getattr(self, name) for name in CONTROLS]
        super().__init__(
            [
                widgets.HBox(controls[:3]),
                widgets.HBox(controls[3:]),
                self.output,
            ]
        )
        for control in controls:
            control.observe(self._on_change, names="value")
        self.redraw()

    @property
    def settings(self) -> dict[str, Any]:
        """The current values of the controls, as :func:`gradient_flow` takes them."""
        values = {name: getattr(self, name).value for name in CONTROLS}
        values["norm"] = None if values["norm"] == NO_NORM else values["norm"]
        return values

    def _on_change(self, change: dict[str, Any]) -> None:
        if not self._holding:
            self.redraw()

    def update(self, **settings: Any) -> GradientFlowResult:
        """Set several controls at once (``depth=``, ``activation=``, ...) and redraw once."""
        unknown = set(settings) - set(self.settings)
        if unknown:
            raise TypeError(f"unknown settings {sorted(unknown)}; use {sorted(self.settings)}")
        if "init" in settings:
            settings["init"] = canonical_init(settings["init"])
        if "norm" in settings:
            settings["norm"] = settings["norm"] or NO_NORM
        self._holding = True
        try:
            for name, value in settings.items():
                getattr(self, name).value = value
        finally:
            self._holding = False
        return self.redraw()

    def redraw(self) -> GradientFlowResult:
        """Compute (or fetch from the cache) the current settings' result and draw it."""
        key = tuple(self.settings.values())
        if not self.cache or key not in self._cache:
            result = gradient_flow(**self.settings, **self.fixed)
            self._cache[key] = (result, render_gradient_flow(result, self._figure))
        self.result, self.png = self._cache[key]
        self.output.outputs = (
            {
                "output_type": "display_data",
                "data": {
                    "image/png": base64.b64encode(self.png).decode("ascii"),
                    "text/plain": f"<Figure: {self.result.title}>",
                },
                "metadata": {},
            },
        )
        self.redraws += 1
        return self.result


def gradient_flow_explorer(cache: bool = True, **settings: Any) -> GradientFlowExplorer:
    """A :class:`GradientFlowExplorer` starting from ``settings`` (see the module docs).

    The settings are :func:`~autodiff_lib.lab.experiments.gradient_flow`'s (``depth``,
    ``activation``, ``init``, ``residual``, ``norm``, ``width``, ``batch``, ``seed``), starting
    from :data:`EXPLORER_DEFAULTS` where they differ.

    Example:
        >>> explorer = gradient_flow_explorer(depth=30, activation="tanh", init="xavier")
        >>> explorer.depth.value = 50          # redraws for depth 50
        >>> explorer.result.depth
        50
    """
    return GradientFlowExplorer(cache, **settings)
