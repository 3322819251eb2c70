r"""The vanishing- and exploding-gradient experiments of lessons 08 and 09, as functions.

Notebooks, the widgets and the tests call the same functions here. Each returns a small result
dataclass that holds the measured numbers and draws itself with ``.plot(ax=None)``.

=================================  ==============================================================
:func:`linear_chain_gradients`     the deck's chain of ``Linear(1, 1)`` + sigmoid: gradients
                                   shrink like :math:`0.25^{L}`
:func:`gradient_flow`              per-layer gradient norms for any depth, activation,
                                   initialisation, residual connections and normalisation
:func:`glorot_bengio`              Glorot and Bengio (2010): back-propagated gradient std ratio,
                                   first vs last of 5 tanh layers, 0.08 vs 0.41
:func:`he_init_depth`              He et al. (2015): output std of 30 ReLU layers, 3e-5 vs 0.8
:func:`exploding_gradients`        weights scaled above He's, and ``clip_grad_norm_``
:func:`train_deep_mlp`             the deck's ``DeepMLP`` with sigmoid, ReLU, ReLU + BatchNorm
:func:`residual_vs_plain`          a deep plain MLP against the same MLP with skip connections
:func:`rnn_vs_gated`               remember the first token over ``T`` steps: RNN vs LSTM / GRU
=================================  ==============================================================

Example:
    >>> result = gradient_flow(depth=20, activation="sigmoid", init="pytorch_default")
    >>> bool(result.grad_norms[0] < 1e-6 * result.grad_norms[-1])
    True
    >>> result.plot()  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import autodiff_lib as ad
from autodiff_lib import nn, optim
from autodiff_lib.data import DataLoader, Dataset, load_deck_dataset, load_digits, train_test_split
from autodiff_lib.diagnostics import (
    ActivationRecorder,
    ActivationStats,
    History,
    axes_or_new,
    plot_activation_histograms,
    plot_grad_norms,
    plot_training_curves,
    to_numpy,
    train,
)

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "swish": nn.SiLU,
    "gelu": nn.GELU,
}
"""Activation names accepted by the experiments, and the module each one builds."""

INITS = ("pytorch_default", "small", "xavier", "he")
"""Weight initialisations: PyTorch's ``Linear`` default :math:`U(\\pm 1/\\sqrt{n})`,
``small`` :math:`\\mathcal N(0, 0.01^2)`, Xavier/Glorot uniform, He/Kaiming normal."""

INIT_ALIASES = {
    "normal_0.01": "small",
    "kaiming": "he",
    "glorot": "xavier",
    "default": "pytorch_default",
}
NORMS = (None, "batchnorm", "layernorm")


# ---------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------


def make_activation(name: str) -> nn.Module:
    """A new activation module from its name (see :data:`ACTIVATIONS`)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def canonical_init(name: str) -> str:
    """The name in :data:`INITS` that ``name`` (or an alias such as ``"kaiming"``) stands for."""
    canonical = INIT_ALIASES.get(name, name)
    if canonical not in INITS:
        choices = ", ".join([*INITS, *INIT_ALIASES])
        raise ValueError(f"unknown initialisation {name!r}; choose one of {choices}")
    return canonical


def init_linear_(layer: nn.Linear, init: str) -> None:
    r"""Re-initialise ``layer``'s weight in place (biases to 0 except for the default).

    - ``pytorch_default``: keep ``Linear``'s :math:`U(-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}})`;
    - ``small``: :math:`\mathcal N(0, 0.01^2)`, the classic "small random numbers";
    - ``xavier``: :math:`U(\pm\sqrt{6/(n_{in}+n_{out})})`, variance :math:`2/(n_{in}+n_{out})`;
    - ``he``: :math:`\mathcal N(0, 2/n_{in})`, which keeps ReLU activations' scale.
    """
    init = canonical_init(init)
    if init == "pytorch_default":
        return
    if init == "small":
        nn.init.normal_(layer.weight, 0.0, 0.01)
    elif init == "xavier":
        nn.init.xavier_uniform_(layer.weight)
    else:
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    nn.init.zeros_(layer.bias)


