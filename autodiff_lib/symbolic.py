r"""A small computer-algebra core: expressions, differentiation by rules, simplification, swell.

An expression is a tree (in fact a DAG: subexpressions can be shared) of nodes: constants,
variables, ``+ - * /``, powers with a number exponent, and the functions ``exp, log, sin, cos,
tanh, sigmoid``. Python's operators build them::

    >>> x, y = Var("x"), Var("y")
    >>> f = (x + y) * (x * y)
    >>> str(f)
    '(x + y) * (x * y)'
    >>> f.evaluate(x=2, y=3)
    30.0
    >>> str(simplify(diff(f, "x")))
    'x * y + y * (x + y)'

Every node class holds, next to each other, its own rule for each job: ``_evaluate`` (its value
from its children's values), ``_derivative`` (the differentiation rule: its derivative from its
children and their derivatives), ``_format`` and ``_latex`` (printing). The module's functions
(:func:`evaluate`, :func:`diff`, :func:`simplify`, :func:`tree_size`, ...) walk the expression
once, children before parents, without recursion, visiting a shared node once.

**Expression swell.** ``diff`` applies the rules mechanically and reuses the nodes it is given,
so the derivative is a DAG whose size (:func:`dag_size`) grows like the expression's. Written out
as a tree (:func:`tree_size`, what printing shows and what naive symbolic differentiation
manipulates) it can be exponentially larger: see :func:`logistic_map`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from numbers import Real
from typing import Any, ClassVar

from autodiff_lib.engine import stable_sigmoid

Number = int | float

# precedence for printing: a child binding weaker than its parent gets parentheses
_SUM, _PRODUCT, _UNARY, _POWER, _ATOM = 1, 2, 3, 4, 5


class Expr:
    """Base class of all expression nodes. Build expressions with operators and functions."""

    __slots__ = ("children",)
    precedence: ClassVar[int] = _ATOM

    def __init__(self, *children: Expr) -> None:
        self.children: tuple[Expr, ...] = children

    # ----------------------------------------------------------------- operators
    def __add__(self, other: Expr | Number) -> Expr:
        return Add(self, as_expr(other))

    def __radd__(self, other: Number) -> Expr:
        return Add(as_expr(other), self)

    def __sub__(self, other: Expr | Number) -> Expr:
        return Sub(self, as_expr(other))

    def __rsub__(self, other: Number) -> Expr:
        return Sub(as_expr(other), self)

    def __mul__(self, other: Expr | Number) -> Expr:
        return Mul(self, as_expr(other))

    def __rmul__(self, other: Number) -> Expr:
        return Mul(as_expr(other), self)

    def __truediv__(self, other: Expr | Number) -> Expr:
        return Div(self, as_expr(other))

    def __rtruediv__(self, other: Number) -> Expr:
        return Div(as_expr(other), self)

    def __pow__(self, exponent: Expr | Number) -> Expr:
        if isinstance(exponent, Const):
            exponent = exponent.value
        if isinstance(exponent, Real):
            return Pow(self, exponent)
        # a varying exponent: a^b = exp(b ln a), defined for a > 0
        return Exp(Mul(as_expr(exponent), Log(self)))

    def __rpow__(self, base: Number) -> Expr:
        return Exp(Mul(self, Log(as_expr(base))))

    def __neg__(self) -> Expr:
        return Neg(self)

    # ----------------------------------------------------------------- functions as methods
    # (as on Dual and Value, so one program written with x.exp() runs on every engine)
    def exp(self) -> Expr:
        return Exp(self)

    def log(self) -> Expr:
        return Log(self)

    def sin(self) -> Expr:
        return Sin(self)

    def cos(self) -> Expr:
        return Cos(self)

    def tanh(self) -> Expr:
        return Tanh(self)

    def sigmoid(self) -> Expr:
        return Sigmoid(self)

    # ----------------------------------------------------------------- the module's functions
    def diff(self, var: str | Var, simplify: bool = False) -> Expr:
        """The derivative with respect to ``var``; see :func:`diff`."""
        return diff(self, var, simplify=simplify)

    def evaluate(self, **env: Any) -> Any:
        """The value with variables bound by keyword; see :func:`evaluate`."""
        return evaluate(self, **env)

    def simplify(self) -> Expr:
        """A simpler equal expression; see :func:`simplify`."""
        return simplify(self)

    def latex(self) -> str:
        """LaTeX source of the expression (without dollar signs)."""
        return _fold(self, lambda node, parts: node._latex(parts))

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def __str__(self) -> str:
        return _fold(self, lambda node, parts: node._format(parts))

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self}>"

    # ----------------------------------------------------------------- per-node rules
    def _evaluate(self, values: list[Any], env: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _derivative(self, var: str, derivatives: list[Expr]) -> Expr:
        raise NotImplementedError

    def _format(self, parts: list[str]) -> str:
        raise NotImplementedError

    def _latex(self, parts: list[str]) -> str:
        raise NotImplementedError

    def _to_sympy(self, parts: list[Any]) -> Any:
        raise NotImplementedError

    def _parenthesize(self, parts: list[str], left: str = "(", right: str = ")") -> list[str]:
        """Wrap each child's text in parentheses where it binds weaker than this node."""
        return [
            f"{left}{part}{right}" if self._needs_parentheses(i, child) else part
            for i, (child, part) in enumerate(zip(self.children, parts, strict=True))
        ]

    def _needs_parentheses(self, position: int, child: Expr) -> bool:
        return child.precedence < self.precedence


