"""Simplification: an equal, usually smaller expression, built bottom-up in a canonical form.

Kept apart from the rules of :mod:`.nodes` on purpose: :func:`~.nodes.diff` applies the rules
mechanically (lesson 02's point: that is where expression swell comes from), and tidying the
result is a separate step.
"""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Real
from typing import Any

from autodiff_lib.scalar.symbolic.nodes import (
    ONE,
    Add,
    Const,
    Div,
    Exp,
    Expr,
    Log,
    Mul,
    Neg,
    Pow,
    Sub,
    Var,
    fold,
)

__all__ = ["simplify"]


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
    return fold(expr, _Simplifier().rebuild)


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
