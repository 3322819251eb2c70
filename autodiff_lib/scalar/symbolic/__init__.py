"""Symbolic differentiation (lesson 02): a small computer-algebra core and expression swell.

``import autodiff_lib.scalar.symbolic as sym`` gives every name of its three modules:

- :mod:`.nodes`: the expression nodes (``Var``, ``Const``, ``+ - * / **``, ``exp`` ...), and
  the walks over them, :func:`evaluate` and :func:`diff` (differentiation by rules);
- :mod:`.simplification`: :func:`simplify`;
- :mod:`.swell`: :func:`tree_size`, :func:`dag_size`, :func:`depth`, the families that swell
  (:func:`product_of_factors`, :func:`logistic_map`) and :func:`to_sympy`.

Example:
    >>> import autodiff_lib.scalar.symbolic as sym
    >>> x = sym.Var("x")
    >>> str(sym.simplify(sym.diff(x * x, "x")))
    '2 * x'
"""

from autodiff_lib.scalar.symbolic import nodes, simplification, swell
from autodiff_lib.scalar.symbolic.nodes import *  # noqa: F403
from autodiff_lib.scalar.symbolic.simplification import *  # noqa: F403
from autodiff_lib.scalar.symbolic.swell import *  # noqa: F403

__all__ = [*nodes.__all__, *simplification.__all__, *swell.__all__]
