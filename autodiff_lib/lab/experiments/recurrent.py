r"""Lesson 09, family 7: recurrent cells on a long dependency: remember the first token over
``T`` steps, a plain RNN against LSTM and GRU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autodiff_lib import nn, optim, tensors
from autodiff_lib.lab.plots import (
    axes_or_new,
    plot_training_curves,
)
from autodiff_lib.lab.statistics import to_numpy
from autodiff_lib.lab.training import History, train

__all__ = [
    "CELLS",
    "first_token_task",
    "SequenceClassifier",
    "open_gates_",
    "RecurrentResult",
    "rnn_vs_gated",
]


CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}


def first_token_task(
    seq_len: int, batch: int, n_classes: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Sequences whose label is the class of their first token.

    Input ``(seq_len, batch, n_classes + 1)`` (time first, as PyTorch's RNNs): step 0 is the
    one-hot class; steps 1.. carry only Gaussian noise of std ``noise`` on the extra channel.
    To answer at the last step a cell must carry the class across ``seq_len - 1`` noisy steps.
    """
    labels = rng.integers(0, n_classes, batch)
    x = np.zeros((seq_len, batch, n_classes + 1), dtype=np.float32)
    x[0, np.arange(batch), labels] = 1.0
    x[1:, :, n_classes] = noise * rng.standard_normal((seq_len - 1, batch))
    return x, labels


class SequenceClassifier(nn.Module):
    """A recurrent cell run over the sequence, then a ``Linear`` read-out of the last state."""

    def __init__(self, cell: str, n_inputs: int, hidden: int, n_classes: int) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {cell!r}")
        self.kind = cell
        self.cell = CELLS[cell](n_inputs, hidden)
        self.readout = nn.Linear(hidden, n_classes)

    def forward(self, steps: Sequence[Any]) -> Any:
        """``steps``: a ``(T, batch, features)`` tensor or a sequence of ``(batch, features)``."""
        h, c = None, None
        for x_t in steps:
            if self.kind == "lstm":
                h, c = self.cell(x_t, None if h is None else (h, c))
            else:
                h = self.cell(x_t, h)
        return self.readout(h)


def open_gates_(model: SequenceClassifier, gate_bias: float) -> None:
    r"""Bias a gated cell towards remembering: LSTM forget gate, GRU update gate.

    With bias :math:`b`, the gate starts near :math:`\sigma(b)` (0.95 for 3), so the
    additive path :math:`c' = f\odot c + \dots` (LSTM) or :math:`h' = z\odot h + \dots` (GRU)
    carries the state, and its gradient, across many steps from the first update on. A
    vanilla RNN has no such path.
    """
    hidden = model.cell.hidden_size
    if model.kind in ("lstm", "gru"):  # gate order i, f, g, o (LSTM) and r, z, n (GRU)
        model.cell.bias_ih.data[hidden : 2 * hidden] = gate_bias
        model.cell.bias_hh.data[hidden : 2 * hidden] = 0.0


@dataclass
class RecurrentResult:
    """Training loss per step on the first-token task and, at initialisation, the gradient
    norm with respect to every input step."""

    cell: str
    seq_len: int
    history: History
    accuracy: float
    input_grad_norms: np.ndarray

    def plot(self, ax: Any = None) -> Any:
        ax = plot_training_curves({self.cell: self.history}, ax=ax)
        ax.set_title(f"Remember the first token over {self.seq_len} steps")
        return ax

    def plot_input_gradients(self, ax: Any = None) -> Any:
        r""":math:`\lVert\partial L/\partial x_t\rVert` against how far back step t lies."""
        ax = axes_or_new(ax)
        steps_back = self.seq_len - 1 - np.arange(self.seq_len)
        ax.semilogy(steps_back, self.input_grad_norms, label=self.cell)
        ax.set_xlabel("steps between input $x_t$ and the loss ($T - 1 - t$)")
        ax.set_ylabel(r"$\|\partial L / \partial x_t\|$ at initialisation")
        ax.set_title("Gradient reaching earlier inputs")
        ax.legend()
        return ax


def _input_gradient_norms(model: SequenceClassifier, x: np.ndarray, labels: np.ndarray):
    steps = [tensors.tensor(x_t, requires_grad=True) for x_t in x]
    nn.CrossEntropyLoss()(model(steps), tensors.tensor(labels)).backward()
    model.zero_grad()
    return np.array([np.linalg.norm(to_numpy(step.grad)) for step in steps])


def rnn_vs_gated(
    cell: str = "rnn",
    seq_len: int = 40,
    hidden: int = 16,
    steps: int = 100,
    lr: float = 0.01,
    batch: int = 64,
    noise: float = 1.0,
    n_classes: int = 2,
    gate_bias: float = 3.0,
    seed: int = 0,
    progress: bool = True,
) -> RecurrentResult:
    r"""Train a cell to output the class of the first token after ``seq_len`` steps.

    Adam, a fresh batch of sequences (:func:`first_token_task`) every step. The vanilla RNN's
    gradient w.r.t. the first input is a product of ``seq_len - 1`` Jacobians
    :math:`\mathrm{diag}(\tanh')\,W_{hh}` and vanishes, so its loss stays at chance
    (:math:`\ln 2 \approx 0.69`); the LSTM and GRU, their gates opened with ``gate_bias``
    (:func:`open_gates_`), learn the task.

    Example:
        >>> rnn_vs_gated("gru", progress=False).accuracy > 0.9  # doctest: +SKIP
        True
    """
    tensors.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = SequenceClassifier(cell, n_classes + 1, hidden, n_classes)
    open_gates_(model, gate_bias)
    x, labels = first_token_task(seq_len, batch, n_classes, noise, rng)
    input_grad_norms = _input_gradient_norms(model, x, labels)

    history = train(
        model,
        nn.CrossEntropyLoss(),
        optim.Adam(model.parameters(), lr=lr),
        (first_token_task(seq_len, batch, n_classes, noise, rng) for _ in range(steps)),
        progress=progress,
        label=cell,
    )
    x_eval, labels_eval = first_token_task(seq_len, 256, n_classes, noise, rng)
    with tensors.no_grad():
        scores = to_numpy(model(tensors.tensor(x_eval)))
    accuracy = float(np.mean(scores.argmax(axis=1) == labels_eval))
    return RecurrentResult(cell, seq_len, history, accuracy, input_grad_norms)
