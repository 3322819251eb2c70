r"""Expression nodes and the walks over them: evaluation and differentiation by rules.

An expression is a tree (in fact a DAG: subexpressions can be shared) of nodes: constants,
variables, ``+ - * /``, powers with a number exponent, and the functions ``exp, log, sin, cos,
tanh, sigmoid``. Python's operators build them::

    >>> x, y = Var("x"), Var("y")
    >>> f = (x + y) * (x * y)
    >>> str(f)
    '(x + y) * (x * y)'
    >>> f.evaluate(x=2, y=3)
    30.0
    >>> str(diff(f, "x"))
    '(1 + 0) * (x * y) + (x + y) * (1 * y + x * 0)'

Every node class holds, next to each other, its own rule for each job: ``_evaluate`` (its value
from its children's values), ``_derivative`` (the differentiation rule: its derivative from its
children and their derivatives), ``_format`` and ``_latex`` (printing). The module's functions
(:func:`evaluate`, :func:`diff`, and :func:`fold` that both are made of) walk the expression
once, children before parents, without recursion, visiting a shared node once.
Simplification is in :mod:`.simplification`, the measures of expression swell in :mod:`.swell`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from numbers import Real
from typing import Any, ClassVar

from autodiff_lib.core.rules import stable_sigmoid
from autodiff_lib.core.topological import topological_order

__all__ = [
    "Expr",
    "Const",
    "Var",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Pow",
    "Function",
    "Exp",
    "Log",
    "Sin",
    "Cos",
    "Tanh",
    "Sigmoid",
    "var",
    "as_expr",
    "exp",
    "log",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "postorder",
    "fold",
    "evaluate",
    "diff",
    "format_number",
    "Number",
    "ZERO",
    "ONE",
]

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
    def diff(self, var: str | Var) -> Expr:
        """The derivative with respect to ``var``; see :func:`diff`."""
        return diff(self, var)

    def evaluate(self, **env: Any) -> Any:
        """The value with variables bound by keyword; see :func:`evaluate`."""
        return evaluate(self, **env)

    def latex(self) -> str:
        """LaTeX source of the expression (without dollar signs)."""
        return fold(self, lambda node, parts: node._latex(parts))

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def __str__(self) -> str:
        return fold(self, lambda node, parts: node._format(parts))

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
        return format_number(self.value)

    def _latex(self, parts: list[str]) -> str:
        return format_number(self.value)

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
        return f"{self._parenthesize(parts)[0]}**{format_number(self.exponent)}"

    def _latex(self, parts: list[str]) -> str:
        base = self._parenthesize(parts, r"\left(", r"\right)")[0]
        return f"{{{base}}}^{{{format_number(self.exponent)}}}"

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
    """Each distinct node of ``expr`` once, children before parents (no recursion).

    The same walk as both engines' backward order (:func:`~autodiff_lib.core.topological_order`),
    left children first.
    """
    return iter(topological_order(expr, lambda node: reversed(node.children)))


def fold(expr: Expr, combine: Callable[[Expr, list[Any]], Any]) -> Any:
    """Compute ``combine(node, results of its children)`` for every node; return the root's."""
    results: dict[int, Any] = {}
    for node in postorder(expr):
        results[id(node)] = combine(node, [results[id(c)] for c in node.children])
    return results[id(expr)]


def evaluate(expr: Expr, **env: Any) -> Any:
    """The value of ``expr`` with each variable given by keyword.

    Variables may be numbers (the result is a float), or
    :class:`~autodiff_lib.scalar.forward.Dual` or :class:`~autodiff_lib.Value` objects (then the
    expression runs through that engine).

    Example:
        >>> evaluate(Var("x") ** 2 + 1, x=3)
        10.0
    """
    env = {name: float(v) if isinstance(v, Real) else v for name, v in env.items()}
    return fold(expr, lambda node, values: node._evaluate(values, env))


def diff(expr: Expr, var: str | Var) -> Expr:
    """The derivative of ``expr`` with respect to ``var``, by the rules of each node.

    The rules are applied as they are (``d(x*x)/dx`` is ``1 * x + x * 1``); call
    :func:`~autodiff_lib.scalar.symbolic.simplify` for a tidy result. A shared subexpression is
    differentiated once and its derivative shared, so the result is a DAG.

    Example:
        >>> from autodiff_lib.scalar.symbolic import simplify
        >>> x = Var("x")
        >>> str(diff(x * x, "x")), str(simplify(diff(x * x, "x")))
        ('1 * x + x * 1', '2 * x')
    """
    name = var.name if isinstance(var, Var) else var
    if not isinstance(name, str):
        raise TypeError(f"differentiate with respect to a variable name or Var, got {var!r}")
    return fold(expr, lambda node, derivatives: node._derivative(name, derivatives))


def format_number(x: Number) -> str:
    if float(x).is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(float(x))
