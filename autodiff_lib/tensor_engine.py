r"""A reverse-mode automatic differentiation engine over numpy arrays, named like PyTorch.

A :class:`Tensor` wraps a numpy array (``.data``). Every operation on tensors that require
gradients records a :class:`Node` in ``.grad_fn``: the operation's name, its input tensors and
its *vector-Jacobian product* (VJP). Calling ``loss.backward()`` walks the recorded graph from
the output back to the leaves in reverse topological order and applies the chain rule

.. math::
    \bar{x} = \sum_{y \text{ uses } x} \bar{y}\,\frac{\partial y}{\partial x},
    \qquad \bar{v} := \frac{\partial L}{\partial v},

where each term :math:`\bar{y}\,\partial y/\partial x` is exactly what an operation's VJP
computes. The VJP of every operation is written right next to its forward rule.

Example::

    >>> import autodiff_lib as torch
    >>> x = torch.tensor(2.0, requires_grad=True)
    >>> y = torch.tensor(3.0, requires_grad=True)
    >>> f = (x + y) * (x * y)
    >>> f.backward()
    >>> x.grad.item(), y.grad.item()
    (21.0, 16.0)

Conventions shared with PyTorch: float32 by default (float64 on request), full numpy
broadcasting (the gradient of a broadcast input is summed back over the broadcast axes),
gradients accumulate into ``.grad`` of leaf tensors until zeroed, and a graph can be walked
backward only once unless ``retain_graph=True``.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "Tensor",
    "Node",
    "tensor",
    "zeros",
    "ones",
    "zeros_like",
    "ones_like",
    "randn",
    "rand",
    "randn_like",
    "arange",
    "manual_seed",
    "gradcheck",
    "GradcheckError",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "cat",
    "stack",
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "relu",
    "sqrt",
    "abs",
    "matmul",
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

# --------------------------------------------------------------------------------------------
# Global state: gradient recording and the random generator
# --------------------------------------------------------------------------------------------

_grad_enabled = True
_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the one random generator used by :func:`randn`, :func:`rand` and ``nn.init``.

    Example: ``manual_seed(0); a = randn(3); manual_seed(0); assert (randn(3) == a).all()``.
    """
    global _generator
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The global numpy ``Generator`` (reseeded by :func:`manual_seed`)."""
    return _generator


def is_grad_enabled() -> bool:
    """Whether new operations are recorded for ``backward`` (False inside :func:`no_grad`)."""
    return _grad_enabled


@contextmanager
def set_grad_enabled(mode: bool) -> Iterator[None]:
    """Context manager that switches graph recording on or off, restoring it on exit."""
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = mode
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad() -> Any:
    """Context manager: operations inside build no graph (evaluation, parameter updates).

    Example::

        with no_grad():
            w -= 0.1 * w.grad     # an update that must not itself be differentiated
    """
    return set_grad_enabled(False)


def enable_grad() -> Any:
    """Context manager: record operations again inside a :func:`no_grad` block."""
    return set_grad_enabled(True)


# --------------------------------------------------------------------------------------------
# The graph node
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _unbroadcast(grad: Array, shape: tuple[int, ...]) -> Array:
    """Sum ``grad`` over the axes numpy broadcasting added or stretched, to get ``shape``.

    If ``y = x + b`` broadcast ``b`` of shape ``(3,)`` to ``(N, 3)``, every row used ``b``,
    so :math:`\\bar b = \\sum_n \\bar y_n`.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    stretched = tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    return grad.sum(axis=tuple(range(extra)) + stretched).reshape(shape)