def make_norm(norm: str | None, width: int) -> nn.Module | None:
    """``BatchNorm1d``, ``LayerNorm`` or nothing, by name."""
    if norm not in NORMS:
        raise ValueError(f"unknown normalisation {norm!r}; choose one of {NORMS}")
    if norm == "batchnorm":
        return nn.BatchNorm1d(width)
    if norm == "layernorm":
        return nn.LayerNorm(width)
    return None


def hidden_blocks(
    depth: int,
    width: int,
    activation: str,
    init: str = "pytorch_default",
    residual: bool = False,
    norm: str | None = None,
) -> tuple[nn.Sequential, list[nn.Linear]]:
    r"""``depth`` hidden blocks ``Linear -> [norm] -> activation`` of ``width`` units.

    With ``residual=True`` each block becomes :math:`a^{(l)} = a^{(l-1)} + \text{block}(a^{(l-1)})`.
    Returns the model and its hidden ``Linear`` layers in order (layer 1 first), so their
    gradients can be read without parsing parameter names.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    blocks, linears = [], []
    for _ in range(depth):
        linear = nn.Linear(width, width)
        init_linear_(linear, init)
        norm_layer = make_norm(norm, width)
        parts = [
            linear,
            *([norm_layer] if norm_layer is not None else []),
            make_activation(activation),
        ]
        block = nn.Sequential(*parts)
        blocks.append(nn.Residual(block) if residual else block)
        linears.append(linear)
    return nn.Sequential(*blocks), linears


def _finite_ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 and np.isfinite(denominator) else math.nan


# ---------------------------------------------------------------------------------------------
# 1. The deck's chain of Linear(1, 1) layers
# ---------------------------------------------------------------------------------------------


def create_deep_network(depth: int, activation: nn.Module | None = None) -> nn.Sequential:
    """The deck's network: ``depth`` ``Linear(1, 1)`` layers with an activation between them.

    As in the deck one activation object (sigmoid by default) is shared by every position.
    """
    activation = nn.Sigmoid() if activation is None else activation
    layers: list[nn.Module] = []
    for i in range(depth):
        layers.append(nn.Linear(1, 1))
        if i < depth - 1:
            layers.append(activation)
    return nn.Sequential(*layers)


def check_gradients(model: nn.Sequential, depth: int) -> list[float]:
    r"""The deck's check: back-propagate from :math:`y = f(1)` and return
    :math:`|\partial y / \partial w^{(l)}|` for every layer, layer 1 first."""
    x = ad.ones(1, 1, requires_grad=True)
    y = model(x)
    y.backward()
    gradients = []
    for i in range(0, 2 * depth - 1, 2):
        gradients.append(model[i].weight.grad.abs().item())
    return gradients


@dataclass
class LinearChainResult:
    r"""Per-layer :math:`|\partial y/\partial w^{(l)}|` of the deck's chain, layer 1 first.

    ``bound[l]`` is :math:`\max\phi'^{\,L-l}` (:math:`0.25^{L-l}` for sigmoid): with
    :math:`|w| \le 1` and :math:`|a| \le 1` no gradient can exceed it.
    """

    depth: int
    activation: str
    gradients: np.ndarray
    bound: np.ndarray

    def plot(self, ax: Any = None) -> Any:
        ax = axes_or_new(ax)
        layers = np.arange(1, self.depth + 1)
        shown = self.gradients > 0
        ax.semilogy(layers[shown], self.gradients[shown], "o-", label=r"$|\partial y/\partial w|$")
        ax.semilogy(layers, self.bound, "--", label=r"bound $\max\phi'^{\,L-l}$")
        ax.set_xlabel("layer $l$ (1 = next to the input)")
        ax.set_ylabel("gradient magnitude")
        ax.set_title(f"Chain of {self.depth} Linear(1, 1) + {self.activation}")
        ax.legend()
        return ax


_MAX_DERIVATIVE = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "leaky_relu": 1.0}


def linear_chain_gradients(
    depth: int, activation: str = "sigmoid", seed: int = 0
) -> LinearChainResult:
    r"""Run the deck's ``create_deep_network`` / ``check_gradients`` with a fixed seed.

    Each layer's gradient is a product of one factor :math:`w\,\phi'(z)` per later layer, so
    with sigmoid it shrinks at least like :math:`0.25^{L-l}`; at :math:`L = 10` the first layer
    gets about :math:`10^{-6}` of the last one's gradient.

    Example:
        >>> r = linear_chain_gradients(10)
        >>> bool(r.gradients[0] <= 0.25 ** 9)
        True
    """
    if activation not in _MAX_DERIVATIVE:
        raise ValueError(f"activation must be one of {', '.join(_MAX_DERIVATIVE)}")
    ad.manual_seed(seed)
    model = create_deep_network(depth, make_activation(activation))
    gradients = np.array(check_gradients(model, depth))
    bound = _MAX_DERIVATIVE[activation] ** (depth - np.arange(1, depth + 1, dtype=float))
    return LinearChainResult(depth, activation, gradients, bound)


# ---------------------------------------------------------------------------------------------
# 2. Gradient flow through a configurable MLP
# ---------------------------------------------------------------------------------------------


@dataclass
class GradientFlowResult:
    r"""Per-layer gradient norms :math:`\lVert\partial L/\partial W^{(l)}\rVert_2` and
    activation statistics of one configuration (layer 1 = next to the input)."""

    depth: int
    activation: str
    init: str
    residual: bool
    norm: str | None
    grad_norms: np.ndarray
    grad_mean_abs: np.ndarray
    activation_stats: list[ActivationStats]
    activations: dict[str, np.ndarray]
    loss: float

    @property
    def title(self) -> str:
        """The settings in one line, e.g. ``"depth 20, sigmoid, init xavier, plain, no norm"``."""
        return (
            f"depth {self.depth}, {self.activation}, init {self.init}, "
            f"{'residual' if self.residual else 'plain'}, {self.norm or 'no norm'}"
        )

    @property
    def first_to_last_ratio(self) -> float:
        """:math:`\\lVert g^{(1)}\\rVert / \\lVert g^{(L)}\\rVert`: far below 1 means vanishing."""
        return _finite_ratio(self.grad_norms[0], self.grad_norms[-1])

    @property
    def spread(self) -> float:
        """Largest over smallest per-layer gradient norm (1 = perfectly even flow)."""
        return _finite_ratio(self.grad_norms.max(), self.grad_norms.min())

    def plot(self, ax: Any = None) -> Any:
        """Per-layer gradient norms on a log scale, labelled with the settings."""
        return plot_grad_norms(self.grad_norms, ax=ax, label=self.title)

    def plot_activations(self, ax: Any = None) -> Any:
        """Histograms of a few layers' activations."""
        return plot_activation_histograms(self.activations, ax=ax)


def gradient_flow(
    depth: int = 20,
    activation: str = "relu",
    init: str = "pytorch_default",
    residual: bool = False,
    norm: str | None = None,
    width: int = 64,
    batch: int = 64,
    seed: int = 0,
) -> GradientFlowResult:
    r"""One forward and backward pass through ``depth`` hidden blocks; gradients per layer.

    The network is :func:`hidden_blocks` followed by a ``Linear(width, 1)`` head; the input and
    the regression target are standard normal, the loss is the mean squared error. What
    the lessons read from it:

    - sigmoid or a too-small init: the norms fall geometrically towards the input;
    - ReLU with He init (:math:`\mathrm{Var}(w) = 2/n`) keeps them within an order of magnitude;
    - residual connections and BatchNorm keep them even when the activation does not.

    Example:
        >>> r = gradient_flow(depth=30, activation="relu", init="he")
        >>> bool(r.spread < 10)
        True
    """
    init = canonical_init(init)
    ad.manual_seed(seed)
    body, linears = hidden_blocks(depth, width, activation, init, residual, norm)
    model = nn.Sequential(body, nn.Linear(width, 1))
    x = ad.randn(batch, width)
    target = ad.randn(batch, 1)
    with ActivationRecorder(model) as recorder:
        loss = nn.MSELoss()(model(x), target)
    loss.backward()
    grads = [to_numpy(linear.weight.grad) for linear in linears]
    with np.errstate(over="ignore", invalid="ignore"):
        grad_norms = np.array([np.linalg.norm(g) for g in grads])
        grad_mean_abs = np.array([np.abs(g).mean() for g in grads])
    return GradientFlowResult(
        depth=depth,
        activation=activation,
        init=init,
        residual=residual,
        norm=norm,
        grad_norms=grad_norms,
        grad_mean_abs=grad_mean_abs,
        activation_stats=list(recorder.stats().values()),
        activations=recorder.activations,
        loss=float(loss.item()),
    )


# ---------------------------------------------------------------------------------------------
# 3. Glorot and Bengio (2010): standard vs normalized initialisation
# ---------------------------------------------------------------------------------------------


@dataclass
class GlorotBengioResult:
    r"""Std of the back-propagated gradients :math:`\partial L/\partial z^{(l)}` per layer."""

    init: str
    grad_std: np.ndarray
    activation_std: np.ndarray

    @property
    def ratio(self) -> float:
        """Std at layer 1 over std at the last layer (about 0.08 standard, 0.41 normalized)."""
        return float(self.grad_std[0] / self.grad_std[-1])

    def plot(self, ax: Any = None) -> Any:
        ax = axes_or_new(ax)
        layers = np.arange(1, len(self.grad_std) + 1)
        label = f"{self.init} init (first/last {self.ratio:.2f})"
        ax.plot(layers, self.grad_std / self.grad_std[-1], "o-", label=label)
        ax.set_xlabel("layer $l$")
        ax.set_ylabel(r"std of $\partial L/\partial z^{(l)}$ relative to the last layer")
        ax.set_title(f"Back-propagated gradients, {len(layers)} tanh layers")
        ax.legend()
        return ax


def glorot_bengio(
    init: str = "standard", depth: int = 5, width: int = 1000, batch: int = 256, seed: int = 0
) -> GlorotBengioResult:
    r"""Glorot and Bengio's (2010) measurement: tanh layers, two initialisations.

    ``standard``: :math:`W \sim U[-1/\sqrt n, 1/\sqrt n]`, so :math:`n\,\mathrm{Var}(W) = 1/3`
    and each layer shrinks the back-propagated variance by about 3. ``normalized``:
    :math:`W \sim U[\pm\sqrt{6/(n_{in}+n_{out})}]`, so :math:`n\,\mathrm{Var}(W) = 1` and only
    :math:`\tanh'` shrinks it. Inputs :math:`x \sim \mathcal N(0, 1)`, biases 0, a 10-class
    softmax head and cross-entropy on random labels. The gradient std at layer 1 over the last
    layer is about 0.08 (standard) against about 0.41 (normalized).

    Example:
        >>> 0.05 < glorot_bengio("standard").ratio < 0.12
        True
    """
    if init not in ("standard", "normalized"):
        raise ValueError(f"init must be 'standard' or 'normalized', got {init!r}")
    ad.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    for layer in layers:
        if init == "standard":
            bound = 1.0 / math.sqrt(width)
            nn.init.uniform_(layer.weight, -bound, bound)
        else:
            nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
    head = nn.Linear(width, 10)
    x = ad.randn(batch, width)
    labels = ad.tensor(np.random.default_rng(seed).integers(0, 10, batch))
    pre_activations, activation_std = [], []
    a = x
    for layer in layers:
        z = layer(a)
        z.retain_grad()
        pre_activations.append(z)
        a = z.tanh()
        activation_std.append(float(to_numpy(a).std()))
    nn.CrossEntropyLoss()(head(a), labels).backward()
    grad_std = np.array([to_numpy(z.grad).std() for z in pre_activations])
    return GlorotBengioResult(init, grad_std, np.array(activation_std))


# ---------------------------------------------------------------------------------------------
# 4. He et al. (2015): Var(w) = 1/n against 2/n in a deep ReLU network
# ---------------------------------------------------------------------------------------------


@dataclass
class HeInitResult:
    r"""Std of the ReLU activations :math:`a^{(l)}` after every layer, layer 1 first."""

    init: str
    activation_std: np.ndarray

    @property
    def output_std(self) -> float:
        """Std of the last layer's output (about 3e-5 for ``1/n``, about 0.8 for ``2/n``)."""
        return float(self.activation_std[-1])

    def plot(self, ax: Any = None) -> Any:
        ax = axes_or_new(ax)
        layers = np.arange(1, len(self.activation_std) + 1)
        label = r"$\mathrm{Var}(w) = 1/n$" if self.init == "var_1_over_n" else r"$2/n$"
        ax.semilogy(layers, self.activation_std, "o-", markersize=3, label=label)
        ax.set_xlabel("layer $l$")
        ax.set_ylabel("std of the activations $a^{(l)}$")
        ax.set_title("Forward signal through ReLU layers")
        ax.legend()
        return ax


