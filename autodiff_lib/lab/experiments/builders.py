r"""The experiments' building blocks: activations, initialisations and norms by name,
and the configurable stack of hidden blocks every experiment measures.

The names here are the settings the widgets offer and the tests sweep over.
"""

from __future__ import annotations

import math

import numpy as np

from autodiff_lib import nn

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "INIT_ALIASES",
    "NORMS",
    "make_activation",
    "canonical_init",
    "init_linear_",
    "make_norm",
    "hidden_blocks",
    "finite_ratio",
]


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


def finite_ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, or nan where the denominator is 0, inf or nan."""
    return numerator / denominator if denominator > 0 and np.isfinite(denominator) else math.nan
