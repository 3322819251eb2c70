r"""The lab of lessons 08 and 09: see how gradients and activations flow through a network.

- :mod:`.statistics`: gradient and activation statistics (``gradient_stats``,
  ``activation_stats``, ``gradient_norms``);
- :mod:`.recorders`: :class:`ActivationRecorder`, forward hooks that record each layer;
- :mod:`.training`: :func:`train`, a minibatch loop that records a :class:`History`;
- :mod:`.plots`: the lessons' plots, into a given axes or a new one;
- :mod:`.experiments`: the experiments, one module per family (import it on its own);
- :mod:`.widgets`: the gradient-flow explorer (ipywidgets; import it on its own).

This package's namespace holds the first four modules' names. They only use the PyTorch-named
interface (``named_parameters``, ``named_modules``, ``register_forward_hook``, ``.grad``), so
they work on ``autodiff_lib.nn`` models and on PyTorch models alike.

Example:
    >>> from autodiff_lib import nn, tensor
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 1))
    >>> with ActivationRecorder(model) as recorder:
    ...     loss = model(tensor([[1.0, 2.0, 3.0, 4.0]])).sum()
    >>> loss.backward()
    >>> sorted(gradient_stats(model.named_parameters()))
    ['0.weight', '2.weight']
"""

import importlib
from types import ModuleType

from autodiff_lib.lab import plots, recorders, statistics, training
from autodiff_lib.lab.plots import *  # noqa: F403
from autodiff_lib.lab.recorders import *  # noqa: F403
from autodiff_lib.lab.statistics import *  # noqa: F403
from autodiff_lib.lab.training import *  # noqa: F403

__all__ = [*statistics.__all__, *recorders.__all__, *training.__all__, *plots.__all__]


def __getattr__(name: str) -> ModuleType:
    """``autodiff_lib.lab.experiments`` and ``autodiff_lib.lab.widgets``, imported on first use."""
    if name in ("experiments", "widgets"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
