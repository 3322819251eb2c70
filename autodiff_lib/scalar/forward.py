r"""Forward-mode automatic differentiation with dual numbers.

A dual number :math:`a + \dot a\,\varepsilon` with :math:`\varepsilon^2 = 0` carries a value
:math:`a` and a tangent :math:`\dot a` (a directional derivative). Taylor's theorem makes every
smooth function act on duals as

.. math:: f(a + \dot a\,\varepsilon) = f(a) + f'(a)\,\dot a\,\varepsilon,

so evaluating a program on duals computes its value and, alongside, the derivative along the
seeded direction: one **forward pass** gives one Jacobian-vector product :math:`J v` (a JVP).
A full Jacobian of :math:`f:\mathbb{R}^n\to\mathbb{R}^m` needs :math:`n` passes, one per input
direction; reverse mode (:class:`autodiff_lib.Value`) needs :math:`m`, one per output. That is
why gradients of losses (:math:`m = 1`) use reverse mode; :func:`count_passes` measures it.

Example:
    >>> x, y = Dual(2.0, 1.0), Dual(3.0)        # seed dx = 1, dy = 0
    >>> f = (x + y) * (x * y)
    >>> f.value, f.tangent                       # f(2, 3) and df/dx
    (30.0, 21.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from autodiff_lib.core.rules import power_rule, stable_sigmoid
from autodiff_lib.scalar.value import Value

Number = int | float


class Dual:
    """A dual number ``value + tangent * eps`` with ``eps**2 == 0``.

    Args:
        value: the primal value :math:`a`.
        tangent: the derivative :math:`\\dot a` carried along (0 for a constant).

    Example:
        >>> x = Dual(0.5, 1.0)
        >>> round(x.sin().tangent, 12) == round(math.cos(0.5), 12)
        True
    """

    __slots__ = ("value", "tangent")

    def __init__(self, value: Number, tangent: Number = 0.0) -> None:
        if not isinstance(value, Real) or not isinstance(tangent, Real):
            raise TypeError(f"Dual holds real numbers, got value={value!r} and tangent={tangent!r}")
        self.value = float(value)
        self.tangent = float(tangent)

    # Each rule: the value as usual, the tangent by the derivative rule of that operation.

    def __add__(self, other: Dual | Number) -> Dual:
        other = _as_dual(other)
        # (a + b)' = a' + b'
        return Dual(self.value + other.value, self.tangent + other.tangent)

    def __sub__(self, other: Dual | Number) -> Dual:
        other = _as_dual(other)
        # (a - b)' = a' - b'
        return Dual(self.value - other.value, self.tangent - other.tangent)

    def __mul__(self, other: Dual | Number) -> Dual:
        other = _as_dual(other)
        # (a b)' = a' b + a b'
        return Dual(
            self.value * other.value, self.tangent * other.value + self.value * other.tangent
        )

    def __truediv__(self, other: Dual | Number) -> Dual:
        other = _as_dual(other)
        if other.value == 0:
            raise ZeroDivisionError(f"division by a Dual with value 0 ({self!r} / {other!r})")
        quotient = self.value / other.value
        # (a / b)' = (a' - (a/b) b') / b
        return Dual(quotient, (self.tangent - quotient * other.tangent) / other.value)

    def __pow__(self, exponent: Dual | Number) -> Dual:
        a, b = self.value, _as_dual(exponent)
        out = a**b.value
        if isinstance(out, complex):
            raise ValueError(f"{a} ** {b.value} is not a real number")
        # (a^b)' = b a^(b-1) a' + a^b ln(a) b'   (the second term only when b varies)
        tangent = float(power_rule(a, b.value)) * self.tangent if self.tangent else 0.0
        if b.tangent:
            if a <= 0:
                raise ValueError(f"a ** b with a varying exponent needs a > 0, got a = {a}")
            tangent += out * math.log(a) * b.tangent
        return Dual(out, tangent)

    def __neg__(self) -> Dual:
        return Dual(-self.value, -self.tangent)

    def __pos__(self) -> Dual:
        return self

    def __radd__(self, other: Number) -> Dual:
        return _as_dual(other) + self

    def __rsub__(self, other: Number) -> Dual:
        return _as_dual(other) - self

    def __rmul__(self, other: Number) -> Dual:
        return _as_dual(other) * self

    def __rtruediv__(self, other: Number) -> Dual:
        return _as_dual(other) / self

    def __rpow__(self, other: Number) -> Dual:
        return _as_dual(other) ** self

    # Elementary functions: f(a + a' eps) = f(a) + f'(a) a' eps.

    def exp(self) -> Dual:
        """:math:`(e^a)' = e^a a'`."""
        out = math.exp(self.value)
        return Dual(out, out * self.tangent)

    def log(self) -> Dual:
        """:math:`(\\ln a)' = a'/a` (needs :math:`a > 0`)."""
        if self.value <= 0:
            raise ValueError(f"log needs a positive number, got {self.value}")
        return Dual(math.log(self.value), self.tangent / self.value)

    def sin(self) -> Dual:
        """:math:`(\\sin a)' = \\cos(a)\\, a'`."""
        return Dual(math.sin(self.value), math.cos(self.value) * self.tangent)

    def cos(self) -> Dual:
        """:math:`(\\cos a)' = -\\sin(a)\\, a'`."""
        return Dual(math.cos(self.value), -math.sin(self.value) * self.tangent)

    def tanh(self) -> Dual:
        """:math:`(\\tanh a)' = (1 - \\tanh^2 a)\\, a'`."""
        t = math.tanh(self.value)
        return Dual(t, (1.0 - t * t) * self.tangent)

    def sigmoid(self) -> Dual:
        """:math:`\\sigma(a)' = \\sigma(a)(1 - \\sigma(a))\\, a'` (no overflow for any finite a)."""
        s = stable_sigmoid(self.value)
        return Dual(s, s * stable_sigmoid(-self.value) * self.tangent)  # 1 - s = sigma(-a)

    def relu(self) -> Dual:
        """:math:`\\max(0, a)`, tangent :math:`a'` where :math:`a > 0`, else 0."""
        return Dual(self.value, self.tangent) if self.value > 0 else Dual(0.0, 0.0)

    def __repr__(self) -> str:
        return f"Dual(value={self.value}, tangent={self.tangent})"


def _as_dual(x: Dual | Number) -> Dual:
    """A number is a constant: its tangent is 0."""
    if isinstance(x, Dual):
        return x
    if isinstance(x, Real):
        return Dual(x, 0.0)
    raise TypeError(f"cannot combine a Dual with {type(x).__name__}: {x!r}")


# --------------------------------------------------------------------------- functions
# Work on a Dual, a Value (anything with the method of that name) or a plain number.


def _apply(name: str, plain: Callable[[float], float], x: Any) -> Any:
    if isinstance(x, Real):
        return plain(float(x))
    method = getattr(x, name, None)
    if method is None:
        raise TypeError(f"{name}() needs a number, a Dual or a Value, got {type(x).__name__}")
    return method()


def exp(x: Any) -> Any:
    """:math:`e^x` of a number, a :class:`Dual` or a :class:`~autodiff_lib.Value`."""
    return _apply("exp", math.exp, x)


def log(x: Any) -> Any:
    """:math:`\\ln x` of a number, a :class:`Dual` or a :class:`~autodiff_lib.Value`."""
    return _apply("log", math.log, x)


def sin(x: Any) -> Any:
    """:math:`\\sin x` of a number, a :class:`Dual` or a :class:`~autodiff_lib.Value`."""
    return _apply("sin", math.sin, x)


def cos(x: Any) -> Any:
    """:math:`\\cos x` of a number, a :class:`Dual` or a :class:`~autodiff_lib.Value`."""
    return _apply("cos", math.cos, x)


def tanh(x: Any) -> Any:
    """:math:`\\tanh x` of a number, a :class:`Dual` or a :class:`~autodiff_lib.Value`."""
    return _apply("tanh", math.tanh, x)


def sigmoid(x: Any) -> Any:
    """:math:`\\sigma(x) = 1/(1+e^{-x})` of a number, a :class:`Dual` or a ``Value``."""
    return _apply("sigmoid", stable_sigmoid, x)


def relu(x: Any) -> Any:
    """:math:`\\max(0, x)` of a number, a :class:`Dual` or a :class:`~autodiff_lib.Value`."""
    return _apply("relu", lambda t: t if t > 0 else 0.0, x)


# --------------------------------------------------------------------------- Jacobians


def jvp(
    f: Callable[[list[Dual]], Any], x: ArrayLike, v: ArrayLike
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    r"""One forward pass: the value :math:`f(x)` and the JVP :math:`J(x)\,v`.

    Args:
        f: takes a list of n numbers (here :class:`Dual`) and returns one number or a
            sequence of m numbers (Duals or constants).
        x: the point, n numbers.
        v: the direction (the input tangents), n numbers.

    Returns:
        ``(value, tangent)``: two floats for a scalar f, two arrays of length m otherwise.

    Example:
        >>> jvp(lambda p: (p[0] + p[1]) * (p[0] * p[1]), [2.0, 3.0], [1.0, 1.0])
        (30.0, 37.0)
    """
    point, direction = _as_vector(x, "x"), _as_vector(v, "v")
    if point.shape != direction.shape:
        raise ValueError(
            f"x and v must have the same length, got {point.size} and {direction.size}"
        )
    out = f([Dual(xi, vi) for xi, vi in zip(point, direction, strict=True)])
    if isinstance(out, Dual | Real):
        single = _as_dual(out)
        return single.value, single.tangent
    outs = [_as_dual(o) for o in out]
    return np.array([o.value for o in outs]), np.array([o.tangent for o in outs])


def jacobian_forward(f: Callable[[list[Dual]], Any], x: ArrayLike) -> np.ndarray:
    r"""The Jacobian of f at x, one forward pass per input: column :math:`j` is :math:`J e_j`.

    Returns:
        an array of shape (m, n) (m = 1 for a scalar f).

    Example:
        >>> jacobian_forward(lambda p: [p[0] * p[1], p[0] + p[1]], [2.0, 3.0]).tolist()
        [[3.0, 2.0], [1.0, 1.0]]
    """
    point = _as_vector(x, "x")
    columns = [np.atleast_1d(jvp(f, point, unit)[1]) for unit in np.eye(point.size)]
    return np.stack(columns, axis=1)


def gradient_forward(f: Callable[[list[Dual]], Any], x: ArrayLike) -> np.ndarray:
    """The gradient of a scalar f at x by forward mode (n passes).

    Example:
        >>> gradient_forward(lambda p: (p[0] + p[1]) * (p[0] * p[1]), [2.0, 3.0]).tolist()
        [21.0, 16.0]
    """
    jac = jacobian_forward(f, x)
    if jac.shape[0] != 1:
        raise ValueError(f"gradient_forward needs a scalar f; this one has {jac.shape[0]} outputs")
    return jac[0]


def jacobian_reverse(f: Callable[[list[Value]], Any], x: ArrayLike) -> np.ndarray:
    """The Jacobian of f at x by reverse mode: one ``backward`` pass per output (``Value``).

    Example:
        >>> jacobian_reverse(lambda p: [p[0] * p[1], p[0] + p[1]], [2.0, 3.0]).tolist()
        [[3.0, 2.0], [1.0, 1.0]]
    """
    return _reverse_jacobian_and_passes(f, x)[0]


def _reverse_jacobian_and_passes(
    f: Callable[[list[Value]], Any], x: ArrayLike
) -> tuple[np.ndarray, int]:
    inputs = [Value(float(xi)) for xi in _as_vector(x, "x")]
    out = f(inputs)
    outs = [out] if isinstance(out, Value | Real) else list(out)
    rows, passes = [], 0
    for o in outs:
        for leaf in inputs:  # leaves accumulate: start every output from zero
            leaf.grad = 0.0
        if isinstance(o, Value):
            o.backward()
            passes += 1
        rows.append([leaf.grad for leaf in inputs])
    return np.array(rows), passes


@dataclass
class PassCount:
    """How many passes forward and reverse mode needed for the full Jacobian of one f.

    Attributes:
        n_inputs, n_outputs: the shape of f, from R^n to R^m.
        forward_passes: evaluations of f on duals (one per input).
        reverse_passes: ``backward`` calls (one per output).
        max_difference: the largest difference between the two Jacobians (they should agree).
    """

    n_inputs: int
    n_outputs: int
    forward_passes: int
    reverse_passes: int
    max_difference: float

    def __repr__(self) -> str:
        return (
            f"f: R^{self.n_inputs} -> R^{self.n_outputs}: forward mode "
            f"{_plural(self.forward_passes, 'pass', 'passes')} (one per input), reverse mode "
            f"{_plural(self.reverse_passes, 'backward pass', 'backward passes')} (one per "
            f"output); Jacobians agree to {self.max_difference:.1e}"
        )


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def count_passes(f: Callable[[list[Any]], Any], x: ArrayLike) -> PassCount:
    r"""Compute f's full Jacobian both ways and count the passes each mode needed.

    ``f`` must work on :class:`Dual` and on :class:`~autodiff_lib.Value` (use operators and
    methods such as ``p[0].tanh()``, or this module's functions). For
    :math:`f:\mathbb{R}^n\to\mathbb{R}`: ``n`` forward passes against 1 reverse pass.

    Example:
        >>> counts = count_passes(lambda p: p[0] * p[1] * p[2], [1.0, 2.0, 3.0])
        >>> counts.forward_passes, counts.reverse_passes
        (3, 1)
    """
    calls = 0

    def counted(p: list[Any]) -> Any:
        nonlocal calls
        calls += 1
        return f(p)

    forward_jac = jacobian_forward(counted, x)
    reverse_jac, reverse_passes = _reverse_jacobian_and_passes(f, x)
    return PassCount(
        n_inputs=forward_jac.shape[1],
        n_outputs=forward_jac.shape[0],
        forward_passes=calls,
        reverse_passes=reverse_passes,
        max_difference=float(np.max(np.abs(forward_jac - reverse_jac), initial=0.0)),
    )


def _as_vector(x: ArrayLike, name: str) -> np.ndarray:
    vector = np.atleast_1d(np.asarray(x, dtype=float))
    if vector.ndim != 1:
        raise ValueError(f"{name} must be a sequence of numbers, got shape {vector.shape}")
    return vector


__all__ = [
    "Dual",
    "exp",
    "log",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "jvp",
    "jacobian_forward",
    "gradient_forward",
    "jacobian_reverse",
    "count_passes",
    "PassCount",
]