def _normalize_dims(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """Turn ``dim`` (int, tuple, negative or ``None`` for all) into sorted non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"dim {d} out of range for a tensor with {ndim} dimensions")
        out.append(d % max(ndim, 1))
    return tuple(sorted(out))


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike, as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], list | tuple):
        return tuple(shape[0])
    return tuple(shape)


def _as_dtype(dtype: Any) -> np.dtype | None:
    return None if dtype is None else np.dtype(dtype)


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


def _new(data: Array, requires_grad: bool = False) -> Tensor:
    """A tensor around ``data`` without a copy or checks (for internal use)."""
    t = Tensor.__new__(Tensor)
    t.data = data
    t.grad = None
    t.requires_grad = requires_grad
    t.grad_fn = None
    t._hooks = None
    return t


def _from_op(data: Array, inputs: tuple[Tensor, ...], vjp: VJP, op: str) -> Tensor:
    """The result of an operation: records a :class:`Node` if any input requires a gradient.

    This is the single place where the graph is built; every op calls it with its forward
    result and its VJP. Inside :func:`no_grad` nothing is recorded.
    """
    if type(data) is not np.ndarray:  # numpy returns scalars for 0-d results
        data = np.asarray(data)
    out = _new(data)
    if _grad_enabled:
        for t in inputs:
            if t.requires_grad:
                edges = tuple([i.grad_fn or (i if i.requires_grad else None) for i in inputs])
                out.requires_grad = True
                out.grad_fn = Node(op, edges, vjp)
                break
    return out


@functools.cache
def _exp_limit(dtype: np.dtype) -> float:
    """An exponent whose ``exp`` is finite in ``dtype`` (87.7 for float32, 708.8 for float64)."""
    return float(np.log(np.finfo(dtype).max)) - 1.0


def _check_float(array: Array, what: str) -> None:
    if array.dtype.kind != "f":
        raise RuntimeError(
            f"only tensors of floating point dtype can require gradients ({what} has {array.dtype})"
        )


# --------------------------------------------------------------------------------------------
# Tensor
# --------------------------------------------------------------------------------------------


class MaxResult(NamedTuple):
    """``(values, indices)`` as returned by ``Tensor.max(dim)``, like ``torch.return_types.max``."""

    values: Tensor
    indices: Tensor


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
        return _new(self.data)

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph (gradient flows back unchanged)."""
        return _from_op(self.data.copy(), (self,), lambda g: (g,), "Clone")

    def to(self, dtype: Any) -> Tensor:
        """Convert to ``dtype`` (differentiable: the gradient is converted back)."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        source = self.dtype
        return _from_op(self.data.astype(dtype), (self,), lambda g: (g.astype(source),), "ToCopy")

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def long(self) -> Tensor:
        return _new(self.data.astype(int64))

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
        if _grad_enabled and self.requires_grad:
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
        self.data[...] = _generator.uniform(a, b, size=self.shape)
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill in place with draws from :math:`\\mathcal N(\\text{mean}, \\text{std}^2)`."""
        self._check_inplace()
        self.data[...] = _generator.normal(mean, std, size=self.shape)
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

    # ---- backward ----------------------------------------------------------------------------

    def backward(self, gradient: Tensor | Array | None = None, retain_graph: bool = False) -> None:
        r"""Accumulate :math:`\partial\,\text{self}/\partial\,\text{leaf}` into leaves' ``.grad``.

        Args:
            gradient: :math:`\bar y`, same shape as ``self``; may be omitted only when ``self``
                has one element (then it is 1).
            retain_graph: keep the graph so that ``backward`` can be called on it again.

        The walk is iterative (no recursion limit, so graphs thousands of ops deep work).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            seed = np.ones_like(self.data)
        else:
            seed = np.array(
                gradient.data if isinstance(gradient, Tensor) else gradient, dtype=self.dtype
            )
            if seed.shape != self.shape:
                raise RuntimeError(
                    f"gradient has shape {seed.shape} but the output has shape {self.shape}"
                )
        _run_backward(self, seed, retain_graph)

    # ---- element-wise arithmetic -------------------------------------------------------------

    def _coerce(self, other: Any) -> Tensor:
        """Wrap a number or array as a constant tensor; Python numbers take this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, int | float) and not isinstance(other, bool):
            kind = self.dtype.kind
            dtype = self.dtype if kind == "f" or isinstance(other, int) else DEFAULT_DTYPE
            return _new(np.asarray(other, dtype=dtype))
        return _new(np.asarray(other))

    def __add__(self, other: Any) -> Tensor:
        """:math:`a + b`; local derivatives 1 and 1."""
        other = self._coerce(other)
        a_shape, b_shape = self.shape, other.shape

        def vjp(g: Array) -> tuple[Array, Array]:
            return _unbroadcast(g, a_shape), _unbroadcast(g, b_shape)

        return _from_op(self.data + other.data, (self, other), vjp, "Add")

    def __radd__(self, other: Any) -> Tensor:
        return self._coerce(other) + self

    def __sub__(self, other: Any) -> Tensor:
        """:math:`a - b`; local derivatives 1 and -1."""
        other = self._coerce(other)
        a_shape, b_shape = self.shape, other.shape
        need_b = other.requires_grad

        def vjp(g: Array) -> tuple[Array, Array | None]:
            return _unbroadcast(g, a_shape), _unbroadcast(-g, b_shape) if need_b else None

        return _from_op(self.data - other.data, (self, other), vjp, "Sub")

    def __rsub__(self, other: Any) -> Tensor:
        return self._coerce(other) - self

    def __neg__(self) -> Tensor:
        """:math:`-a`; local derivative -1."""
        return _from_op(-self.data, (self,), lambda g: (-g,), "Neg")

    def __mul__(self, other: Any) -> Tensor:
        """:math:`a b`; local derivatives :math:`b` and :math:`a`."""
        other = self._coerce(other)
        a, b = self.data, other.data
        need_a, need_b = self.requires_grad, other.requires_grad

        def vjp(g: Array) -> tuple[Array | None, Array | None]:
            return (
                _unbroadcast(g * b, a.shape) if need_a else None,
                _unbroadcast(g * a, b.shape) if need_b else None,
            )

        return _from_op(a * b, (self, other), vjp, "Mul")

    def __rmul__(self, other: Any) -> Tensor:
        return self._coerce(other) * self

    def __truediv__(self, other: Any) -> Tensor:
        """:math:`a / b`; local derivatives :math:`1/b` and :math:`-a/b^2`."""
        other = self._coerce(other)
        a, b = self.data, other.data
        if a.dtype.kind != "f" and b.dtype.kind != "f":
            a = a.astype(DEFAULT_DTYPE)
        need_a, need_b = self.requires_grad, other.requires_grad

        def vjp(g: Array) -> tuple[Array | None, Array | None]:
            return (
                _unbroadcast(g / b, a.shape) if need_a else None,
                _unbroadcast(-g * a / (b * b), b.shape) if need_b else None,
            )

        return _from_op(a / b, (self, other), vjp, "Div")

    def __rtruediv__(self, other: Any) -> Tensor:
        return self._coerce(other) / self

    def __pow__(self, exponent: Any) -> Tensor:
        r""":math:`a^p`; local derivatives :math:`p\,a^{p-1}` and :math:`a^p \ln a`."""
        if not isinstance(exponent, Tensor):
            p = exponent
            a = self.data
            return _from_op(a**p, (self,), lambda g: (g * p * a ** (p - 1),), "Pow")
        a, b = self.data, exponent.data
        out = a**b
        need_a, need_b = self.requires_grad, exponent.requires_grad

        def vjp(g: Array) -> tuple[Array | None, Array | None]:
            return (
                _unbroadcast(g * b * a ** (b - 1), a.shape) if need_a else None,
                _unbroadcast(g * out * np.log(a), b.shape) if need_b else None,
            )

        return _from_op(out, (self, exponent), vjp, "Pow")

    def __rpow__(self, base: Any) -> Tensor:
        return self._coerce(base) ** self

    def pow(self, exponent: Any) -> Tensor:
        """Same as ``self ** exponent``."""
        return self**exponent

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, self._coerce(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(self._coerce(other), self)

    def matmul(self, other: Any) -> Tensor:
        return matmul(self, self._coerce(other))

    # ---- comparisons (no gradient; results are bool tensors) ---------------------------------

    def _compare(self, other: Any, op: Callable[[Array, Any], Array]) -> Tensor:
        return _new(op(self.data, other.data if isinstance(other, Tensor) else other))

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

    # ---- element-wise functions --------------------------------------------------------------

    def exp(self) -> Tensor:
        r""":math:`e^a`; local derivative :math:`e^a` (the output itself)."""
        out = np.exp(self.data)
        return _from_op(out, (self,), lambda g: (g * out,), "Exp")

    def log(self) -> Tensor:
        r""":math:`\ln a`; local derivative :math:`1/a`."""
        a = self.data
        return _from_op(np.log(a), (self,), lambda g: (g / a,), "Log")

    def tanh(self) -> Tensor:
        r""":math:`\tanh a`; local derivative :math:`1 - \tanh^2 a`."""
        out = np.tanh(self.data)
        return _from_op(out, (self,), lambda g: (g * (1 - out * out),), "Tanh")

    def sigmoid(self) -> Tensor:
        r""":math:`\sigma(a) = 1/(1+e^{-a})`; local derivative :math:`\sigma(a)(1-\sigma(a))`."""
        a = self.data if self.dtype.kind == "f" else self.data.astype(DEFAULT_DTYPE)
        out = np.empty_like(a)  # computed in one buffer: e^{-a}, then 1 + e^{-a}, then 1 / it
        np.negative(a, out=out)
        # cap the exponent so that e^{-a} cannot overflow (numpy would warn): where the cap acts,
        # sigma(a) is below the smallest normal float either way
        np.minimum(out, _exp_limit(out.dtype), out=out)
        np.exp(out, out=out)
        out += 1
        np.divide(1, out, out=out)

        def vjp(g: Array) -> tuple[Array]:
            local = 1 - out  # sigma (1 - sigma), built in one buffer
            local *= out
            local *= g
            return (local,)

        return _from_op(out, (self,), vjp, "Sigmoid")

    def relu(self) -> Tensor:
        r""":math:`\max(a, 0)`; local derivative 1 where :math:`a > 0`, else 0."""
        out = np.maximum(self.data, 0)
        # out > 0 exactly where a > 0: the VJP keeps the output, so the input can be freed
        return _from_op(out, (self,), lambda g: (g * (out > 0),), "Relu")

    def abs(self) -> Tensor:
        r""":math:`|a|`; local derivative :math:`\operatorname{sign}(a)` (0 at 0)."""
        a = self.data
        return _from_op(np.abs(a), (self,), lambda g: (g * np.sign(a),), "Abs")

    def sqrt(self) -> Tensor:
        r""":math:`\sqrt a`; local derivative :math:`1/(2\sqrt a)`."""
        out = np.sqrt(self.data)
        return _from_op(out, (self,), lambda g: (g / (2 * out),), "Sqrt")

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        r"""Clip to :math:`[\min, \max]`; local derivative 1 inside (bounds included), 0 outside."""
        if min is None and max is None:
            raise ValueError("clamp needs at least one of min and max")
        a = self.data
        inside = np.ones(a.shape, dtype=bool)
        if min is not None:
            inside &= a >= min
        if max is not None:
            inside &= a <= max
        out = np.clip(a, min, max)
        return _from_op(out, (self,), lambda g: (g * inside,), "Clamp")

    clip = clamp

    # ---- reductions --------------------------------------------------------------------------

    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        r""":math:`\sum_i a_i` over ``dim`` (all by default); each input gets the output's grad."""
        axes = _normalize_dims(dim, self.ndim)
        shape = self.shape

        def vjp(g: Array) -> tuple[Array]:
            if not keepdim:
                g = np.expand_dims(g, axes)
            return (np.broadcast_to(g, shape),)

        return _from_op(self.data.sum(axis=axes, keepdims=keepdim), (self,), vjp, "Sum")

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        r""":math:`\frac1n\sum_i a_i` over ``dim``; each input gets the output's grad over n."""
        axes = _normalize_dims(dim, self.ndim)
        shape = self.shape
        count = math.prod(shape[d] for d in axes) if self.ndim else 1

        def vjp(g: Array) -> tuple[Array]:
            if not keepdim:
                g = np.expand_dims(g, axes)
            return (np.broadcast_to(g / count, shape),)

        return _from_op(self.data.mean(axis=axes, keepdims=keepdim), (self,), vjp, "Mean")

    def var(
        self,
        dim: int | Sequence[int] | None = None,
        unbiased: bool = True,
        keepdim: bool = False,
        correction: int | None = None,
    ) -> Tensor:
        r"""Variance :math:`\frac{1}{n-c}\sum_i (a_i-\bar a)^2` (``c = 1`` unbiased by default)."""
        axes = _normalize_dims(dim, self.ndim)
        count = math.prod(self.shape[d] for d in axes)
        c = (1 if unbiased else 0) if correction is None else correction
        centered = self - self.mean(dim=axes, keepdim=True)
        return (centered * centered).sum(dim=axes, keepdim=keepdim) / (count - c)

    def std(
        self,
        dim: int | Sequence[int] | None = None,
        unbiased: bool = True,
        keepdim: bool = False,
        correction: int | None = None,
    ) -> Tensor:
        """Standard deviation, the square root of :meth:`var`."""
        return self.var(dim, unbiased, keepdim, correction).sqrt()

    def _extremum(self, dim: int | None, keepdim: bool, pick: str) -> Tensor | MaxResult:
        a = self.data
        arg = np.argmax if pick == "max" else np.argmin
        if dim is None:
            out = a.max() if pick == "max" else a.min()

            def vjp_all(g: Array) -> tuple[Array]:
                # ties share the gradient equally, as in PyTorch's full reduction
                hits = a == out
                return (hits * (g / hits.sum()),)

            return _from_op(np.asarray(out), (self,), vjp_all, pick.capitalize())
        (axis,) = _normalize_dims(dim, self.ndim)
        index = np.expand_dims(arg(a, axis=axis), axis)
        values = np.take_along_axis(a, index, axis=axis)

        def vjp(g: Array) -> tuple[Array]:
            grad = np.zeros_like(a)
            np.put_along_axis(grad, index, g if keepdim else np.expand_dims(g, axis), axis=axis)
            return (grad,)

        if not keepdim:
            values = values.squeeze(axis)
        indices = index if keepdim else index.squeeze(axis)
        out_t = _from_op(values, (self,), vjp, pick.capitalize())
        return MaxResult(out_t, _new(indices.astype(int64)))

    def max(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """Largest element, or ``(values, indices)`` along ``dim``; gradient goes to the argmax."""
        return self._extremum(dim, keepdim, "max")

    def min(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """Smallest element, or ``(values, indices)`` along ``dim``; gradient goes to the argmin."""
        return self._extremum(dim, keepdim, "min")

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the largest element (flattened if ``dim`` is None); no gradient."""
        if dim is None:
            return _new(np.asarray(self.data.argmax(), dtype=int64))
        return _new(self.data.argmax(axis=dim, keepdims=keepdim).astype(int64))

    def norm(
        self, p: float = 2, dim: int | Sequence[int] | None = None, keepdim: bool = False
    ) -> Tensor:
        r"""The :math:`p`-norm :math:`(\sum_i |a_i|^p)^{1/p}` (2 by default) over ``dim``."""
        if p == 2 or p == "fro":
            return (self * self).sum(dim=dim, keepdim=keepdim).sqrt()
        if not (isinstance(p, int | float) and p > 0 and math.isfinite(p)):
            raise ValueError(f"norm supports finite p > 0, got {p!r}")
        return (self.abs() ** p).sum(dim=dim, keepdim=keepdim) ** (1.0 / p)

    # ---- shape -------------------------------------------------------------------------------

    def reshape(self, *shape: Any) -> Tensor:
        """Same data in a new shape (one entry may be -1); the gradient is reshaped back."""
        old = self.shape
        out = self.data.reshape(_shape_arg(shape))
        return _from_op(out, (self,), lambda g: (g.reshape(old),), "Reshape")

    def view(self, *shape: Any) -> Tensor:
        """Same as :meth:`reshape` (numpy decides whether the data is shared)."""
        return self.reshape(*shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions ``start_dim..end_dim`` into one."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_dim % self.ndim, end_dim % self.ndim
        shape = self.shape[:start] + (-1,) + self.shape[end + 1 :]
        return self.reshape(shape)

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a dimension of size 1 at ``dim``."""
        axis = dim % (self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def squeeze(self, dim: int | None = None) -> Tensor:
        """Remove dimensions of size 1 (only ``dim`` if given)."""
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axis = dim % max(self.ndim, 1)
        if self.ndim == 0 or self.shape[axis] != 1:
            return self
        return self.reshape(self.shape[:axis] + self.shape[axis + 1 :])

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions; the gradient is swapped back."""
        out = np.swapaxes(self.data, dim0, dim1)
        return _from_op(out, (self,), lambda g: (np.swapaxes(g, dim0, dim1),), "Transpose")

    def permute(self, *dims: Any) -> Tensor:
        """Reorder the dimensions; the gradient gets the inverse permutation."""
        order = _shape_arg(dims)
        inverse = tuple(np.argsort(order))
        out = np.transpose(self.data, order)
        return _from_op(out, (self,), lambda g: (np.transpose(g, inverse),), "Permute")

    @property
    def T(self) -> Tensor:  # noqa: N802  (PyTorch's name)
        """All dimensions reversed (the matrix transpose for 2-D tensors)."""
        return self.permute(tuple(reversed(range(self.ndim))))

    def __getitem__(self, index: Any) -> Tensor:
        """Indexing with ints, slices, ``None``, ``...``, boolean masks and integer arrays.

        The gradient is scattered back into a zero array; repeated integer indices add up.
        """
        index = _index_arg(index)
        a = self.data
        out = a[index]
        basic = _is_basic_index(index)

        def vjp(g: Array) -> tuple[Array]:
            grad = np.zeros_like(a)
            if basic:
                grad[index] = g
            else:
                np.add.at(grad, index, g)
            return (grad,)

        return _from_op(out, (self,), vjp, "Index")

    def __setitem__(self, index: Any, value: Tensor | float | Array) -> None:
        """Assign in place (``x[0] = 1.0``); not recorded in the graph, like the ``*_`` methods."""
        self._check_inplace()
        self.data[_index_arg(index)] = value.data if isinstance(value, Tensor) else value

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """Split into ``chunks`` equal pieces along ``dim`` (the last may be smaller)."""
        (axis,) = _normalize_dims(dim, self.ndim)
        size = -(-self.shape[axis] // chunks)
        pieces = []
        for start in range(0, self.shape[axis], size):
            index = [slice(None)] * self.ndim
            index[axis] = slice(start, start + size)
            pieces.append(self[tuple(index)])
        return tuple(pieces)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    # ---- aliases so that functions work as methods too ---------------------------------------

    def softmax(self, dim: int) -> Tensor:
        from autodiff_lib.nn import functional

        return functional.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        from autodiff_lib.nn import functional

        return functional.log_softmax(self, dim)


class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _index_arg(index: Any) -> Any:
    """Turn Tensors inside an index into numpy arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic_index(index: Any) -> bool:
    """True for ints, slices, None and ``...`` only: each element is picked at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, int | slice | np.integer) or i is None or i is Ellipsis for i in parts)


# --------------------------------------------------------------------------------------------
# The backward pass
# --------------------------------------------------------------------------------------------


def _topological_order(start: Node | Tensor) -> list[Node | Tensor]:
    """Nodes (and leaf tensors) reachable from ``start``, each after everything that uses it.

    An explicit stack replaces recursion, so chains of any depth work (micrograd's recursive
    sort stops near 1000).
    """
    order: list[Node | Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Node | Tensor, bool]] = [(start, False)]
    while stack:
        item, children_done = stack.pop()
        if children_done:
            order.append(item)
            continue
        if id(item) in visited:
            continue
        visited.add(id(item))
        stack.append((item, True))
        if isinstance(item, Node):
            for edge in item.inputs:
                if edge is not None and id(edge) not in visited:
                    stack.append((edge, False))
    order.reverse()
    return order


def _apply_hooks(hooks: list[Callable[[Tensor], Tensor | None]], g: Array) -> Array:
    """Show ``g`` to each hook; a hook that returns a tensor replaces the gradient."""
    for hook in list(hooks):
        replaced = hook(_new(g))
        if replaced is not None:
            g = replaced.data if isinstance(replaced, Tensor) else np.asarray(replaced)
    return g


def _run_backward(root: Tensor, seed: Array, retain_graph: bool) -> None:
    """Propagate ``seed`` from ``root`` through the graph, accumulating into leaves' ``.grad``."""
    start: Node | Tensor = root if root.grad_fn is None else root.grad_fn
    pending: dict[int, Array] = {id(start): seed}
    stored: set[int] = set()  # arrays already handed to a .grad (never share one array twice)
    with no_grad():
        for item in _topological_order(start):
            g = pending.pop(id(item), None)
            if g is None:
                continue
            if isinstance(item, Tensor):  # a leaf: its gradient is complete, keep it
                if item._hooks:
                    g = _apply_hooks(item._hooks, g)
                _accumulate(item, g, stored)
                continue
            if item.hooks:
                g = _apply_hooks(item.hooks, g)
            output = item.retained() if item.retained is not None else None
            if output is not None:
                _accumulate(output, g, stored)
            if item.vjp is None:
                raise RuntimeError(
                    "Trying to backward through the graph a second time; "
                    "specify retain_graph=True on the first backward call"
                )
            input_grads = item.vjp(g)
            if not retain_graph:
                item.vjp = None
            for edge, pg in zip(item.inputs, input_grads, strict=True):
                if pg is None or edge is None:
                    continue
                key = id(edge)
                previous = pending.get(key)
                pending[key] = pg if previous is None else previous + pg


def _accumulate(node: Tensor, g: Array, stored: set[int]) -> None:
    """``node.grad += g`` in place, or store ``g`` (copied only if it may be shared)."""
    if type(g) is not np.ndarray or g.dtype != node.dtype:
        g = np.asarray(g, dtype=node.dtype)
    if node.grad is not None:
        np.add(node.grad.data, g, out=node.grad.data)
        return
    shared = g.base is not None or id(g) in stored  # a view, or already some leaf's .grad
    if shared or g.shape != node.shape:
        g = np.array(np.broadcast_to(g, node.shape))
    stored.add(id(g))
    node.grad = _new(g)


# --------------------------------------------------------------------------------------------
# Functions of several tensors
# --------------------------------------------------------------------------------------------


def matmul(a: Tensor, b: Tensor) -> Tensor:
    r"""Matrix product :math:`C = AB` (numpy's ``@`` rules: 1-D, 2-D and batched).

    VJPs: :math:`\bar A = \bar C B^\top`, :math:`\bar B = A^\top \bar C` (summed over broadcast
    batch dimensions).
    """
    A, B = a.data, b.data
    out = A @ B
    need_a, need_b = a.requires_grad, b.requires_grad
    if A.ndim == 2 and B.ndim == 2:

        def vjp2(g: Array) -> tuple[Array | None, Array | None]:
            return (g @ B.T if need_a else None, A.T @ g if need_b else None)

        return _from_op(out, (a, b), vjp2, "Mm")

    A2 = A.reshape(1, -1) if A.ndim == 1 else A
    B2 = B.reshape(-1, 1) if B.ndim == 1 else B
    out_shape = np.broadcast_shapes(A2.shape[:-2], B2.shape[:-2]) + (A2.shape[-2], B2.shape[-1])

    def vjp(g: Array) -> tuple[Array | None, Array | None]:
        g2 = g.reshape(out_shape)
        ga = gb = None
        if need_a:
            ga = _unbroadcast(g2 @ np.swapaxes(B2, -1, -2), A2.shape).reshape(A.shape)
        if need_b:
            gb = _unbroadcast(np.swapaxes(A2, -1, -2) @ g2, B2.shape).reshape(B.shape)
        return ga, gb

    return _from_op(out, (a, b), vjp, "MatMul")


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along ``dim``; the gradient is split back into the pieces."""
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("cat needs at least one tensor")
    (axis,) = _normalize_dims(dim, tensors[0].ndim)
    ends = np.cumsum([t.shape[axis] for t in tensors])[:-1]
    out = np.concatenate([t.data for t in tensors], axis=axis)
    return _from_op(out, tensors, lambda g: tuple(np.split(g, ends, axis=axis)), "Cat")


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new dimension ``dim``."""
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    axis = dim % (tensors[0].ndim + 1)
    out = np.stack([t.data for t in tensors], axis=axis)

    def vjp(g: Array) -> tuple[Array, ...]:
        return tuple(np.take(g, i, axis=axis) for i in range(len(tensors)))

    return _from_op(out, tensors, vjp, "Stack")


def exp(x: Tensor) -> Tensor:
    return x.exp()


def log(x: Tensor) -> Tensor:
    return x.log()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def relu(x: Tensor) -> Tensor:
    return x.relu()


def sqrt(x: Tensor) -> Tensor:
    return x.sqrt()


def abs(x: Tensor) -> Tensor:  # noqa: A001  (PyTorch's name)
    return x.abs()


# --------------------------------------------------------------------------------------------
# Creation
# --------------------------------------------------------------------------------------------


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (floats become float32 unless ``dtype``).

    Example: ``tensor([[1.0, 2.0]], requires_grad=True)``.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _filled(shape: tuple[Any, ...], value: float, dtype: Any, requires_grad: bool) -> Tensor:
    array = np.full(_shape_arg(shape), value, dtype=_as_dtype(dtype) or DEFAULT_DTYPE)
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
    array = _generator.standard_normal(_shape_arg(shape)).astype(dtype)
    return Tensor(array, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform draws from :math:`[0, 1)` from the global generator."""
    dtype = _as_dtype(dtype) or DEFAULT_DTYPE
    array = _generator.random(_shape_arg(shape)).astype(dtype)
    return Tensor(array, requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """``start, start + step, ...`` below ``end`` (integers give int64, floats float32)."""
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None:
        dtype = DEFAULT_DTYPE if values.dtype.kind == "f" else int64
    return Tensor(values, dtype=dtype)


# --------------------------------------------------------------------------------------------
# Checking gradients against finite differences
# --------------------------------------------------------------------------------------------


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` with the input and element whose derivative is wrong."""


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-8,
    rtol: float = 1e-5,
    seed: int = 0,
) -> bool:
    r"""Compare the VJPs of ``fn`` with central finite differences (use float64 inputs).

    With a random cotangent :math:`v` (fixed by ``seed``), the scalar
    :math:`s(x) = \sum v \odot fn(x)` is differentiated by ``backward`` and by
    :math:`(s(x + h e_i) - s(x - h e_i)) / 2h` for every element :math:`i` of every input that
    requires grad. Raises :class:`GradcheckError` naming the first mismatch (relative error
    :math:`|a - n| / \max(10^{-8}, |a| + |n|)`), else returns True.

    Example::

        >>> x = randn(3, 4, dtype=float64, requires_grad=True)
        >>> gradcheck(lambda t: (t * t).sum(dim=1), [x])
        True
    """
    inputs = list(inputs)
    for t in inputs:
        if t.requires_grad and t.dtype != float64:
            raise ValueError(f"gradcheck needs float64 inputs, got {t.dtype}")
    out = fn(*inputs)
    v = np.random.default_rng(seed).standard_normal(out.shape)
    for t in inputs:
        t.grad = None
    out.backward(v)
    for k, t in enumerate(inputs):
        if not t.requires_grad:
            continue
        analytic = np.zeros(t.shape) if t.grad is None else t.grad.data
        t.data = np.ascontiguousarray(t.data)
        flat = t.data.reshape(-1)  # a view: writing flat[i] perturbs the input
        for i in range(flat.size):
            original = flat[i]
            with no_grad():
                flat[i] = original + eps
                plus = float(np.sum(v * fn(*inputs).data))
                flat[i] = original - eps
                minus = float(np.sum(v * fn(*inputs).data))
            flat[i] = original
            numeric = (plus - minus) / (2 * eps)
            a = float(analytic.reshape(-1)[i])
            if math.fabs(a - numeric) > atol + rtol * math.fabs(numeric):
                rel = math.fabs(a - numeric) / max(1e-8, math.fabs(a) + math.fabs(numeric))
                where = np.unravel_index(i, t.shape) if t.shape else ()
                raise GradcheckError(
                    f"input {k}, element {tuple(int(j) for j in where)}: backward gives {a!r}, "
                    f"finite differences give {numeric!r} (relative error {rel:.2e})"
                )
    return True