# --------------------------------------------------------------------------- leaves


class Const(Expr):
    """A number. ``Const(2.0)``; numbers mixed with expressions become ``Const`` automatically."""

    __slots__ = ("value",)

    def __init__(self, value: Number) -> None:
        if not isinstance(value, Real):
            raise TypeError(f"Const holds a real number, got {type(value).__name__}: {value!r}")
        super().__init__()
        self.value = float(value)

    @property
    def precedence(self) -> int:  # type: ignore[override]
        return _UNARY if self.value < 0 else _ATOM

    def _evaluate(self, values: list[Any], env: dict[str, Any]) -> float:
        return self.value

    def _derivative(self, var: str, derivatives: list[Expr]) -> Expr:
        return ZERO  # d c/dx = 0

    def _format(self, parts: list[str]) -> str:
        return _format_number(self.value)

    def _latex(self, parts: list[str]) -> str:
        return _format_number(self.value)

    def _to_sympy(self, parts: list[Any]) -> Any:
        import sympy

        return (
            sympy.Integer(int(self.value)) if self.value.is_integer() else sympy.Float(self.value)
        )


class Var(Expr):
    """A variable, by name: ``Var("x")`` (or :func:`var`)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a variable name must be an identifier such as 'x', got {name!r}")
        super().__init__()
        self.name = name

    def _evaluate(self, values: list[Any], env: dict[str, Any]) -> Any:
        if self.name not in env:
            raise NameError(f"no value given for variable {self.name!r}; pass {self.name}=...")
        return env[self.name]

    def _derivative(self, var: str, derivatives: list[Expr]) -> Expr:
        return ONE if self.name == var else ZERO  # dx/dx = 1, dy/dx = 0

    def _format(self, parts: list[str]) -> str:
        return self.name

    def _latex(self, parts: list[str]) -> str:
        head, _, tail = self.name.partition("_")
        return f"{head}_{{{tail}}}" if tail else self.name

    def _to_sympy(self, parts: list[Any]) -> Any:
        import sympy

        return sympy.Symbol(self.name)


ZERO, ONE = Const(0.0), Const(1.0)


def var(name: str) -> Var:
    """A variable: ``var("x")`` is ``Var("x")``."""
    return Var(name)


def as_expr(x: Expr | Number) -> Expr:
    """An expression as it is; a number as a :class:`Const`."""
    if isinstance(x, Expr):
        return x
    if isinstance(x, Real):
        return Const(x)
    raise TypeError(f"cannot use {type(x).__name__} {x!r} in an expression")


# --------------------------------------------------------------------------- arithmetic


class Add(Expr):
    """``a + b``."""

    __slots__ = ()
    precedence = _SUM

    def _evaluate(self, values: list[Any], env: dict[str, Any]) -> Any:
        return values[0] + values[1]

    def _derivative(self, var: str, derivatives: list[Expr]) -> Expr:
        da, db = derivatives
        return da + db  # (a + b)' = a' + b'

    def _format(self, parts: list[str]) -> str:
        a, b = self._parenthesize(parts)
        return f"{a} + {b}"

    def _latex(self, parts: list[str]) -> str:
        a, b = self._parenthesize(parts, r"\left(", r"\right)")
        return f"{a} + {b}"

    def _to_sympy(self, parts: list[Any]) -> Any:
        return parts[0] + parts[1]


class Sub(Expr):
    """``a - b``."""

    __slots__ = ()
    precedence = _SUM

    def _evaluate(self, values: list[Any], env: dict[str, Any]) -> Any:
        return values[0] - values[1]

    def _derivative(self, var: str, derivatives: list[Expr]) -> Expr:
        da, db = derivatives
        return da - db  # (a - b)' = a' - b'

    def _needs_parentheses(self, position: int, child: Expr) -> bool:
        return child.precedence < self.precedence + position  # a - (b + c)

    def _format(self, parts: list[str]) -> str:
        a, b = self._parenthesize(parts)
        return f"{a} - {b}"

    def _latex(self, parts: list[str]) -> str:
        a, b = self._parenthesize(parts, r"\left(", r"\right)")
        return f"{a} - {b}"

    def _to_sympy(self, parts: list[Any]) -> Any:
        return parts[0] - parts[1]


class Mul(Expr):
    """``a * b``."""

    __slots__ = ()
    precedence = _PRODUCT

    def _evaluate(self, values: list[Any], env: dict[str, Any]) -> Any:
        return values[0] * values[1]

    def _derivative(self, var: str, derivatives: list[Expr]) -> Expr:
        a, b = self.children
        da, db = derivatives
        return da * b + a * db  # product rule

    def _needs_parentheses(self, position: int, child: Expr) -> bool:
        return child.precedence < self.precedence + position  # show a * (b * c) as built

    def _format(self, parts: list[str]) -> str:
        a, b = self._parenthesize(parts)
        return f"{a} * {b}"

    def _latex(self, parts: list[str]) -> str:
        a, b = self._parenthesize(parts, r"\left(", r"\right)")
        return rf"{a} \cdot {b}"

    def _to_sympy(self, parts: list[Any]) -> Any:
        return parts[0] * parts[1]


class Div(Expr):
    """``a / b``."""

    __slots__ = ()
    precedence = _PRODUCT

    def _evaluate(self, values: list[Any], env: dict[str, Any]) -> Any:
        return values[0] / values[1]

    def _derivative(self, var: str, derivatives: list[Expr]) -> Expr:
        a, b = self.children
        da, db = derivatives
        return (da * b - a * db) / b**2  # quotient rule

    def _needs_parentheses(self, position: int, child: Expr) -> bool:
        return child.precedence < self.precedence + position  # a / (b * c)

    def _format(self, parts: list[str]) -> str:
        a, b = self._parenthesize(parts)
        return f"{a} / {b}"

    def _latex(self, parts: list[str]) -> str:
        return rf"\frac{{{parts[0]}}}{{{parts[1]}}}"

    def _to_sympy(self, parts: list[Any]) -> Any:
        return parts[0] / parts[1]


class Neg(Expr):
    """``-a``."""

    __slots__ = ()
    precedence = _UNARY

    def _evaluate(self, values: list[Any], env: dict[str, Any]) -> Any:
        return -values[0]

    def _derivative(self, var: str, derivatives: list[Expr]) -> Expr:
        return -derivatives[0]  # (-a)' = -a'

    def _needs_parentheses(self, position: int, child: Expr) -> bool:
        return child.precedence <= self.precedence  # -(a * b), -(-a)

    def _format(self, parts: list[str]) -> str:
        return f"-{self._parenthesize(parts)[0]}"

    def _latex(self, parts: list[str]) -> str:
        (a,) = self._parenthesize(parts, r"\left(", r"\right)")
        return f"-{a}"

    def _to_sympy(self, parts: list[Any]) -> Any:
        return -parts[0]


class Pow(Expr):
    """``a ** k`` with a number exponent ``k`` (integer or real)."""

    __slots__ = ("exponent",)
    precedence = _POWER

    def __init__(self, base: Expr, exponent: Number) -> None:
        if not isinstance(exponent, Real):
            raise TypeError(f"Pow needs a number exponent, got {exponent!r}")
        super().__init__(base)
        self.exponent = int(exponent) if float(exponent).is_integer() else float(exponent)

    def _evaluate(self, values: list[Any], env: dict[str, Any]) -> Any:
        return values[0] ** self.exponent

    def _derivative(self, var: str, derivatives: list[Expr]) -> Expr:
        (a,), (da,) = self.children, derivatives
        k = self.exponent
        return k * a ** (k - 1) * da  # power rule

    def _needs_parentheses(self, position: int, child: Expr) -> bool:
        return child.precedence <= self.precedence

    def _format(self, parts: list[str]) -> str:
        return f"{self._parenthesize(parts)[0]}**{_format_number(self.exponent)}"

    def _latex(self, parts: list[str]) -> str:
        base = self._parenthesize(parts, r"\left(", r"\right)")[0]
        return f"{{{base}}}^{{{_format_number(self.exponent)}}}"

    def _to_sympy(self, parts: list[Any]) -> Any:
        import sympy

        k = self.exponent
        return parts[0] ** (sympy.Integer(k) if isinstance(k, int) else sympy.Float(k))


# --------------------------------------------------------------------------- functions


class Function(Expr):
    """A function of one expression; subclasses give its name, value and derivative."""

    __slots__ = ()
    name: ClassVar[str] = ""
    latex_name: ClassVar[str] = ""

    def _evaluate(self, values: list[Any], env: dict[str, Any]) -> Any:
        x = values[0]
        return self._value(float(x)) if isinstance(x, Real) else getattr(x, self.name)()

    def _value(self, x: float) -> float:
        raise NotImplementedError

    def _derivative(self, var: str, derivatives: list[Expr]) -> Expr:
        return self._outer_derivative() * derivatives[0]  # chain rule: f(a)' = f'(a) a'

    def _outer_derivative(self) -> Expr:
        raise NotImplementedError

    def _format(self, parts: list[str]) -> str:
        return f"{self.name}({parts[0]})"

    def _latex(self, parts: list[str]) -> str:
        return rf"{self.latex_name}\left({parts[0]}\right)"

    def _to_sympy(self, parts: list[Any]) -> Any:
        import sympy

        return getattr(sympy, self.name)(parts[0])


class Exp(Function):
    """:math:`e^a`; :math:`(e^a)' = e^a\\,a'` (the node itself is its derivative)."""

    __slots__ = ()
    name = "exp"

    def _value(self, x: float) -> float:
        return math.exp(x)

    def _outer_derivative(self) -> Expr:
        return self

    def _latex(self, parts: list[str]) -> str:
        return f"e^{{{parts[0]}}}"


class Log(Function):
    """:math:`\\ln a`; :math:`(\\ln a)' = a'/a`."""

    __slots__ = ()
    name, latex_name = "log", r"\ln"

    def _value(self, x: float) -> float:
        if x <= 0:
            raise ValueError(f"log needs a positive number, got {x}")
        return math.log(x)

    def _derivative(self, var: str, derivatives: list[Expr]) -> Expr:
        return derivatives[0] / self.children[0]


class Sin(Function):
    """:math:`\\sin a`; :math:`(\\sin a)' = \\cos(a)\\,a'`."""

    __slots__ = ()
    name, latex_name = "sin", r"\sin"

    def _value(self, x: float) -> float:
        return math.sin(x)

    def _outer_derivative(self) -> Expr:
        return Cos(self.children[0])


class Cos(Function):
    """:math:`\\cos a`; :math:`(\\cos a)' = -\\sin(a)\\,a'`."""

    __slots__ = ()
    name, latex_name = "cos", r"\cos"

    def _value(self, x: float) -> float:
        return math.cos(x)

    def _outer_derivative(self) -> Expr:
        return -Sin(self.children[0])


class Tanh(Function):
    """:math:`\\tanh a`; :math:`(\\tanh a)' = (1 - \\tanh^2 a)\\,a'`."""

    __slots__ = ()
    name, latex_name = "tanh", r"\tanh"

    def _value(self, x: float) -> float:
        return math.tanh(x)

    def _outer_derivative(self) -> Expr:
        return 1 - self**2


class Sigmoid(Function):
    """:math:`\\sigma(a) = 1/(1+e^{-a})`; :math:`\\sigma(a)' = \\sigma(a)\\,\\sigma(-a)\\,a'`.

    That is :math:`\\sigma(a)(1-\\sigma(a))\\,a'`, written so that no :math:`1 - \\sigma` cancels.
    """

    __slots__ = ()
    name, latex_name = "sigmoid", r"\sigma"

    def _value(self, x: float) -> float:
        return stable_sigmoid(x)

    def _outer_derivative(self) -> Expr:
        return self * Sigmoid(-self.children[0])  # = sigma (1 - sigma), without cancellation

    def _to_sympy(self, parts: list[Any]) -> Any:
        import sympy

        return 1 / (1 + sympy.exp(-parts[0]))


def exp(x: Expr | Number) -> Expr:
    """:math:`e^x` of an expression (or a number, as a constant expression)."""
    return Exp(as_expr(x))


def log(x: Expr | Number) -> Expr:
    """:math:`\\ln x` of an expression."""
    return Log(as_expr(x))


def sin(x: Expr | Number) -> Expr:
    """:math:`\\sin x` of an expression."""
    return Sin(as_expr(x))


def cos(x: Expr | Number) -> Expr:
    """:math:`\\cos x` of an expression."""
    return Cos(as_expr(x))


def tanh(x: Expr | Number) -> Expr:
    """:math:`\\tanh x` of an expression."""
    return Tanh(as_expr(x))


def sigmoid(x: Expr | Number) -> Expr:
    """:math:`\\sigma(x) = 1/(1+e^{-x})` of an expression."""
    return Sigmoid(as_expr(x))


# --------------------------------------------------------------------------- walking


def postorder(expr: Expr) -> Iterator[Expr]:
    """Each distinct node of ``expr`` once, children before parents (no recursion)."""
    seen: set[int] = set()
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            yield node
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.children))


def _fold(expr: Expr, combine: Callable[[Expr, list[Any]], Any]) -> Any:
    """Compute ``combine(node, results of its children)`` for every node; return the root's."""
    results: dict[int, Any] = {}
    for node in postorder(expr):
        results[id(node)] = combine(node, [results[id(c)] for c in node.children])
    return results[id(expr)]


