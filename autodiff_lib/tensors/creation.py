"""Making tensors: from data (:func:`tensor`), filled (:func:`zeros`, :func:`ones`), random.

Random tensors draw from the one global generator of :mod:`.state` (see :func:`manual_seed`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autodiff_lib.tensors.function import shape_argument
from autodiff_lib.tensors.state import generator
from autodiff_lib.tensors.tensor_type import DEFAULT_DTYPE, Tensor, int64

__all__ = [
    "tensor",
    "zeros",
    "ones",
    "zeros_like",
    "ones_like",
    "randn",
    "rand",
    "randn_like",
    "arange",
]


def _as_dtype(dtype: Any) -> np.dtype | None:
    return None if dtype is None else np.dtype(dtype)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (floats become float32 unless ``dtype``).

    Example: ``tensor([[1.0, 2.0]], requires_grad=True)``.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _filled(shape: tuple[Any, ...], value: float, dtype: Any, requires_grad: bool) -> Tensor:
    array = np.full(shape_argument(shape), value, dtype=_as_dtype(dtype) or DEFAULT_DTYPE)
    return Tensor(array, requires_grad=requires_grad)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _filled(shape, 0.0, dtype, requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _filled(shape, 1.0, dtype, requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal draws from the global generator (see :func:`manual_seed`)."""
    dtype = _as_dtype(dtype) or DEFAULT_DTYPE
    array = generator().standard_normal(shape_argument(shape)).astype(dtype)
    return Tensor(array, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform draws from :math:`[0, 1)` from the global generator."""
    dtype = _as_dtype(dtype) or DEFAULT_DTYPE
    array = generator().random(shape_argument(shape)).astype(dtype)
    return Tensor(array, requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """``start, start + step, ...`` below ``end`` (integers give int64, floats float32)."""
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None:
        dtype = DEFAULT_DTYPE if values.dtype.kind == "f" else int64
    return Tensor(values, dtype=dtype)
