r"""Numerical differentiation: finite differences, the complex step and gradient checking.

A derivative is a limit, :math:`f'(x) = \lim_{h\to 0} (f(x+h) - f(x))/h`; numerically we stop at
a small but finite step :math:`h` and pay twice:

* **truncation error** from the terms of the Taylor series we dropped, which shrinks with
  :math:`h` (:math:`\tfrac{h}{2}|f''|` for the forward difference,
  :math:`\tfrac{h^2}{6}|f'''|` for the central one);
* **round-off error** from subtracting two nearly equal floats, which grows as :math:`h`
  shrinks (about :math:`\varepsilon|f|/h`, with :math:`\varepsilon \approx 2.2\times10^{-16}`).

Balancing the two puts the best step near :math:`\sqrt{\varepsilon}\approx 10^{-8}` for the
forward difference and near :math:`\varepsilon^{1/3}\approx 10^{-5.5}` for the central one. The
**complex step** :math:`f'(x) \approx \operatorname{Im} f(x + ih)/h` subtracts nothing, so it has
no round-off to balance: :math:`h = 10^{-20}` gives the derivative to machine precision (for
functions that accept complex numbers and are real on the real line).

Counting evaluations: wrap ``f`` with :func:`count_evaluations` and read ``.calls`` afterwards.
A gradient of :math:`f:\mathbb{R}^n\to\mathbb{R}` costs :math:`2n` evaluations with central
differences, :math:`n+1` with forward or backward differences and :math:`n` with the complex
step; the same holds for :func:`jacobian` (each evaluation returns all :math:`m` outputs).

Example:
    >>> import math
    >>> round(central_difference(math.exp, 1.0), 9)
    2.718281828
    >>> import numpy as np
    >>> counted = count_evaluations(lambda v: float(np.sum(v**2)))
    >>> gradient(counted, [1.0, 2.0, 3.0]).round(6).tolist(), counted.calls
    ([2.0, 4.0, 6.0], 6)
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import cycle
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from autodiff_lib.style import COLORS, LINE_STYLES

EPS = float(np.finfo(float).eps)
"""Machine epsilon of float64, :math:`2^{-52} \\approx 2.2\\times10^{-16}`."""

DEFAULT_STEPS = {"forward": 1e-8, "backward": 1e-8, "central": 6e-6, "complex": 1e-20}
"""The step each method uses when none is given (about the best one for a well-scaled f)."""

METHODS = tuple(DEFAULT_STEPS)


# --------------------------------------------------------------------------- f: R -> R


def forward_difference(f: Callable[[float], float], x: float, h: float = 1e-8) -> float:
    r""":math:`f'(x) \approx \dfrac{f(x+h) - f(x)}{h}`, error :math:`O(h)`.

    Example:
        >>> abs(forward_difference(math.exp, 1.0) - math.e) < 1e-7
        True
    """
    _check_step(h)
    return (f(x + h) - f(x)) / h


def backward_difference(f: Callable[[float], float], x: float, h: float = 1e-8) -> float:
    r""":math:`f'(x) \approx \dfrac{f(x) - f(x-h)}{h}`, error :math:`O(h)`.

    Example:
        >>> abs(backward_difference(math.exp, 1.0) - math.e) < 1e-7
        True
    """
    _check_step(h)
    return (f(x) - f(x - h)) / h


def central_difference(f: Callable[[float], float], x: float, h: float = 6e-6) -> float:
    r""":math:`f'(x) \approx \dfrac{f(x+h) - f(x-h)}{2h}`, error :math:`O(h^2)`.

    The even terms of the Taylor series cancel, which is why it beats the one-sided quotients.

    Example:
        >>> abs(central_difference(math.exp, 1.0) - math.e) < 1e-10
        True
    """
    _check_step(h)
    return (f(x + h) - f(x - h)) / (2 * h)


def complex_step(f: Callable[[complex], complex], x: float, h: float = 1e-20) -> float:
    r""":math:`f'(x) \approx \operatorname{Im} f(x + ih) / h`, with no subtraction.

    ``f`` must accept complex numbers (use ``cmath`` or ``numpy`` functions, not ``math``) and
    be real for real inputs; ``abs`` and comparisons break it.

    Example:
        >>> abs(complex_step(cmath.exp, 1.0) - math.e) <= 1e-15
        True
    """
    _check_step(h)
    return _imaginary_part(f(complex(x, h))) / h


def _imaginary_part(y: Any) -> float:
    """Im y; a real y means f did not depend on x here (a derivative of 0)."""
    return float(np.imag(y))


def _check_step(h: float) -> None:
    if not h > 0:
        raise ValueError(f"the step h must be a positive number, got {h!r}")


# --------------------------------------------------------------------------- counting


class CountingFunction:
    """A function that counts its calls in ``.calls``; made by :func:`count_evaluations`."""

    def __init__(self, f: Callable[..., Any]) -> None:
        self.f = f
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.f(*args, **kwargs)

    def __repr__(self) -> str:
        return f"count_evaluations({getattr(self.f, '__name__', self.f)!r}): {self.calls} calls"


def count_evaluations(f: Callable[..., Any]) -> CountingFunction:
    """Wrap ``f`` so that ``wrapped.calls`` says how many times it was evaluated.

    Example:
        >>> counted = count_evaluations(math.sin)
        >>> _ = central_difference(counted, 0.5)
        >>> counted.calls
        2
    """
    return CountingFunction(f)


# --------------------------------------------------------------------------- f: R^n -> R^m


def gradient(
    f: Callable[[np.ndarray], float],
    x: ArrayLike,
    h: float | None = None,
    method: str = "central",
) -> np.ndarray:
    r"""The gradient of :math:`f:\mathbb{R}^n\to\mathbb{R}` at ``x``, one coordinate at a time.

    :math:`\partial f/\partial x_i \approx (f(x + h e_i) - f(x - h e_i)) / 2h` for
    ``method="central"`` (:math:`2n` evaluations); ``"forward"`` and ``"backward"`` use
    :math:`n + 1`, ``"complex"`` uses :math:`n` (``f`` must then accept complex arrays).

    Args:
        f: takes an array shaped like ``x``, returns a number.
        x: the point (any shape).
        h: the step; ``None`` picks the method's default from :data:`DEFAULT_STEPS`.
        method: ``"central"``, ``"forward"``, ``"backward"`` or ``"complex"``.

    Returns:
        an array shaped like ``x``.

    Example:
        >>> gradient(lambda v: v[0] * v[1], [2.0, 3.0]).round(8).tolist()
        [3.0, 2.0]
    """
    point = np.asarray(x, dtype=float)

    def f_of_flat(v: np.ndarray) -> np.ndarray:
        out = np.asarray(f(v.reshape(point.shape)))
        if out.size != 1:
            raise ValueError(
                f"gradient needs f to return one number, got shape {out.shape}; "
                "use jacobian for vector outputs"
            )
        return out.reshape(1)

    partials = jacobian(f_of_flat, point.ravel(), h, method)
    return partials[0].reshape(point.shape)


def jacobian(
    f: Callable[[np.ndarray], ArrayLike],
    x: ArrayLike,
    h: float | None = None,
    method: str = "central",
) -> np.ndarray:
    r"""The Jacobian :math:`J_{ij} = \partial f_i/\partial x_j` of a map from R^n to R^m.

    One column per input coordinate, each from a finite difference of the whole output vector
    (evaluation counts as for :func:`gradient`).

    Args:
        f: takes a 1-D array of length n, returns a number or m numbers.
        x: the point, n numbers.
        h: the step; ``None`` picks the method's default.
        method: ``"central"``, ``"forward"``, ``"backward"`` or ``"complex"``.

    Returns:
        an array of shape (m, n).

    Example:
        >>> jacobian(lambda v: [v[0] * v[1], v[0] + v[1]], [2.0, 3.0]).round(8).tolist()
        [[3.0, 2.0], [1.0, 1.0]]
    """
    if method not in DEFAULT_STEPS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    step = DEFAULT_STEPS[method] if h is None else h
    _check_step(step)
    point = np.asarray(x, dtype=float)
    if point.ndim != 1:
        raise ValueError(f"jacobian needs x to be a vector, got shape {point.shape}")

    def evaluate(v: np.ndarray) -> np.ndarray:
        return np.atleast_1d(np.asarray(f(v)))

    centre = evaluate(point) if method in ("forward", "backward") else None
    columns = []
    for j in range(point.size):
        direction = np.zeros(point.size)
        direction[j] = 1.0
        if method == "central":
            column = (evaluate(point + step * direction) - evaluate(point - step * direction)) / (
                2 * step
            )
        elif method == "forward":
            column = (evaluate(point + step * direction) - centre) / step
        elif method == "backward":
            column = (centre - evaluate(point - step * direction)) / step
        else:  # complex step
            column = np.imag(evaluate(point + 1j * step * direction)) / step
        columns.append(np.real(column).astype(float))
    return np.stack(columns, axis=1)


# --------------------------------------------------------------------------- checking


def relative_error(a: ArrayLike, b: ArrayLike) -> np.ndarray | float:
    r"""Elementwise :math:`|a - b| / \max(10^{-8}, |a| + |b|)` (the course's relative error).

    Below about :math:`10^{-7}` two gradients agree; above :math:`10^{-2}` one is probably
    wrong. Returns a float for scalar inputs.

    Example:
        >>> float(relative_error(1.0, 1.0 + 1e-9)) < 1e-9
        True
    """
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    error = np.abs(a_arr - b_arr) / np.maximum(1e-8, np.abs(a_arr) + np.abs(b_arr))
    return float(error) if error.ndim == 0 else error


@dataclass
class GradcheckReport:
    """What :func:`gradcheck` found: per input, how far the analytic gradient is from numbers.

    Attributes:
        max_relative_error: for each input of ``f``, the largest relative error over its
            coordinates.
        worst_input: which input holds the worst coordinate (0 when f has one input).
        worst_index: the index of the worst coordinate inside that input.
        analytic: the analytic derivative at the worst coordinate.
        numerical: the numerical derivative at the worst coordinate.
        passed: every coordinate within ``tol`` (relative) or ``atol`` (absolute).
        tol, atol, method, h: the settings used.
        evaluations: how many times ``f`` was evaluated.
    """

    max_relative_error: list[float]
    worst_input: int
    worst_index: tuple[int, ...]
    analytic: float
    numerical: float
    passed: bool
    tol: float
    atol: float
    method: str
    h: float
    evaluations: int
    relative_errors: list[np.ndarray] = field(repr=False, default_factory=list)

    def __bool__(self) -> bool:
        """True when the check passed, so ``assert gradcheck(...)`` reads as it should."""
        return self.passed

    def __repr__(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [
            f"gradcheck {verdict}: worst relative error {max(self.max_relative_error):.2e} "
            f"(tol {self.tol:g}), {self.method} differences with h = {self.h:g}, "
            f"{self.evaluations} evaluations of f"
        ]
        for i, error in enumerate(self.max_relative_error):
            lines.append(f"  input {i}: max relative error {error:.2e}")
        lines.append(
            f"  worst coordinate: input {self.worst_input}, index {list(self.worst_index)}: "
            f"analytic {self.analytic:.10g} vs numerical {self.numerical:.10g}"
        )
        return "\n".join(lines)

    __str__ = __repr__


def gradcheck(
    f: Callable[..., float],
    x: ArrayLike | tuple[ArrayLike, ...],
    analytic_grad: Callable[..., Any] | ArrayLike | tuple[ArrayLike, ...],
    h: float | None = None,
    tol: float = 1e-6,
    atol: float = 1e-9,
    method: str = "central",
) -> GradcheckReport:
    r"""Compare an analytic gradient with finite differences, coordinate by coordinate.

    A coordinate passes when its relative error is at most ``tol`` or its absolute error at
    most ``atol`` (where the true derivative is 0, round-off alone makes the relative error
    large).

    Args:
        f: a scalar function; ``f(x)`` for one input, ``f(*x)`` when ``x`` is a tuple of inputs.
        x: the point: one array-like, or a tuple of array-likes (several inputs).
        analytic_grad: the gradient to check: a function called like ``f`` that returns it (one
            array, or a tuple with one array per input), or the arrays themselves.
        h: the finite-difference step (``None``: the method's default).
        tol: the largest relative error that passes.
        atol: the largest absolute error that passes.
        method: ``"central"`` (default), ``"forward"``, ``"backward"`` or ``"complex"``.

    Returns:
        a :class:`GradcheckReport`; ``print`` it to read the verdict.

    Example:
        >>> report = gradcheck(lambda v: float(np.sum(v**3)), [1.0, 2.0], lambda v: 3 * v**2)
        >>> report.passed
        True
    """
    several = isinstance(x, tuple)
    inputs = [np.asarray(xi, dtype=float) for xi in (x if several else (x,))]
    counted = count_evaluations(f)

    def call(args: list[np.ndarray]) -> Any:
        return counted(*args) if several else counted(args[0])

    expected = analytic_grad(*inputs) if callable(analytic_grad) else analytic_grad
    expected_list = list(expected) if several else [expected]
    if len(expected_list) != len(inputs):
        raise ValueError(
            f"f has {len(inputs)} inputs but {len(expected_list)} gradients were given"
        )

    errors, analytic_all, numerical_all = [], [], []
    for i, xi in enumerate(inputs):

        def f_of_input(v: np.ndarray, i: int = i) -> Any:
            args = list(inputs)
            args[i] = v
            return call(args)

        numerical = gradient(f_of_input, xi, h=h, method=method)
        analytic = np.asarray(expected_list[i], dtype=float)
        if analytic.shape != xi.shape:
            raise ValueError(
                f"gradient of input {i} has shape {analytic.shape}, but the input has {xi.shape}"
            )
        rel = np.asarray(relative_error(analytic, numerical), dtype=float).reshape(xi.shape)
        errors.append(rel)
        analytic_all.append(analytic)
        numerical_all.append(numerical)

    worst_input = int(np.argmax([e.max() if e.size else 0.0 for e in errors]))
    worst_flat = int(np.argmax(errors[worst_input])) if errors[worst_input].size else 0
    worst_index = tuple(int(k) for k in np.unravel_index(worst_flat, inputs[worst_input].shape))
    passed = all(
        bool(np.all((e <= tol) | (np.abs(a - n) <= atol)))
        for e, a, n in zip(errors, analytic_all, numerical_all, strict=True)
    )
    return GradcheckReport(
        max_relative_error=[float(e.max()) if e.size else 0.0 for e in errors],
        worst_input=worst_input,
        worst_index=worst_index,
        analytic=float(analytic_all[worst_input][worst_index]),
        numerical=float(numerical_all[worst_input][worst_index]),
        passed=passed,
        tol=tol,
        atol=atol,
        method=method,
        h=DEFAULT_STEPS[method] if h is None else h,
        evaluations=counted.calls,
        relative_errors=errors,
    )


# --------------------------------------------------------------------------- step sizes

_QUOTIENTS: dict[str, Callable[[Callable[..., Any], float, float], float]] = {
    "forward": forward_difference,
    "backward": backward_difference,
    "central": central_difference,
    "complex": complex_step,
}


@dataclass
class StepSizeSweep:
    """Errors of finite-difference methods over a range of steps; made by :func:`step_size_sweep`.

    Attributes:
        x: the point.
        exact: the exact derivative there.
        hs: the steps tried (increasing).
        errors: for each method, the absolute errors :math:`|\\text{estimate} - f'(x)|`.
    """

    x: float
    exact: float
    hs: np.ndarray
    errors: dict[str, np.ndarray]

    def best_step(self, method: str) -> float:
        """The step with the smallest error for ``method`` (the smallest such step on ties)."""
        return float(self.hs[int(np.argmin(self._errors_of(method)))])

    def best_error(self, method: str) -> float:
        """The smallest error ``method`` reached."""
        return float(np.min(self._errors_of(method)))

    def _errors_of(self, method: str) -> np.ndarray:
        if method not in self.errors:
            raise KeyError(f"no method {method!r} in this sweep; it has {list(self.errors)}")
        return self.errors[method]

    def plot(self, ax: Any = None) -> Any:
        """Log-log plot of error against step, marking :math:`\\sqrt\\varepsilon` and
        :math:`\\varepsilon^{1/3}`; returns the matplotlib axes. Exact zeros are drawn at 1e-17.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5))
        floor = 1e-17
        looks = zip(cycle(COLORS), cycle(LINE_STYLES))
        for (method, errors), (color, style) in zip(self.errors.items(), looks, strict=False):
            shown = np.maximum(errors, floor)
            ax.loglog(self.hs, shown, lw=1.2, color=color, ls=style, label=method)
            best = int(np.argmin(errors))
            ax.plot(self.hs[best], max(errors[best], floor), "o", ms=6, color=color)
        for h_mark, name in ((math.sqrt(EPS), r"$\sqrt{\varepsilon}$"), (EPS ** (1 / 3), None)):
            label = name or r"$\varepsilon^{1/3}$"
            ax.axvline(h_mark, color="gray", ls=":", lw=1)
            ax.text(h_mark, floor * 3, " " + label, color="gray")
        ax.set_xlabel("step h")
        ax.set_ylabel(r"absolute error $|\,\mathrm{estimate} - f'(x)\,|$")
        ax.set_title(f"Finite-difference error against step size at x = {self.x:g}")
        ax.set_ylim(floor / 2, None)
        ax.legend()
        return ax