def he_init_depth(
    init: str = "var_2_over_n", depth: int = 30, width: int = 512, batch: int = 256, seed: int = 0
) -> HeInitResult:
    r"""He et al.'s (2015) argument, measured: ``depth`` ReLU layers, biases 0, input
    :math:`\mathcal N(0, 1)`.

    With :math:`w \sim \mathcal N(0, c/n)`, :math:`\mathrm{Var}(z^{(l)}) =
    \frac{c}{2}\,\mathrm{Var}(z^{(l-1)})` because ReLU keeps half of the second moment. For
    :math:`c = 1` the signal halves in variance per layer, so after 30 layers the output std is
    about :math:`(1/\sqrt 2)^{30} \approx 3\times10^{-5}`; for :math:`c = 2` it stays about 0.8.

    Example:
        >>> 0.4 < he_init_depth("var_2_over_n").output_std < 2.0
        True
    """
    variances = {"var_1_over_n": 1.0, "var_2_over_n": 2.0}
    if init not in variances:
        raise ValueError(f"init must be one of {', '.join(variances)}, got {init!r}")
    ad.manual_seed(seed)
    a = ad.randn(batch, width)
    activation_std = []
    with ad.no_grad():
        for _ in range(depth):
            layer = nn.Linear(width, width)
            nn.init.normal_(layer.weight, 0.0, math.sqrt(variances[init] / width))
            nn.init.zeros_(layer.bias)
            a = layer(a).relu()
            activation_std.append(float(to_numpy(a).std()))
    return HeInitResult(init, np.array(activation_std))


