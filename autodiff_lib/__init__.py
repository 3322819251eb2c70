"""autodiff_lib: the course's reference library for automatic differentiation.

Its packages follow the course:

- :mod:`autodiff_lib.scalar` (lessons 01-06): ``numerical``, ``symbolic``, ``forward``, ``viz``,
  ``value`` (:class:`Value`, micrograd-compatible) and ``nn`` (``Neuron``, ``Layer``, ``MLP``);
- :mod:`autodiff_lib.tensors` (lesson 07): :class:`Tensor` and PyTorch's names for making and
  combining tensors (``tensor``, ``zeros``, ``randn``, ``no_grad``, ``cat``, ``exp`` ...), with
  :mod:`autodiff_lib.nn`, :mod:`autodiff_lib.optim` and :mod:`autodiff_lib.data` beside it;
- :mod:`autodiff_lib.lab` (lessons 08-09): statistics, recorders, training, plots, widgets and
  the experiments;
- :mod:`autodiff_lib.core`: what both engines share (the backward order, edge-case rules);
- :mod:`autodiff_lib.style`: the course's figure style (``use_course_style()``: colour-blind-safe
  colours, each with its own line style).

The names here are those of ``scalar.__all__`` and ``tensors.__all__``, so
``import autodiff_lib as torch`` runs code written for ``torch``. ``nn``, ``optim``, ``data``
and ``lab`` are imported on first use, so the plotting and widget modules (matplotlib,
ipywidgets) load only when asked for. The flat modules of the 2025-26 course (``engine``,
``tensor_engine``, ``experiments``, ...) still import, with a DeprecationWarning naming the new
place, until the 2027-28 course year.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from autodiff_lib import core, scalar, tensors
from autodiff_lib.scalar import *  # noqa: F403
from autodiff_lib.tensors import *  # noqa: F403

__version__ = "0.1.0"

_LAZY_SUBPACKAGES = ("nn", "optim", "data", "lab")

# the 2025-26 flat modules, kept as deprecated aliases (see autodiff_lib.deprecation)
MOVED_MODULES = {
    "numerical": "autodiff_lib.scalar.numerical",
    "symbolic": "autodiff_lib.scalar.symbolic",
    "forward": "autodiff_lib.scalar.forward",
    "engine": "autodiff_lib.scalar.value",
    "viz": "autodiff_lib.scalar.viz",
    "nn_scalar": "autodiff_lib.scalar.nn",
    "tensor_engine": "autodiff_lib.tensors",
    "diagnostics": "autodiff_lib.lab",
    "experiments": "autodiff_lib.lab.experiments",
    "widgets": "autodiff_lib.lab.widgets",
}

__all__ = [
    *scalar.__all__,
    *tensors.__all__,
    "core",
    "scalar",
    "tensors",
    *_LAZY_SUBPACKAGES,
]


def __getattr__(name: str) -> ModuleType:
    if name in _LAZY_SUBPACKAGES or name in MOVED_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'autodiff_lib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
