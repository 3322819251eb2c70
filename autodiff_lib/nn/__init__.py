"""Neural-network building blocks with ``torch.nn``'s names: ``import autodiff_lib.nn as nn``.

- :mod:`.module`: ``Module``, ``Parameter``, ``Sequential``, ``ModuleList``
- :mod:`.modules`: layers, activations, normalisation, recurrent cells, losses
- :mod:`.functional` (``nn.functional``, usually imported as ``F``), :mod:`.init`, :mod:`.utils`
"""

from autodiff_lib.nn import functional, init, utils
from autodiff_lib.nn.module import Module, ModuleList, Parameter, RemovableHandle, Sequential
from autodiff_lib.nn.modules import (
    ELU,
    GELU,
    SELU,
    BatchNorm1d,
    CrossEntropyLoss,
    Flatten,
    GRUCell,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LSTMCell,
    MSELoss,
    ReLU,
    Residual,
    RNNCell,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)

__all__ = [
    "functional",
    "init",
    "utils",
    "Module",
    "ModuleList",
    "Parameter",
    "RemovableHandle",
    "Sequential",
    "ELU",
    "GELU",
    "SELU",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Flatten",
    "GRUCell",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LSTMCell",
    "MSELoss",
    "ReLU",
    "Residual",
    "RNNCell",
    "Sigmoid",
    "SiLU",
    "Softmax",
    "Tanh",
]
