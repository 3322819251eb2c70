r"""Expression swell: how big an expression and its derivative are, and two families that swell.

``diff`` applies the rules mechanically and reuses the nodes it is given, so the derivative is a
DAG whose size (:func:`dag_size`) grows like the expression's. Written out as a tree
(:func:`tree_size`, what printing shows and what naive symbolic differentiation manipulates) it
can be exponentially larger: see :func:`logistic_map`.
"""

from __future__ import annotations

from typing import Any

from autodiff_lib.scalar.symbolic.nodes import Expr, Var, fold, postorder

__all__ = ["tree_size", "dag_size", "depth", "to_sympy", "product_of_factors", "logistic_map"]


def tree_size(expr: Expr) -> int:
    """The number of nodes of ``expr`` written out as a tree (shared nodes counted per use).

    Example:
        >>> x = Var("x"); s = x + 1
        >>> tree_size(s * s), dag_size(s * s)
        (7, 4)
    """
    return fold(expr, lambda node, sizes: 1 + sum(sizes))


def dag_size(expr: Expr) -> int:
    """The number of distinct nodes of ``expr`` (each shared subexpression counted once)."""
    return sum(1 for _ in postorder(expr))


def depth(expr: Expr) -> int:
    """The number of nodes on the longest path from the root to a leaf."""
    return fold(expr, lambda node, depths: 1 + max(depths, default=0))


def to_sympy(expr: Expr) -> Any:
    """The same expression in sympy, e.g. to compare with ``sympy.diff``.

    Example:
        >>> to_sympy(Var("x") ** 2 * 3)
        3*x**2
    """
    return fold(expr, lambda node, parts: node._to_sympy(parts))


def product_of_factors(n: int, name: str = "x") -> Expr:
    r""":math:`\prod_{k=1}^{n} (x + k)`: its derivative by the product rule has :math:`n` terms
    of :math:`n` factors each, so the derivative's tree grows like :math:`n^2`.

    Example:
        >>> str(product_of_factors(3))
        '(x + 1) * (x + 2) * (x + 3)'
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    x = Var(name)
    expr: Expr = x + 1
    for k in range(2, n + 1):
        expr = expr * (x + k)
    return expr


def logistic_map(n: int, name: str = "x") -> Expr:
    r""":math:`l_n` of the logistic map :math:`l_0 = x`, :math:`l_{k+1} = 4\,l_k\,(1 - l_k)`.

    Each step uses :math:`l_k` twice, so as a tree :math:`l_n` has about :math:`2^n` nodes while
    the DAG has :math:`5n + 1`; its derivative swells even faster as a tree.

    Example:
        >>> str(logistic_map(2))
        '4 * (4 * x * (1 - x)) * (1 - 4 * x * (1 - x))'
    """
    if n < 0:
        raise ValueError(f"n must be at least 0, got {n}")
    expr: Expr = Var(name)
    for _ in range(n):
        expr = 4 * expr * (1 - expr)
    return expr