def evaluate(expr: Expr, **env: Any) -> Any:
    """The value of ``expr`` with each variable given by keyword.

    Variables may be numbers (the result is a float), or :class:`~autodiff_lib.forward.Dual` /
    :class:`~autodiff_lib.Value` objects (then the expression runs through that engine).

    Example:
        >>> evaluate(Var("x") ** 2 + 1, x=3)
        10.0
    """
    env = {name: float(v) if isinstance(v, Real) else v for name, v in env.items()}
    return _fold(expr, lambda node, values: node._evaluate(values, env))


def diff(expr: Expr, var: str | Var, simplify: bool = False) -> Expr:
    """The derivative of ``expr`` with respect to ``var``, by the rules of each node.

    The rules are applied as they are (``d(x*x)/dx`` is ``1 * x + x * 1``); pass
    ``simplify=True`` or call :func:`simplify` for a tidy result. A shared subexpression is
    differentiated once and its derivative shared, so the result is a DAG.

    Example:
        >>> x = Var("x")
        >>> str(diff(x * x, "x")), str(diff(x * x, "x", simplify=True))
        ('1 * x + x * 1', '2 * x')
    """
    name = var.name if isinstance(var, Var) else var
    if not isinstance(name, str):
        raise TypeError(f"differentiate with respect to a variable name or Var, got {var!r}")
    derivative = _fold(expr, lambda node, derivatives: node._derivative(name, derivatives))
    return _simplify(derivative) if simplify else derivative


