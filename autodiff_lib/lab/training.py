"""A minibatch training loop that records what lessons 08 and 09 plot: :func:`train`.

Loss, accuracy and per-layer gradient norms per step, in a :class:`History`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from autodiff_lib.lab.plots import plot_training_curves
from autodiff_lib.lab.statistics import gradient_norms, to_numpy
from autodiff_lib.tensors import no_grad, tensor

__all__ = ["History", "evaluate_accuracy", "train"]


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
