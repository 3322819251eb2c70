"""autodiff_lib: the course's reference library for automatic differentiation.

Scalar side (lessons 01-06):

- :mod:`autodiff_lib.numerical`  finite differences, the complex step, gradient checking
- :mod:`autodiff_lib.symbolic`   a small computer-algebra core and expression swell
- :mod:`autodiff_lib.forward`    dual numbers and forward-mode Jacobians
- :class:`autodiff_lib.Value`    the scalar reverse-mode engine (micrograd-compatible)
- :mod:`autodiff_lib.nn_scalar`  ``Neuron``, ``Layer``, ``MLP`` built from ``Value``

Tensor side (lessons 07-09), named like PyTorch so that code transfers name for name:

- :class:`autodiff_lib.Tensor` (module :mod:`autodiff_lib.tensor_engine`), ``tensor``, ``zeros``,
  ``ones``, ``randn``, ``manual_seed``, ``no_grad``, ``cat``, ``stack``, ``exp``, ``sigmoid``, ...
  (the PyTorch names that code written for ``torch`` uses)
- :mod:`autodiff_lib.nn`, :mod:`autodiff_lib.optim`, :mod:`autodiff_lib.data`
- :mod:`autodiff_lib.diagnostics`, :mod:`autodiff_lib.experiments`, :mod:`autodiff_lib.widgets`

Names are loaded on first use, so ``import autodiff_lib`` stays cheap and the plotting and
widget modules (matplotlib, ipywidgets) are imported only when asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = {
    "numerical",
    "symbolic",
    "forward",
    "engine",
    "viz",
    "nn_scalar",
    "tensor_engine",
    "nn",
    "optim",
    "data",
    "diagnostics",
    "experiments",
    "widgets",
}

# public name -> module that defines it
_NAMES = {
    "Value": "engine",
    "draw_graph": "viz",
    "Tensor": "tensor_engine",
    "tensor": "tensor_engine",
    "zeros": "tensor_engine",
    "ones": "tensor_engine",
    "randn": "tensor_engine",
    "rand": "tensor_engine",
    "arange": "tensor_engine",
    "zeros_like": "tensor_engine",
    "ones_like": "tensor_engine",
    "randn_like": "tensor_engine",
    "manual_seed": "tensor_engine",
    "no_grad": "tensor_engine",
    "enable_grad": "tensor_engine",
    "set_grad_enabled": "tensor_engine",
    "is_grad_enabled": "tensor_engine",
    "cat": "tensor_engine",
    "stack": "tensor_engine",
    "matmul": "tensor_engine",
    "exp": "tensor_engine",
    "log": "tensor_engine",
    "tanh": "tensor_engine",
    "sigmoid": "tensor_engine",
    "relu": "tensor_engine",
    "sqrt": "tensor_engine",
    "abs": "tensor_engine",
    "float32": "tensor_engine",
    "float64": "tensor_engine",
    "int64": "tensor_engine",
    "long": "tensor_engine",
    "gradcheck": "tensor_engine",
}

__all__ = sorted(_SUBMODULES | set(_NAMES))


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _NAMES:
        module = importlib.import_module(f"{__name__}.{_NAMES[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'autodiff_lib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
