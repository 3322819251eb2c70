"""The scalar side of the course (lessons 01-06), one module per lesson's idea:

- :mod:`.numerical` (lesson 01): finite differences, the complex step, :func:`gradcheck`;
- :mod:`.symbolic` (lesson 02): a small computer-algebra core and expression swell;
- :mod:`.forward` (lesson 03): dual numbers and forward-mode Jacobians;
- :mod:`.viz` (lesson 04): :func:`draw_graph`, the computational graph as a picture;
- :mod:`.value` (lesson 05): :class:`Value`, the scalar reverse-mode engine (micrograd's API);
- :mod:`.nn` (lesson 06): ``Neuron``, ``Layer``, ``MLP`` built from ``Value``.
"""

import importlib
from types import ModuleType

from autodiff_lib.scalar.value import Value
from autodiff_lib.scalar.viz import draw_graph

__all__ = ["Value", "draw_graph"]

_SUBMODULES = ("numerical", "symbolic", "forward", "viz", "value", "nn")


def __getattr__(name: str) -> ModuleType:
    """``autodiff_lib.scalar.nn`` and the other lessons' modules, imported on first use."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
