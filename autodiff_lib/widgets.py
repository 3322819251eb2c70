"""Interactive explorers for the vanishing-gradient lessons (ipywidgets).

:func:`gradient_flow_explorer` returns a widget with a depth slider (1-50) and menus for the
activation, the initialisation, residual connections and normalisation. Every change reruns
:func:`autodiff_lib.experiments.gradient_flow` and redraws two panels into an ``Output`` as a
PNG image: the per-layer gradient norms on a log scale and histograms of the activations. The
figure title names the current settings.

The network is kept small (width 32, batch 64) and results are cached by settings, so one
update at depth 50 renders in well under 300 ms (``benchmarks/bench_widgets.py``).

Example (in a notebook cell)::

    from autodiff_lib.widgets import gradient_flow_explorer
    explorer = gradient_flow_explorer(depth=20, activation="sigmoid")
    explorer            # shows the controls and the plot
    explorer.update(activation="relu", init="he")   # the same as using the controls
"""

from __future__ import annotations

import base64
import io
from typing import Any

import ipywidgets as widgets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from autodiff_lib.experiments import (
    ACTIVATIONS,
    INITS,
    GradientFlowResult,
    canonical_init,
    gradient_flow,
)

MAX_DEPTH = 50
NORM_OPTIONS = (("none", None), ("BatchNorm", "batchnorm"), ("LayerNorm", "layernorm"))


def new_gradient_flow_figure(dpi: int = 72) -> Figure:
    """A standalone two-panel ``Figure`` (not pyplot, so a notebook never shows it twice)."""
    figure = Figure(figsize=(10, 3.6), dpi=dpi)
    FigureCanvasAgg(figure)
    figure.subplots(1, 2)
    figure.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.82, wspace=0.25)
    return figure


def render_gradient_flow(result: GradientFlowResult, figure: Figure | None = None) -> bytes:
    """PNG of the gradient norms and activation histograms, titled with the settings.

    Reusing ``figure`` (from :func:`new_gradient_flow_figure`) saves building the axes anew
    on every redraw.
    """
    figure = figure or new_gradient_flow_figure()
    norms_ax, hist_ax = figure.axes
    norms_ax.clear()
    hist_ax.clear()
    result.plot(ax=norms_ax)
    norms_ax.set_title("Gradient norm per layer")
    result.plot_activations(ax=hist_ax)
    figure.suptitle(result.title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


class GradientFlowExplorer(widgets.VBox):
    """The controls, the plot ``Output``, and the latest :class:`GradientFlowResult`.

    Attributes:
        depth, activation, init, residual, norm: the controls (``IntSlider``, ``Dropdown``,
            ``Dropdown``, ``Checkbox``, ``Dropdown``); setting ``.value`` redraws.
        output: the ``Output`` holding the PNG.
        result: the :class:`~autodiff_lib.experiments.GradientFlowResult` drawn last.
        png: the PNG bytes drawn last.
        redraws: how many times the plot was drawn (each control change draws once).
    """

    def __init__(
        self,
        depth: int = 20,
        activation: str = "sigmoid",
        init: str = "pytorch_default",
        residual: bool = False,
        norm: str | None = None,
        width: int = 32,
        batch: int = 64,
        seed: int = 0,
    ) -> None:
        if not 1 <= depth <= MAX_DEPTH:
            raise ValueError(f"depth must be between 1 and {MAX_DEPTH}, got {depth}")
        self.width, self.batch, self.seed = width, batch, seed
        self.depth = widgets.IntSlider(
            value=depth, min=1, max=MAX_DEPTH, description="depth", continuous_update=False
        )
        self.activation = widgets.Dropdown(
            options=list(ACTIVATIONS), value=activation, description="activation"
        )
        self.init = widgets.Dropdown(
            options=list(INITS), value=canonical_init(init), description="init"
        )
        self.residual = widgets.Checkbox(value=residual, description="residual connections")
        self.norm = widgets.Dropdown(options=NORM_OPTIONS, value=norm, description="norm")
        self.output = widgets.Output()
        self.result: GradientFlowResult | None = None
        self.png = b""
        self.redraws = 0
        self._cache: dict[tuple, tuple[GradientFlowResult, bytes]] = {}
        self._figure = new_gradient_flow_figure()
        self._holding = False
        controls = [self.depth, self.activation, self.init, self.residual, self.norm]
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
        """The current values of the controls."""
        return {
            "depth": self.depth.value,
            "activation": self.activation.value,
            "init": self.init.value,
            "residual": self.residual.value,
            "norm": self.norm.value,
        }

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
        if key not in self._cache:
            result = gradient_flow(
                **self.settings, width=self.width, batch=self.batch, seed=self.seed
            )
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


def gradient_flow_explorer(
    depth: int = 20,
    activation: str = "sigmoid",
    init: str = "pytorch_default",
    residual: bool = False,
    norm: str | None = None,
    width: int = 32,
    batch: int = 64,
    seed: int = 0,
) -> GradientFlowExplorer:
    """A :class:`GradientFlowExplorer` with these starting settings (see the module docs).

    Example:
        >>> explorer = gradient_flow_explorer(depth=30, activation="tanh", init="xavier")
        >>> explorer.depth.value = 50          # redraws for depth 50
        >>> explorer.result.depth
        50
    """
    return GradientFlowExplorer(depth, activation, init, residual, norm, width, batch, seed)