def tree_size(expr: Expr) -> int:
    """The number of nodes of ``expr`` written out as a tree (shared nodes counted per use).

    Example:
        >>> x = Var("x"); s = x + 1
        >>> tree_size(s * s), dag_size(s * s)
        (7, 4)
    """
    return _fold(expr, lambda node, sizes: 1 + sum(sizes))


def dag_size(expr: Expr) -> int:
    """The number of distinct nodes of ``expr`` (each shared subexpression counted once)."""
    return sum(1 for _ in postorder(expr))


def depth(expr: Expr) -> int:
    """The number of nodes on the longest path from the root to a leaf."""
    return _fold(expr, lambda node, depths: 1 + max(depths, default=0))


def to_sympy(expr: Expr) -> Any:
    """The same expression in sympy, e.g. to compare with ``sympy.diff``.

    Example:
        >>> to_sympy(Var("x") ** 2 * 3)
        3*x**2
    """
    return _fold(expr, lambda node, parts: node._to_sympy(parts))


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


def _format_number(x: Number) -> str:
    if float(x).is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(float(x))


# --------------------------------------------------------------------------- simplification


def simplify(expr: Expr) -> Expr:
    """An equal, usually smaller expression.

    Rules, applied bottom-up: constant folding (``2 * 3`` -> ``6``, ``exp(0)`` -> ``1``);
    neutral elements (``x + 0``, ``x * 1``, ``x ** 1``); absorbing elements (``x * 0`` -> ``0``,
    ``x ** 0`` -> ``1``); collecting like terms (``x + 2 * x`` -> ``3 * x``, ``x - x`` -> ``0``)
    and like factors (``x * x`` -> ``x**2``, ``x / x`` -> ``1``); ``log(exp(a))`` -> ``a``.
    Equal subexpressions of the result are shared. Cost: each sum or product is rebuilt in
    canonical order at every level, so a chain of :math:`k` nested products costs about
    :math:`k^2` steps: instant for the course's expressions (hundreds of nodes), seconds for
    chains of several hundred factors.

    Example:
        >>> x = Var("x")
        >>> str(simplify(0 * x + 1 * (x + x) - x / 1))
        'x'
    """
    return _fold(expr, _Simplifier().rebuild)


