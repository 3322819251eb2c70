r"""The :class:`Tensor` and the :class:`Node` that records how a computed tensor was made.

A :class:`Tensor` wraps a numpy array (``.data``). Every operation on tensors that require
gradients records a :class:`Node` in the result's ``.grad_fn``: the operation's name, its
inputs and its *vector-Jacobian product* (VJP), the local derivative applied to an incoming
gradient. This module holds the data structure only; the operations are defined in
:mod:`autodiff_lib.tensors.ops` through the op-definition API of
:mod:`autodiff_lib.tensors.function`, the backward pass in :mod:`autodiff_lib.tensors.graph`.
Both attach their methods (``x.exp()``, ``loss.backward()``) with :func:`tensor_method`.

Conventions shared with PyTorch: float32 by default (float64 on request), gradients accumulate
into ``.grad`` of leaf tensors until zeroed, in-place updates of a leaf that requires grad are
refused outside :func:`~autodiff_lib.no_grad`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np

from autodiff_lib.tensors.state import generator, is_grad_enabled

# what the top-level namespace shows; tensor_method, numpy_index and the type aliases are for
# the engine's own modules (the op-definition API re-exports them: see .function)
__all__ = [
    "Tensor",
    "Node",
    "from_numpy",
    "float32",
    "float64",
    "int64",
    "long",
]

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
long = int64

DEFAULT_DTYPE = float32

Array = np.ndarray
VJP = Callable[[Array], tuple[Array | None, ...]]
F = TypeVar("F", bound=Callable[..., Any])


class Node:
    """How a non-leaf tensor was made: the op's name, where its inputs' gradients go, its VJP.

    ``inputs`` has one entry per input of the op: the input's own ``Node`` if it was computed,
    the input tensor itself if it is a leaf that requires grad, ``None`` if it needs no
    gradient. The graph links nodes, not tensors (as PyTorch's ``grad_fn`` graph does), so an
    intermediate result's array is freed as soon as no VJP needs it.

    ``vjp(grad_out)`` returns one gradient per input (``None`` for inputs that need none).
    After a backward pass without ``retain_graph`` the VJP is released (its saved arrays
    freed) and a second backward through this node raises, as in PyTorch.
    """

    __slots__ = ("op", "inputs", "vjp", "hooks", "retained")

    def __init__(self, op: str, inputs: tuple[Node | Tensor | None, ...], vjp: VJP) -> None:
        self.op = op
        self.inputs = inputs
        self.vjp: VJP | None = vjp
        self.hooks: list[Callable[[Tensor], Tensor | None]] | None = None  # the output's hooks
        self.retained: weakref.ref[Tensor] | None = None  # the output, after retain_grad()

    def name(self) -> str:
        """PyTorch-style name, e.g. ``'MulBackward'``."""
        return f"{self.op}Backward"

    @property
    def next_functions(self) -> tuple[tuple[Node | None, int], ...]:
        """The inputs' nodes (``None`` for leaves), like PyTorch's ``grad_fn.next_functions``."""
        return tuple((edge if isinstance(edge, Node) else None, 0) for edge in self.inputs)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


def _default_array(data: Any, dtype: Any = None) -> Array:
    """Convert ``data`` to an array: Python floats give float32, ints int64; numpy keeps dtype."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=np.dtype(dtype))
    if isinstance(data, np.ndarray | np.generic):
        return np.array(data)
    array = np.array(data)
    if array.dtype.kind == "f":
        return array.astype(DEFAULT_DTYPE)
    if array.dtype.kind in "iu":
        return array.astype(int64)
    if array.dtype.kind == "b":
        return array
    raise TypeError(f"cannot make a tensor from {type(data).__name__} data (dtype {array.dtype})")


def _check_float(array: Array, what: str) -> None:
    if array.dtype.kind != "f":
        raise RuntimeError(
            f"only tensors of floating point dtype can require gradients ({what} has {array.dtype})"
        )


class Tensor:
    """An n-dimensional array that records operations for reverse-mode differentiation.

    Attributes:
        data: the numpy array holding the values (float32 unless asked otherwise).
        grad: ``None`` or a Tensor of the same shape, :math:`\\partial L/\\partial \\text{self}`,
            filled by :meth:`backward` for leaves (and for non-leaves after :meth:`retain_grad`).
        requires_grad: whether gradients flow to this tensor.
        grad_fn: the :class:`Node` that made this tensor, ``None`` for leaves.

    Example::

        >>> w = Tensor([[1.0, 2.0]], requires_grad=True)
        >>> (w * w).sum().backward()
        >>> w.grad
        tensor([[2., 4.]])
    """

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "_hooks", "__weakref__")
    # Let numpy hand ``ndarray + Tensor`` to ``Tensor.__radd__`` instead of looping over it.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data: Array = _default_array(data, dtype)
        if requires_grad:
            _check_float(self.data, "this tensor")
        self.grad: Tensor | None = None
        self.requires_grad: bool = requires_grad
        self.grad_fn: Node | None = None
        self._hooks: list[Callable[[Tensor], Tensor | None]] | None = None  # leaves only

    # ---- basic information -----------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user created (no ``grad_fn``); only leaves keep ``.grad``."""
        return self.grad_fn is None

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the length of one dimension."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.dtype not in (DEFAULT_DTYPE, int64, np.dtype(np.bool_)):
            extras.append(f"dtype=autodiff_lib.{self.dtype.name}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    __hash__ = object.__hash__

    # ---- conversion --------------------------------------------------------------------------

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"a Tensor with {self.data.size} elements cannot be converted to a Python scalar"
            )
        return self.data.item()

    def numpy(self) -> Array:
        """The underlying array (shared, not copied). Like PyTorch, refuses if it requires grad."""
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> Array:
        return self.data if dtype is None else self.data.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def detach(self) -> Tensor:
        """A new leaf sharing the same data, cut from the graph (no gradient flows through it)."""
        return from_numpy(self.data)

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def long(self) -> Tensor:
        return from_numpy(self.data.astype(int64))

    @property
    def T(self) -> Tensor:  # noqa: N802  (PyTorch's name)
        """All dimensions reversed (the matrix transpose for 2-D tensors)."""
        return self.permute(tuple(reversed(range(self.ndim))))

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Switch gradient tracking of a leaf on or off, in place; returns ``self``."""
        if not self.is_leaf:
            raise RuntimeError("requires_grad_ can only change leaf tensors")
        if requires_grad:
            _check_float(self.data, "this tensor")
        self.requires_grad = requires_grad
        return self

    # ---- in-place helpers (used by nn.init and the optimizers) -------------------------------

    def _check_inplace(self) -> None:
        if is_grad_enabled() and self.requires_grad:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation "
                "(wrap the update in `with autodiff_lib.no_grad():`)"
                if self.is_leaf
                else "in-place operations on tensors inside the graph are not supported"
            )

    def zero_(self) -> Tensor:
        """Set every element to 0 in place."""
        self._check_inplace()
        self.data[...] = 0
        return self

    def fill_(self, value: float) -> Tensor:
        """Set every element to ``value`` in place."""
        self._check_inplace()
        self.data[...] = value
        return self

    def copy_(self, source: Tensor | Array) -> Tensor:
        """Copy ``source`` (broadcast to this shape) into this tensor in place."""
        self._check_inplace()
        self.data[...] = source.data if isinstance(source, Tensor) else source
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """Fill in place with draws from :math:`U(a, b)` (global generator)."""
        self._check_inplace()
        self.data[...] = generator().uniform(a, b, size=self.shape)
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill in place with draws from :math:`\\mathcal N(\\text{mean}, \\text{std}^2)`."""
        self._check_inplace()
        self.data[...] = generator().normal(mean, std, size=self.shape)
        return self

    def add_(self, other: Tensor | float, alpha: float = 1.0) -> Tensor:
        """``self += alpha * other`` in place."""
        self._check_inplace()
        other_data = other.data if isinstance(other, Tensor) else other
        if alpha == 1:
            self.data += other_data
        else:
            self.data += alpha * other_data
        return self

    def mul_(self, other: Tensor | float) -> Tensor:
        """``self *= other`` in place."""
        self._check_inplace()
        self.data *= other.data if isinstance(other, Tensor) else other
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.add_(other, alpha=-1.0)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __setitem__(self, index: Any, value: Tensor | float | Array) -> None:
        """Assign in place (``x[0] = 1.0``); not recorded in the graph, like the ``*_`` methods."""
        self._check_inplace()
        self.data[numpy_index(index)] = value.data if isinstance(value, Tensor) else value

    # ---- hooks -------------------------------------------------------------------------------

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """Call ``hook(grad)`` when this tensor's gradient has been computed during backward.

        If the hook returns a tensor, it replaces the gradient that flows on. Returns a
        handle whose ``remove()`` unregisters the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:  # a computed tensor's hooks live on the node that made it
            if self.grad_fn.hooks is None:
                self.grad_fn.hooks = []
            hooks = self.grad_fn.hooks
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self.grad_fn.retained = weakref.ref(self)

    # ---- comparisons (no gradient; results are bool tensors) ---------------------------------

    def _compare(self, other: Any, op: Callable[[Array, Any], Array]) -> Tensor:
        return from_numpy(op(self.data, other.data if isinstance(other, Tensor) else other))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)


class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def from_numpy(array: Array, requires_grad: bool = False) -> Tensor:
    """A tensor around ``array`` itself: no copy, no dtype conversion (like ``torch.from_numpy``).

    How library code wraps an array it has just computed (a gradient, a comparison's result).
    """
    t = Tensor.__new__(Tensor)
    t.data = array
    t.grad = None
    t.requires_grad = requires_grad
    t.grad_fn = None
    t._hooks = None
    return t


def numpy_index(index: Any) -> Any:
    """An index for the underlying array: tensors inside it become their numpy arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def tensor_method(fn: F) -> F:
    """Attach ``fn`` to :class:`Tensor` as the method of the same name; return ``fn`` unchanged.

    Every built-in op is a function whose first argument is a tensor, decorated with this, so
    ``exp(x)`` and ``x.exp()`` run the same code (``__add__`` and the like become operators).
    """
    setattr(Tensor, fn.__name__, fn)
    return fn