# ---------------------------------------------------------------------------------------------
# 5. Exploding gradients and gradient clipping
# ---------------------------------------------------------------------------------------------


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
    ad.manual_seed(seed)
    body, linears = hidden_blocks(depth, width, "relu", init="he")
    for linear in linears:
        linear.weight.data *= scale
    model = nn.Sequential(body, nn.Linear(width, 1))
    x, target = ad.randn(batch, width), ad.randn(batch, 1)
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
    with ad.no_grad(), np.errstate(over="ignore", invalid="ignore"):
        loss_after = float(loss_fn(model(x), target).item())
    return ExplodingResult(
        scale, clip, signal_norms, grad_norms, clipped, total_norm, float(loss.item()), loss_after
    )


# ---------------------------------------------------------------------------------------------
# 6. Training: the deck's DeepMLP, and residual against plain
# ---------------------------------------------------------------------------------------------


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
    ad.manual_seed(seed)
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
        ad.manual_seed(seed)
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


# ---------------------------------------------------------------------------------------------
# 7. Recurrent cells on a long dependency
# ---------------------------------------------------------------------------------------------

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
    steps = [ad.tensor(x_t, requires_grad=True) for x_t in x]
    nn.CrossEntropyLoss()(model(steps), ad.tensor(labels)).backward()
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
    ad.manual_seed(seed)
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
    with ad.no_grad():
        scores = to_numpy(model(ad.tensor(x_eval)))
    accuracy = float(np.mean(scores.argmax(axis=1) == labels_eval))
    return RecurrentResult(cell, seq_len, history, accuracy, input_grad_norms)