_simplify = simplify  # ``diff`` has a parameter of that name


class _Simplifier:
    """Rebuilds an expression bottom-up in a canonical form, sharing equal subexpressions.

    ``make`` interns every node it builds (hash-consing): equal subexpressions become the same
    object, so like terms and like factors are found by identity, and ordering terms by when
    each was first built makes ``x * y`` and ``y * x`` the same product.
    """

    def __init__(self) -> None:
        self.interned: dict[tuple[Any, ...], Expr] = {}
        self.serial: dict[int, int] = {}

    def make(self, cls: type[Expr], *children: Expr, data: Any = None) -> Expr:
        key = (cls, data, *(id(c) for c in children))
        node = self.interned.get(key)
        if node is None:
            if cls is Const:
                node = Const(data)
            elif cls is Var:
                node = Var(data)
            elif cls is Pow:
                node = Pow(children[0], data)
            else:
                node = cls(*children)
            self.interned[key] = node
            self.serial[id(node)] = len(self.serial)
        return node

    def const(self, value: float) -> Expr:
        return self.make(Const, data=float(value) + 0.0)  # + 0.0 turns -0.0 into 0.0

    def rebuild(self, node: Expr, children: list[Expr]) -> Expr:
        if isinstance(node, Const):
            return self.const(node.value)
        if isinstance(node, Var):
            return self.make(Var, data=node.name)
        if all(isinstance(c, Const) for c in children):
            folded = _try_fold(node, children)
            if folded is not None:
                return self.const(folded)
        if isinstance(node, Add | Sub | Neg):
            sign = {Add: (1, 1), Sub: (1, -1), Neg: (-1,)}[type(node)]
            return self.sum_of(
                [(s, c) for s, c in zip(sign, children, strict=True)]  # signed terms
            )
        if isinstance(node, Mul | Div | Pow):
            exponents = {Mul: (1, 1), Div: (1, -1), Pow: (getattr(node, "exponent", 1),)}
            return self.product_of(list(zip(exponents[type(node)], children, strict=True)))
        if isinstance(node, Log) and isinstance(children[0], Exp):
            return children[0].children[0]  # log(exp(a)) = a
        return self.make(type(node), *children)

    # ---- sums: a constant plus coefficient * term
    def sum_of(self, signed: list[tuple[float, Expr]]) -> Expr:
        constant = 0.0
        coefficients: dict[int, float] = {}
        terms: dict[int, Expr] = {}
        for coefficient, term in self.flatten_sum(signed):
            if isinstance(term, Const):
                constant += coefficient * term.value
                continue
            coefficients[id(term)] = coefficients.get(id(term), 0.0) + coefficient
            terms[id(term)] = term
        ordered = sorted(terms.values(), key=lambda t: self.serial[id(t)])
        signed_terms = [(coefficients[id(t)], t) for t in ordered if coefficients[id(t)] != 0]
        if constant != 0:
            signed_terms.append((constant, ONE))
        if not signed_terms:
            return self.const(0.0)
        # start with a positive term if there is one: 1 - x rather than -x + 1
        first = next((i for i, (c, _) in enumerate(signed_terms) if c > 0), 0)
        signed_terms.insert(0, signed_terms.pop(first))
        coefficient, term = signed_terms[0]
        result = self.scaled(coefficient, term)
        for coefficient, term in signed_terms[1:]:
            magnitude = self.scaled(abs(coefficient), term)
            result = self.make(Add if coefficient > 0 else Sub, result, magnitude)
        return result

    def flatten_sum(self, signed: list[tuple[float, Expr]]) -> Iterator[tuple[float, Expr]]:
        """Split nested sums into (coefficient, term) pairs; ``3 * t`` gives (3, t)."""
        stack = list(signed)
        while stack:
            coefficient, node = stack.pop()
            if isinstance(node, Add):
                stack.extend((coefficient, c) for c in node.children)
            elif isinstance(node, Sub):
                stack.extend([(coefficient, node.children[0]), (-coefficient, node.children[1])])
            elif isinstance(node, Neg):
                stack.append((-coefficient, node.children[0]))
            elif isinstance(node, Mul) and isinstance(_spine(node)[0], Const):
                factors = _spine(node)
                stack.append((coefficient * factors[0].value, self.chain(Mul, factors[1:])))
            else:
                yield coefficient, node

    def scaled(self, coefficient: float, term: Expr) -> Expr:
        if isinstance(term, Const):
            return self.const(coefficient * term.value)  # the constant term: 3, not 3 * 1
        if coefficient == 1:
            return term
        if coefficient == -1:
            return self.make(Neg, term)
        return self.chain(Mul, [self.const(coefficient), *_spine(term)])  # 2 * x * y

    # ---- products: a coefficient times bases raised to exponents
    def product_of(self, powered: list[tuple[float, Expr]]) -> Expr:
        coefficient = 1.0
        exponents: dict[int, float] = {}
        bases: dict[int, Expr] = {}
        for exponent, base in self.flatten_product(powered):
            if isinstance(base, Const) and (base.value > 0 or float(exponent).is_integer()):
                if base.value != 0 or exponent > 0:  # leave 0 ** -k (undefined) alone
                    coefficient *= base.value**exponent
                    continue
            exponents[id(base)] = exponents.get(id(base), 0.0) + exponent
            bases[id(base)] = base
        if coefficient == 0:
            return self.const(0.0)
        ordered = sorted(bases.values(), key=lambda b: self.serial[id(b)])
        numerator = [self.power(b, exponents[id(b)]) for b in ordered if exponents[id(b)] > 0]
        denominator = [self.power(b, -exponents[id(b)]) for b in ordered if exponents[id(b)] < 0]
        body = self.chain(Mul, numerator) if numerator else None
        if denominator:
            body = self.make(Div, body or self.const(1.0), self.chain(Mul, denominator))
        if body is None:
            return self.const(coefficient)
        return self.scaled(coefficient, body)

    def flatten_product(self, powered: list[tuple[float, Expr]]) -> Iterator[tuple[float, Expr]]:
        """Split nested products into (exponent, base) pairs; ``-a`` gives (1, -1) and (1, a)."""
        stack = list(powered)
        while stack:
            exponent, node = stack.pop()
            integer = float(exponent).is_integer()  # (a b)^k = a^k b^k needs an integer k
            if integer and isinstance(node, Mul):
                stack.extend((exponent, c) for c in node.children)
            elif integer and isinstance(node, Div):
                stack.extend([(exponent, node.children[0]), (-exponent, node.children[1])])
            elif integer and isinstance(node, Neg):
                stack.extend([(exponent, self.const(-1.0)), (exponent, node.children[0])])
            elif integer and isinstance(node, Pow):
                stack.append((exponent * node.exponent, node.children[0]))
            else:
                yield exponent, node

    def power(self, base: Expr, exponent: float) -> Expr:
        return base if exponent == 1 else self.make(Pow, base, data=exponent)

    def chain(self, cls: type[Expr], items: list[Expr]) -> Expr:
        result = items[0]
        for item in items[1:]:
            result = self.make(cls, result, item)
        return result


def _spine(node: Expr) -> list[Expr]:
    """The factors of a left-nested product: ``(a * b) * c`` gives ``[a, b, c]``."""
    factors: list[Expr] = []
    while isinstance(node, Mul):
        factors.append(node.children[1])
        node = node.children[0]
    factors.append(node)
    return factors[::-1]


def _try_fold(node: Expr, children: list[Expr]) -> float | None:
    """The value of a node whose children are all constants, or None if it is undefined."""
    try:
        value = node._evaluate([c.value for c in children], {})  # type: ignore[attr-defined]
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return float(value) if isinstance(value, Real) else None
