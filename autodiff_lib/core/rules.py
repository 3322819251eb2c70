r"""Local derivatives that every engine must treat alike where their formula breaks down.

:func:`power_rule` and :func:`exponent_rule` are the two partial derivatives of :math:`a^b`;
the textbook formulas give ``0 * inf`` or ``0 * log(0)`` at :math:`a = 0`, so the limits are
spelled out here once, for numbers (:class:`~autodiff_lib.Value`,
:class:`~autodiff_lib.scalar.forward.Dual`) and numpy arrays (:class:`~autodiff_lib.Tensor`)
alike. :func:`stable_sigmoid` is the logistic function without overflow.

Example:
    >>> float(power_rule(0.0, 0.0)), float(power_rule(0.0, 0.5)), float(power_rule(3.0, 2.0))
    (0.0, inf, 6.0)
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["power_rule", "exponent_rule", "stable_sigmoid"]


def power_rule(base: ArrayLike, exponent: ArrayLike) -> np.ndarray:
    r""":math:`\frac{\partial}{\partial a} a^k = k\,a^{k-1}`, with the limits at :math:`a = 0`.

    * :math:`k = 0`: :math:`a^0 = 1` is flat, so 0 (the formula gives :math:`0 \cdot \infty`);
    * :math:`a = 0`, :math:`0 < k < 1`: the slope of :math:`a^k` at 0, :math:`+\infty`
      (and a pole for :math:`k < 0`, also :math:`+\infty`).

    Element-wise for arrays; keeps the dtype of a float array ``base`` raised to a number.
    """
    base = np.asarray(base)
    if not isinstance(exponent, int | float):  # a Python number keeps base's dtype (numpy 2)
        exponent = np.asarray(exponent)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        slope = exponent * np.power(base, exponent - 1)
    slope = np.where((base == 0) & np.less(exponent, 1), np.inf, slope)
    return np.where(np.equal(exponent, 0), 0, slope)


def exponent_rule(base: ArrayLike, power: ArrayLike) -> np.ndarray:
    r""":math:`\frac{\partial}{\partial b} a^b = a^b \ln a` (``power`` is :math:`a^b`, computed).

    Defined for :math:`a > 0`; at :math:`a = 0`, where :math:`a^b = 0` (:math:`b > 0`), the
    limit 0; elsewhere not a real number (nan).
    """
    base, power = np.asarray(base), np.asarray(power)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        slope = power * np.log(base)
    return np.where(base > 0, slope, np.where(power == 0, 0, np.nan))


def stable_sigmoid(x: float) -> float:
    """:math:`\\sigma(x) = 1/(1+e^{-x})` without overflow: only ever exponentiates :math:`-|x|`.

    Example:
        >>> stable_sigmoid(0.0), stable_sigmoid(-1000.0), stable_sigmoid(1000.0)
        (0.5, 0.0, 1.0)
    """
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
