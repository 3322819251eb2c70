"""The tensor side of the course (lesson 07): a reverse-mode engine over numpy arrays.

Named like PyTorch (``import autodiff_lib as torch`` runs the deck's code). Its modules, in the
order they build on each other:

- :mod:`.state`: graph recording on or off (:func:`no_grad`) and the random generator;
- :mod:`.tensor_type`: :class:`Tensor` and the :class:`Node` that records how it was made;
- :mod:`.graph`: the backward pass (``Tensor.backward``);
- :mod:`.function`: **the public way to define an op** (:func:`~.function.record`, with
  :func:`~.function.tensor_method`), which every built-in op uses;
- :mod:`.ops`: the built-in ops; :mod:`.creation`: ``tensor``, ``zeros``, ``randn`` ...;
- :mod:`.gradient_check`: :func:`gradcheck`, the backward pass against finite differences.
"""

from autodiff_lib.tensors import (
    creation,
    gradient_check,
    graph,  # noqa: F401  (attaches Tensor.backward)
    ops,
    state,
    tensor_type,
)
from autodiff_lib.tensors.creation import *  # noqa: F403
from autodiff_lib.tensors.gradient_check import *  # noqa: F403
from autodiff_lib.tensors.ops import *  # noqa: F403
from autodiff_lib.tensors.state import *  # noqa: F403
from autodiff_lib.tensors.tensor_type import *  # noqa: F403

__all__ = [
    *tensor_type.__all__,
    *state.__all__,
    *creation.__all__,
    *ops.__all__,
    *gradient_check.__all__,
]
