r"""See how gradients and activations flow through a network, without changing its code.

Lessons 08 and 09 diagnose vanishing and exploding gradients with three kinds of numbers:

- **gradient statistics** per named parameter after ``loss.backward()``: the mean absolute
  gradient (what the seed deck's :func:`plot_grad_flow` draws), the norm
  :math:`\lVert \partial L / \partial W^{(l)} \rVert_2` and the standard deviation;
- **activation statistics** per layer, recorded by forward hooks (:class:`ActivationRecorder`):
  mean, standard deviation, the fraction of saturated units (sigmoid/tanh outputs pinned to an
  asymptote, where :math:`\sigma'` is almost 0) and of dead units (ReLU units that output 0 for
  every example of the batch, so no gradient reaches their weights);
- **training histories** from :func:`train`: loss, accuracy and per-layer gradient norms per step.

The functions only use the PyTorch-named interface (``named_parameters``, ``named_modules``,
``register_forward_hook``, ``.grad``), so they work on ``autodiff_lib.nn`` models and on
PyTorch models alike.

Example:
    >>> from autodiff_lib import nn, tensor
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 1))
    >>> with ActivationRecorder(model) as recorder:
    ...     loss = model(tensor([[1.0, 2.0, 3.0, 4.0]])).sum()
    >>> loss.backward()
    >>> sorted(gradient_stats(model.named_parameters()))
    ['0.weight', '2.weight']
    >>> list(recorder.stats())
    ['1']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ACTIVATION_TYPES = ("Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "SELU", "SiLU", "GELU")
"""Class names of the modules :class:`ActivationRecorder` watches by default."""

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


def named_modules_of_type(model: Any, type_names: Sequence[str]) -> list[tuple[str, Any]]:
    """``(name, module)`` for every submodule whose class name is in ``type_names``."""
    return [(name, m) for name, m in model.named_modules() if type(m).__name__ in type_names]


class ActivationRecorder:
    """Context manager recording the outputs of chosen modules through forward hooks.

    By default it watches the activation modules (:data:`ACTIVATION_TYPES`). Each
    forward pass of ``model`` replaces the previous recording. A module called several times in
    one pass (the deck's ``DeepMLP`` reuses one activation object) gets one entry per call,
    labelled ``"name#2"``, ``"name#3"``, ... With ``retain_grad=True`` the outputs keep their
    gradients, so after ``loss.backward()`` :meth:`gradients` returns the back-propagated
    :math:`\\partial L / \\partial a` per layer.

    Example:
        >>> with ActivationRecorder(model) as recorder:  # doctest: +SKIP
        ...     model(x)
        >>> recorder.activations["1"].shape  # doctest: +SKIP
        (64, 32)
    """

    def __init__(
        self,
        model: Any,
        module_types: Sequence[str] = ACTIVATION_TYPES,
        retain_grad: bool = False,
    ) -> None:
        self.model = model
        self.modules = named_modules_of_type(model, module_types)
        if not self.modules:
            raise ValueError(
                f"{type(model).__name__} has no submodule of type {', '.join(module_types)}"
            )
        self.retain_grad = retain_grad
        self._outputs: dict[str, Any] = {}
        self._kinds: dict[str, str] = {}
        self._pass_finished = False
        self._handles: list[Any] = []

    def __enter__(self) -> ActivationRecorder:
        for name, module in self.modules:
            self._handles.append(module.register_forward_hook(self._hook_for(name)))
        self._handles.append(self.model.register_forward_hook(self._end_of_pass))
        return self

    def __exit__(self, *exc_info: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _hook_for(self, name: str):
        def record(module: Any, inputs: Any, output: Any) -> None:
            if self._pass_finished:
                self._outputs.clear()
                self._pass_finished = False
            label = name
            calls = 1
            while label in self._outputs:
                calls += 1
                label = f"{name}#{calls}"
            if self.retain_grad:
                output.retain_grad()
            self._outputs[label] = output
            self._kinds[label] = type(module).__name__

        return record

    def _end_of_pass(self, module: Any, inputs: Any, output: Any) -> None:
        self._pass_finished = True

    @property
    def activations(self) -> dict[str, np.ndarray]:
        """``{layer label: output array}`` of the last forward pass, in call order."""
        return {label: to_numpy(output) for label, output in self._outputs.items()}

    def gradients(self) -> dict[str, np.ndarray]:
        """``{layer label: dL/d(output)}`` after ``backward`` (needs ``retain_grad=True``)."""
        if not self.retain_grad:
            raise ValueError(
                "create the ActivationRecorder with retain_grad=True to keep gradients"
            )
        missing = [label for label, out in self._outputs.items() if out.grad is None]
        if missing:
            raise ValueError(f"no gradient for {missing}: call loss.backward() first")
        return {label: to_numpy(output.grad) for label, output in self._outputs.items()}

    def stats(self, tol: float = 0.01) -> dict[str, ActivationStats]:
        """:class:`ActivationStats` per recorded layer of the last forward pass."""
        return {
            label: activation_stats(label, values, self._kinds[label], tol)
            for label, values in self.activations.items()
        }


# ---------------------------------------------------------------------------------------------
# Training loop
# ---------------------------------------------------------------------------------------------


@dataclass
class History:
    """What :func:`train` measured: per step and per epoch, plus per-layer gradient norms.

    ``accuracy`` lists are empty for regression (outputs that are not class scores);
    ``grad_norms`` maps each weight's name to its gradient norm at every step.
    """

    label: str = ""
    step_loss: list[float] = field(default_factory=list)
    step_accuracy: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    epoch_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    grad_norms: dict[str, list[float]] = field(default_factory=dict)

    def plot(self, ax: Any = None, metric: str = "loss") -> Any:
        """Draw this history's per-step ``metric`` (``"loss"`` or ``"accuracy"``)."""
        return plot_training_curves([self], ax=ax, metric=metric)


def _progress_enabled(progress: bool) -> bool:
    return progress and "PYTEST_CURRENT_TEST" not in os.environ


def _accuracy(scores: np.ndarray, targets: np.ndarray) -> float | None:
    if scores.ndim != 2 or scores.shape[1] < 2 or not np.issubdtype(targets.dtype, np.integer):
        return None
    return float(np.mean(scores.argmax(axis=1) == targets))


def evaluate_accuracy(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows of ``X`` whose highest score is the label ``y`` (in eval mode)."""
    from autodiff_lib import no_grad, tensor

    was_training = model.training
    model.eval()
    with no_grad():
        scores = to_numpy(model(tensor(X)))
    model.train(was_training)
    return float(np.mean(scores.argmax(axis=1) == y))


def train(
    model: Any,
    loss_fn: Any,
    optimizer: Any,
    batches: Iterable[tuple[np.ndarray, np.ndarray]],
    epochs: int = 1,
    progress: bool = True,
    test_data: tuple[np.ndarray, np.ndarray] | None = None,
    label: str = "",
) -> History:
    """Minibatch training: forward, loss, backward, record, step; for ``epochs`` passes.

    Args:
        model: an ``autodiff_lib.nn.Module``.
        loss_fn: e.g. ``nn.CrossEntropyLoss()``; called as ``loss_fn(model(x), y)``.
        optimizer: e.g. ``optim.SGD(model.parameters(), lr=0.1)``.
        batches: re-iterable ``(x, y)`` numpy minibatches, e.g. a
            :class:`autodiff_lib.data.DataLoader` (a one-shot generator only works with
            ``epochs=1``).
        epochs: passes over ``batches``.
        progress: show a tqdm progress bar (never shown while pytest runs).
        test_data: ``(X_test, y_test)`` to measure test accuracy after each epoch.
        label: name of the run, used in plot legends.

    Returns:
        A :class:`History`.

    Example:
        >>> loader = DataLoader(X, y, batch_size=32)  # doctest: +SKIP
        >>> history = train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), 0.1),
        ...                 loader, epochs=3, progress=False)  # doctest: +SKIP
        >>> history.epoch_loss  # doctest: +SKIP
        [1.9, 1.2, 0.8]
    """
    from tqdm.auto import tqdm

    from autodiff_lib import tensor

    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if epochs > 1 and iter(batches) is batches:
        raise ValueError(
            "batches is a one-shot iterator but epochs > 1: pass a re-iterable such as "
            "autodiff_lib.data.DataLoader"
        )
    history = History(label=label)
    steps_per_epoch = _length_or_none(batches)
    total = None if steps_per_epoch is None else epochs * steps_per_epoch
    bar = tqdm(total=total, disable=not _progress_enabled(progress))
    for epoch in range(epochs):
        model.train()
        losses, accuracies = [], []
        for xb, yb in batches:
            optimizer.zero_grad()
            scores = model(tensor(xb))
            loss = loss_fn(scores, tensor(yb))
            loss.backward()
            for name, norm in gradient_norms(model).items():
                history.grad_norms.setdefault(name, []).append(norm)
            optimizer.step()
            losses.append(float(loss.item()))
            accuracy = _accuracy(to_numpy(scores), np.asarray(yb))
            if accuracy is not None:
                accuracies.append(accuracy)
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{losses[-1]:.4f}")
        history.step_loss.extend(losses)
        history.step_accuracy.extend(accuracies)
        history.epoch_loss.append(float(np.mean(losses)))
        if accuracies:
            history.epoch_accuracy.append(float(np.mean(accuracies)))
        if test_data is not None:
            history.test_accuracy.append(evaluate_accuracy(model, *test_data))
    bar.close()
    return history


def _length_or_none(batches: Any) -> int | None:
    try:
        return len(batches)
    except TypeError:
        return None


# ---------------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------------


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
    values = np.asarray(list(norms.values()) if isinstance(norms, Mapping) else norms, float)
    layers = np.arange(1, len(values) + 1)
    shown = np.isfinite(values) & (values > 0)
    if not np.all(shown):
        label = f"{label or 'norms'} ({np.sum(~shown)} layers overflowed or zero)"
    ax.semilogy(layers[shown], values[shown], marker="o", markersize=3, label=label)
    ax.set_xlabel("layer $l$ (1 = next to the input)")
    ax.set_ylabel(r"$\|\partial L / \partial W^{(l)}\|_2$")
    ax.set_title(title)
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


def plot_activation_histograms(
    activations: Mapping[str, np.ndarray], ax: Any = None, bins: int = 40, max_layers: int = 6
) -> Any:
    """Overlaid histograms of the activations of up to ``max_layers`` evenly spaced layers.

    Shallow layers are drawn dark, deep layers light, so a distribution that collapses with
    depth (to 0, or onto the asymptotes of a sigmoid) is visible at a glance. Returns the axes.
    """
    import matplotlib.pyplot as plt

    ax = axes_or_new(ax)
    names = list(activations)
    if not names:
        raise ValueError("no activations to plot: record a forward pass first")
    picked = evenly_spaced(len(names), max_layers)
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(picked)))
    for color, index in zip(colors, picked, strict=True):
        values = np.asarray(activations[names[index]], float).ravel()
        values = values[np.isfinite(values)]
        if values.size:
            ax.hist(values, bins=bins, histtype="step", color=color, label=f"layer {index + 1}")
    ax.set_xlabel("activation value $a^{(l)}$")
    ax.set_ylabel("count")
    ax.set_title("Activations per layer")
    ax.legend(fontsize="small", loc="upper right")
    return ax


def plot_training_curves(
    histories: Mapping[str, History] | Sequence[History],
    ax: Any = None,
    metric: str = "loss",
) -> Any:
    """Per-step loss (or accuracy) of several training runs on one axes, for comparison.

    ``histories`` is ``{label: History}`` or a sequence of histories (each labelled by its own
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
    for label, history in items:
        values = history.step_loss if metric == "loss" else history.step_accuracy
        ax.plot(np.arange(1, len(values) + 1), values, label=label or None)
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss" if metric == "loss" else "training accuracy")
    ax.set_title(f"Training {metric}")
    if any(label for label, _ in items):
        ax.legend()
    return ax
