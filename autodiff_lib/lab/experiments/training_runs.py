r"""Lesson 09, family 6: training runs. The deck's ``DeepMLP`` with sigmoid, ReLU and
ReLU + BatchNorm, and a deep MLP with and without residual connections.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autodiff_lib import nn, optim, tensors
from autodiff_lib.data import DataLoader, Dataset, load_deck_dataset, load_digits, train_test_split
from autodiff_lib.lab.experiments.builders import (
    hidden_blocks,
    make_activation,
)
from autodiff_lib.lab.plots import (
    plot_training_curves,
)
from autodiff_lib.lab.training import History, train

__all__ = [
    "DeepMLP",
    "TrainingResult",
    "train_deep_mlp",
    "ResidualVsPlainResult",
    "residual_vs_plain",
]


class DeepMLP(nn.Module):
    """The seed deck's fully connected network 784-512-256-128-64-10.

    As in the deck one ``activation`` object is used after every hidden layer; with
    ``batchnorm=True`` a ``BatchNorm1d`` sits between each hidden ``Linear`` and its
    activation, as in the deck's ``model_with_bn``.
    """

    def __init__(self, activation: nn.Module | None = None, batchnorm: bool = False) -> None:
        super().__init__()
        activation = nn.ReLU() if activation is None else activation
        sizes = [784, 512, 256, 128, 64, 10]
        layers: list[nn.Module] = []
        for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
            layers.append(nn.Linear(n_in, n_out))
            if batchnorm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(activation)
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Any) -> Any:
        return self.model(x)


@dataclass
class TrainingResult:
    """One training run: its :class:`History` and the final test accuracy."""

    label: str
    history: History
    test_accuracy: float

    def plot(self, ax: Any = None, metric: str = "loss") -> Any:
        return plot_training_curves({self.label: self.history}, ax=ax, metric=metric)


def train_deep_mlp(
    activation: str = "relu",
    batchnorm: bool = False,
    epochs: int = 3,
    lr: float = 0.05,
    momentum: float = 0.9,
    batch_size: int = 64,
    max_train: int | None = 2000,
    dataset: Dataset | None = None,
    seed: int = 0,
    progress: bool = True,
) -> TrainingResult:
    """Train the deck's :class:`DeepMLP` with SGD on the deck dataset.

    ``dataset`` defaults to :func:`autodiff_lib.data.load_deck_dataset` (MNIST when present,
    else the 28x28 digits) with at most ``max_train`` training rows, so the default run stays
    a few seconds even with MNIST (``None`` uses all 60,000). With the defaults (3 epochs over
    the 1,438 training digits) sigmoid stays near the chance loss
    :math:`\\ln 10 \\approx 2.30`, ReLU starts to learn and ReLU + BatchNorm reaches a low loss.

    Example:
        >>> runs = [train_deep_mlp(a, bn) for a, bn in [("sigmoid", False), ("relu", False),
        ...                                             ("relu", True)]]  # doctest: +SKIP
        >>> plot_training_curves({r.label: r.history for r in runs})  # doctest: +SKIP
    """
    if dataset is None:
        dataset = load_deck_dataset(max_train=max_train, seed=seed)
    tensors.manual_seed(seed)
    model = DeepMLP(make_activation(activation), batchnorm=batchnorm)
    label = activation + (" + BatchNorm" if batchnorm else "")
    loader = DataLoader(dataset.X_train, dataset.y_train, batch_size=batch_size, seed=seed)
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    history = train(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        loader,
        epochs=epochs,
        progress=progress,
        test_data=(dataset.X_test, dataset.y_test),
        label=label,
    )
    return TrainingResult(label, history, history.test_accuracy[-1])


@dataclass
class ResidualVsPlainResult:
    """The same deep MLP trained with and without skip connections."""

    depth: int
    plain: History
    residual: History

    def first_step_grad_norms(self, run: str) -> np.ndarray:
        """Gradient norm of every weight matrix at the first step, the input layer first."""
        history = self.plain if run == "plain" else self.residual
        return np.array([norms[0] for name, norms in history.grad_norms.items()])

    def plot(self, ax: Any = None) -> Any:
        ax = plot_training_curves({"plain": self.plain, "residual": self.residual}, ax=ax)
        ax.set_title(f"{self.depth} hidden layers: plain vs residual")
        return ax


def residual_vs_plain(
    depth: int = 20,
    width: int = 64,
    activation: str = "tanh",
    epochs: int = 3,
    lr: float = 0.02,
    momentum: float = 0.9,
    batch_size: int = 64,
    seed: int = 0,
    progress: bool = True,
) -> ResidualVsPlainResult:
    """Train a ``depth``-block MLP on the 8x8 digits, plain and with residual blocks.

    Both runs share the seed, data order and optimiser; only the skip connections differ. The
    plain network's early layers get almost no gradient and its loss stays near
    :math:`\\ln 10`; the residual one learns.
    """
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, seed=seed)
    histories = {}
    for residual in (False, True):
        tensors.manual_seed(seed)
        body, _ = hidden_blocks(depth, width, activation, residual=residual)
        model = nn.Sequential(nn.Linear(X.shape[1], width), body, nn.Linear(width, 10))
        histories[residual] = train(
            model,
            nn.CrossEntropyLoss(),
            optim.SGD(model.parameters(), lr=lr, momentum=momentum),
            DataLoader(X_train, y_train, batch_size=batch_size, seed=seed),
            epochs=epochs,
            progress=progress,
            test_data=(X_test, y_test),
            label="residual" if residual else "plain",
        )
    return ResidualVsPlainResult(depth, plain=histories[False], residual=histories[True])
