r"""A scalar reverse-mode autodiff engine: :class:`Value`.

``Value`` is API-compatible with micrograd's ``Value`` (``Value(data, _children=(), _op='')``,
``.data``, ``.grad``, arithmetic operators, ``relu``, ``backward``) and fixes what its users
keep running into:

* every op records its **local derivatives** :math:`\partial\,\text{out}/\partial\,\text{child}`
  when it runs, right next to its forward rule, so the backward pass is one generic loop
  (the chain rule) and no node holds a closure that refers back to itself;
* ``backward`` sorts the graph **without recursion**, so a chain of a million nodes works;
* ``-``, ``/`` and ``**`` take numbers on either side, and ``Value ** Value`` works too;
* ``exp``, ``log``, ``tanh``, ``sigmoid``, ``sin``, ``cos`` besides ``relu``;
  ``sigmoid`` never overflows (``Value(-1000.0).sigmoid().data == 0.0``);
* gradients **accumulate** like PyTorch's ``.grad``, and ``zero_grad`` resets them.

The chain rule that ``backward`` applies, for every node :math:`v` with parents :math:`p`:

.. math::

    \frac{\partial L}{\partial v} = \sum_{p} \frac{\partial L}{\partial p}\,
        \frac{\partial p}{\partial v}

Accumulation semantics (as in PyTorch): the gradients of **leaves** (nodes built directly from
numbers: inputs and parameters) are *added to* by every call of ``backward``, so calling it
twice doubles them; call ``zero_grad`` (or set ``.grad = 0.0``) between steps. Every
**intermediate** node is reset by each ``backward`` and holds
:math:`\partial L/\partial v` of the latest call.

Example:
    >>> x, y = Value(2.0), Value(3.0)
    >>> f = (x + y) * (x * y)
    >>> f.backward()
    >>> f.data, x.grad, y.grad
    (30.0, 21.0, 16.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from numbers import Real
from typing import TypeAlias

from autodiff_lib.core.rules import exponent_rule, power_rule, stable_sigmoid
from autodiff_lib.core.topological import topological_order

__all__ = ["Value", "record"]

Number: TypeAlias = int | float


class Value:
    """One scalar in a computational graph: its ``data``, its ``grad`` and how it was made.

    Args:
        data: the number this node holds (stored as a float for leaves).
        _children: the nodes this one was computed from (empty for a leaf).
        _op: the name of the operation that produced it, for drawing and debugging.
        _local_grads: :math:`\\partial\\,\\text{self} / \\partial\\,\\text{child}` for each
            child, in the same order; set by the operations, not by users.
        label: an optional name shown by :func:`autodiff_lib.scalar.viz.draw_graph`.

    Example:
        >>> a = Value(-4.0)
        >>> b = (a * a + 1).relu()
        >>> b.backward()
        >>> a.grad
        -8.0
    """

    # An operation has one or two inputs: ``_a`` and ``_b`` (None when absent), with the local
    # derivatives ``_da`` = d self / d _a and ``_db`` = d self / d _b. Plain slots rather than
    # tuples: a node is then one object for the garbage collector to track, not three.
    __slots__ = ("data", "grad", "_op", "label", "_a", "_da", "_b", "_db")

    def __init__(
        self,
        data: Number,
        _children: tuple[Value, ...] = (),
        _op: str = "",
        _local_grads: tuple[float, ...] = (),
        label: str = "",
    ) -> None:
        if not _children:  # a leaf: check what the user passed
            if not isinstance(data, Real):
                raise TypeError(f"Value holds a real number, got {type(data).__name__}: {data!r}")
            data = float(data)
        self.data = data
        self.grad = 0.0
        self._op = _op
        self.label = label
        self._a, self._da, self._b, self._db = None, 0.0, None, 0.0
        if _children:  # micrograd-style construction of an operation's output
            children, local_grads = tuple(_children), tuple(_local_grads)
            if len(local_grads) != len(children) or len(children) > 2:
                raise ValueError(
                    f"a Value made from {len(children)} children needs one local derivative "
                    f"per child (_local_grads, at most two), got {len(local_grads)}"
                )
            self._a, self._da = children[0], local_grads[0]
            if len(children) == 2:
                self._b, self._db = children[1], local_grads[1]

    @property
    def _prev(self) -> tuple[Value, ...]:
        """The inputs of the operation that made this node (micrograd's name); () for a leaf."""
        return tuple(child for child in (self._a, self._b) if child is not None)

    @property
    def _local_grads(self) -> tuple[float, ...]:
        """d self / d input, for each input in ``_prev``."""
        return (self._da, self._db)[: len(self._prev)]

    # ------------------------------------------------------------------ binary operations
    # Each operation computes its output and, next to it, the local derivative of the output
    # with respect to each input. ``backward`` multiplies them by the upstream gradient.

    def __add__(self, other: Value | Number) -> Value:
        other = other if type(other) is Value else _as_value(other)
        # d(a + b)/da = 1,  d(a + b)/db = 1
        return record(self.data + other.data, "+", self, 1.0, other, 1.0)

    def __sub__(self, other: Value | Number) -> Value:
        other = other if type(other) is Value else _as_value(other)
        # d(a - b)/da = 1,  d(a - b)/db = -1
        return record(self.data - other.data, "-", self, 1.0, other, -1.0)

    def __mul__(self, other: Value | Number) -> Value:
        other = other if type(other) is Value else _as_value(other)
        # d(a * b)/da = b,  d(a * b)/db = a
        return record(self.data * other.data, "*", self, other.data, other, self.data)

    def __truediv__(self, other: Value | Number) -> Value:
        other = other if type(other) is Value else _as_value(other)
        if other.data == 0:
            raise ZeroDivisionError(f"division by a Value holding 0 ({self!r} / {other!r})")
        quotient = self.data / other.data
        # d(a / b)/da = 1/b,  d(a / b)/db = -a/b^2 = -(a/b)/b
        return record(quotient, "/", self, 1.0 / other.data, other, -quotient / other.data)

    def __pow__(self, exponent: Value | Number) -> Value:
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        if not isinstance(exponent, Real):
            raise TypeError(f"exponent must be a number or a Value, got {type(exponent).__name__}")
        # d(a^k)/da = k a^(k-1)
        out = self.data**exponent
        if isinstance(out, complex):
            raise ValueError(f"{self.data} ** {exponent} is not a real number")
        return record(out, f"**{exponent}", self, float(power_rule(self.data, exponent)))

    def _pow_value(self, exponent: Value) -> Value:
        """``a ** b`` where both are Values: :math:`a^b = e^{b \\ln a}` for :math:`a > 0`."""
        a, b = self.data, exponent.data
        out = a**b
        if isinstance(out, complex):
            raise ValueError(f"{a} ** {b} is not a real number")
        # d(a^b)/da = b a^(b-1),  d(a^b)/db = a^b ln a  (taken as 0 where a^b = 0)
        d_base, d_exponent = float(power_rule(a, b)), float(exponent_rule(a, out))
        return record(out, "**", self, d_base, exponent, d_exponent)

    def __neg__(self) -> Value:
        # d(-a)/da = -1
        return record(-self.data, "neg", self, -1.0)

    # numbers on the left: 2 + x, 2 - x, 2 * x, 2 / x, 2 ** x
    def __radd__(self, other: Number) -> Value:
        return _as_value(other) + self

    def __rsub__(self, other: Number) -> Value:
        return _as_value(other) - self

    def __rmul__(self, other: Number) -> Value:
        return _as_value(other) * self

    def __rtruediv__(self, other: Number) -> Value:
        return _as_value(other) / self

    def __rpow__(self, other: Number) -> Value:
        return _as_value(other) ** self

    # ------------------------------------------------------------------ unary functions

    def relu(self) -> Value:
        """:math:`\\max(0, x)`; its derivative is 1 for :math:`x > 0`, else 0."""
        positive = self.data > 0
        return record(self.data if positive else 0.0, "ReLU", self, 1.0 if positive else 0.0)

    def exp(self) -> Value:
        """:math:`e^x`; :math:`\\frac{d}{dx} e^x = e^x`."""
        out = math.exp(self.data)
        return record(out, "exp", self, out)

    def log(self) -> Value:
        """Natural logarithm; :math:`\\frac{d}{dx}\\ln x = 1/x` (needs :math:`x > 0`)."""
        if self.data <= 0:
            raise ValueError(f"log needs a positive number, got {self.data}")
        return record(math.log(self.data), "log", self, 1.0 / self.data)

    def tanh(self) -> Value:
        """:math:`\\tanh x`; :math:`\\frac{d}{dx}\\tanh x = 1 - \\tanh^2 x`."""
        t = math.tanh(self.data)
        return record(t, "tanh", self, 1.0 - t * t)

    def sigmoid(self) -> Value:
        """:math:`\\sigma(x) = 1/(1 + e^{-x})`; :math:`\\sigma'(x) = \\sigma(x)(1 - \\sigma(x))`.

        Computed without overflow for any finite input: ``Value(-1000.0).sigmoid().data == 0.0``.
        The derivative is evaluated as :math:`\\sigma(x)\\,\\sigma(-x)` (the same number, since
        :math:`1 - \\sigma(x) = \\sigma(-x)`), which stays accurate where :math:`1 - \\sigma(x)`
        would cancel (large positive :math:`x`).
        """
        s = stable_sigmoid(self.data)
        return record(s, "sigmoid", self, s * stable_sigmoid(-self.data))

    def sin(self) -> Value:
        """:math:`\\sin x`; :math:`\\frac{d}{dx}\\sin x = \\cos x`."""
        return record(math.sin(self.data), "sin", self, math.cos(self.data))

    def cos(self) -> Value:
        """:math:`\\cos x`; :math:`\\frac{d}{dx}\\cos x = -\\sin x`."""
        return record(math.cos(self.data), "cos", self, -math.sin(self.data))

    # ------------------------------------------------------------------ the backward pass

    def backward(self) -> None:
        """Set ``v.grad`` to :math:`\\partial\\,\\text{self}/\\partial v` for each node ``v`` below.

        The nodes are visited in reverse :func:`~autodiff_lib.core.topological_order` (outputs
        first), so a node's gradient is complete, every node that uses it having passed its
        share down, before the node passes its own on to its inputs (the chain rule). No
        recursion, so no depth limit. Leaves accumulate; intermediate nodes start from zero
        (see the module docstring).
        """
        order = self.topological_order()
        for node in order:
            if node._a is not None:  # intermediate nodes start from zero on every call
                node.grad = 0.0
        self.grad += 1.0  # d self / d self
        for node in reversed(order):
            if node._a is not None:
                node._a.grad += node._da * node.grad
            if node._b is not None:
                node._b.grad += node._db * node.grad

    def zero_grad(self) -> None:
        """Set ``.grad = 0.0`` on this node and every node below it (inputs and parameters too)."""
        for node in self.topological_order():
            node.grad = 0.0

    def topological_order(self) -> list[Value]:
        """All nodes this one depends on, each after all of its inputs (itself last).

        The order in which ``backward`` visits the nodes, reversed.
        """
        return topological_order(self, _inputs)

    def nodes(self) -> Iterator[Value]:
        """Iterate over the nodes of the graph below this one (itself included)."""
        return iter(self.topological_order())

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"


_new_value = object.__new__  # skips __init__'s checks: an operation's output is well formed


def record(
    data: float, op: str, a: Value, da: float, b: Value | None = None, db: float = 0.0
) -> Value:
    """The result of an operation: its value, its name, its inputs and local derivatives.

    The one way an op makes its output (every method of :class:`Value` ends with it): ``da``
    is :math:`\\partial\\,\\text{out}/\\partial a`, ``db`` the same for the second input
    ``b`` of a binary op. A new op is one function::

        def sinh(x: Value) -> Value:
            # d sinh(a)/da = cosh(a)
            return record(math.sinh(x.data), "sinh", x, math.cosh(x.data))
    """
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out._op = op
    out.label = ""
    out._a = a
    out._da = da
    out._b = b
    out._db = db
    return out


def _inputs(node: Value) -> tuple[Value | None, Value | None]:
    """The inputs of the op that made ``node`` (``None`` where absent)."""
    return (node._a, node._b)


def _as_value(x: Value | Number) -> Value:
    """Wrap a plain number as a constant leaf; refuse anything else with a clear message."""
    if isinstance(x, Value):
        return x
    if isinstance(x, Real):
        return Value(x)
    raise TypeError(f"cannot combine a Value with {type(x).__name__}: {x!r}")
