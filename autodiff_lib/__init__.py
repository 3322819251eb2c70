"""autodiff_lib: the course's reference library for automatic differentiation.

Scalar side (lessons 01-06):

- :mod:`autodiff_lib.numerical`  finite differences, the complex step, gradient checking
- :mod:`autodiff_lib.symbolic`   a small computer-algebra core and expression swell
- :mod:`autodiff_lib.forward`    dual numbers and forward-mode Jacobians
- :class:`autodiff_lib.Value`    the scalar reverse-mode engine (micrograd-compatible)
- :mod:`autodiff_lib.nn_scalar`  ``Neuron``, ``Layer``, ``MLP`` built from ``Value``

Tensor side (lessons 07-09), named like PyTorch so that code transfers name for name:

- :class:`autodiff_lib.Tensor`, ``tensor``, ``zeros``, ``ones``, ``randn``, ``manual_seed``,
  ``no_grad``, ``cat``
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
    "tensor",
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
    "Tensor": "tensor",
    "tensor": "tensor",
    "zeros": "tensor",
    "ones": "tensor",
    "randn": "tensor",
    "manual_seed": "tensor",
    "no_grad": "tensor",
    "cat": "tensor",
    "float32": "tensor",
    "float64": "tensor",
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