def step_size_sweep(
    f: Callable[[Any], Any],
    dfdx: Callable[[float], float] | float,
    x: float,
    hs: Sequence[float] | np.ndarray | None = None,
    methods: Sequence[str] = ("forward", "central", "complex"),
) -> StepSizeSweep:
    """Measure each method's error at ``x`` for many step sizes.

    Args:
        f: the function; for ``"complex"`` it must accept complex numbers. ``math.exp`` and
            the like are swapped for their ``cmath`` versions automatically in that case.
        dfdx: the exact derivative, as a function or as the number :math:`f'(x)`.
        x: the point.
        hs: the steps; default ``10**-20`` to ``10**-1`` in quarter decades.
        methods: any of ``"forward"``, ``"backward"``, ``"central"``, ``"complex"``.

    Example:
        >>> sweep = step_size_sweep(math.exp, math.exp, 1.0)
        >>> -8.75 <= math.log10(sweep.best_step("forward")) <= -7.25
        True
    """
    unknown = [m for m in methods if m not in _QUOTIENTS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {METHODS}")
    steps = np.logspace(-20, -1, 77) if hs is None else np.sort(np.asarray(hs, dtype=float))
    exact = float(dfdx(x)) if callable(dfdx) else float(dfdx)
    errors = {}
    for method in methods:
        g = _complex_version(f) if method == "complex" else f
        estimates = np.array([_QUOTIENTS[method](g, x, float(h)) for h in steps])
        errors[method] = np.abs(estimates - exact)
    return StepSizeSweep(x=float(x), exact=exact, hs=steps, errors=errors)


_COMPLEX_VERSIONS = {
    getattr(math, name): getattr(cmath, name)
    for name in ("exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sqrt")
}


def _complex_version(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``cmath.exp`` for ``math.exp`` and so on; any other ``f`` is used as it is."""
    return _COMPLEX_VERSIONS.get(f, f)
