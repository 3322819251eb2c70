"""autodiff_lib.scalar.symbolic: rules against sympy, simplification, printing, swell measures."""

from __future__ import annotations

import math

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_lib.scalar.symbolic as sym
from autodiff_lib.scalar.forward import Dual
from autodiff_lib.scalar.symbolic import (
    Const,
    Var,
    cos,
    diff,
    exp,
    log,
    sigmoid,
    simplify,
    sin,
    tanh,
)

x, y = Var("x"), Var("y")
X, Y = sympy.symbols("x y")

EXPRESSIONS = [
    x * x,
    (x + y) * (x * y),
    x**3 - 2 * x / y,
    exp(x * y) + log(x + 3),
    sin(x) * cos(y) - tanh(x * y),
    sigmoid(2 * x - y),
    (x + 1) ** 0.5 / (y * y + 1),
    x**-2 + 3 ** (x / 4),
    -x * (y - x) ** 2,
    x**y,
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
@pytest.mark.parametrize("variable", ["x", "y"])
def test_derivatives_agree_with_sympy_structurally(expr, variable) -> None:
    ours = sym.to_sympy(diff(expr, variable))
    theirs = sympy.diff(sym.to_sympy(expr), sympy.Symbol(variable))
    assert sympy.simplify(ours - theirs) == 0


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
@settings(max_examples=20)
@given(a=st.floats(0.3, 2.0), b=st.floats(0.3, 2.0))
def test_derivatives_and_simplified_forms_agree_with_sympy_numerically(expr, a, b) -> None:
    reference = sympy.lambdify((X, Y), sympy.diff(sym.to_sympy(expr), X))(a, b)
    raw = diff(expr, "x")
    assert raw.evaluate(x=a, y=b) == pytest.approx(reference, rel=1e-10, abs=1e-12)
    assert simplify(raw).evaluate(x=a, y=b) == pytest.approx(reference, rel=1e-10, abs=1e-12)
    assert simplify(expr).evaluate(x=a, y=b) == pytest.approx(
        expr.evaluate(x=a, y=b), rel=1e-12, abs=1e-12
    )


def test_deck_example_symbolically() -> None:
    f = (x + y) * (x * y)
    assert f.evaluate(x=2, y=3) == 30.0
    assert diff(f, "x").evaluate(x=2, y=3) == 21.0
    assert diff(f, y).evaluate(x=2, y=3) == 16.0


def test_diff_applies_the_rules_literally_and_simplify_tidies() -> None:
    assert str(diff(x * x, "x")) == "1 * x + x * 1"
    assert str(simplify(x.diff("x"))) == "1"
    assert str(simplify(diff(x * x, "x"))) == "2 * x"
    assert str(diff(y, "x")) == "0"
    assert str(diff(sin(x), "x")) == "cos(x) * 1"


@pytest.mark.parametrize(
    "expr, expected",
    [
        (Const(2) * 3 + 4, "10"),
        (x + 0, "x"),
        (0 + x * 1, "x"),
        (x * 0 + y, "y"),
        (x**1, "x"),
        (x**0, "1"),
        (x - x, "0"),
        (x + 2 * x - y + y, "3 * x"),
        (x * x * x, "x**3"),
        (x / x, "1"),
        (x * y - y * x, "0"),
        (sym.Neg(-x), "x"),
        (exp(Const(0)), "1"),
        (log(exp(x + y)), "x + y"),
        (2 * (x + y) - 2 * y, "2 * x"),
        (1 - sigmoid(x) + 0, "1 - sigmoid(x)"),
        (x**2 / x**5, "1 / x**3"),
        (x + 3, "x + 3"),
        (2 * x - 5 + x, "3 * x - 5"),
        (-x - 2, "-x - 2"),
    ],
)
def test_simplify_rules(expr, expected) -> None:
    assert str(simplify(expr)) == expected


def test_simplify_keeps_undefined_constants_unfolded() -> None:
    assert str(simplify(log(Const(-1.0)) + x)) == "log(-1) + x"
    assert "/ 0" in str(simplify(x / Const(0.0)))


def test_simplify_does_not_merge_real_powers_of_products() -> None:
    expr = simplify((x * y) ** 0.5)
    assert str(expr) == "(x * y)**0.5"
    assert expr.evaluate(x=-2.0, y=-8.0) == 4.0  # x**0.5 * y**0.5 would be complex here


def test_printing_and_latex() -> None:
    assert str((x + y) * (x * y)) == "(x + y) * (x * y)"
    assert str(x - (y - 1)) == "x - (y - 1)"
    assert str(x / (y * 2)) == "x / (y * 2)"
    assert str(-(x + y)) == "-(x + y)"
    assert str((-x) ** 2) == "(-x)**2"
    assert str(x * -2) == "x * -2"
    assert str(x**0.5) == "x**0.5"
    assert (x / y).latex() == r"\frac{x}{y}"
    assert sigmoid(x).latex() == r"\sigma\left(x\right)"
    assert exp(x**2).latex() == "e^{{x}^{2}}"
    assert Var("x_1").latex() == "x_{1}"
    assert (x * (y + 1))._repr_latex_() == r"$x \cdot \left(y + 1\right)$"
    assert repr(x + 1) == "<Add: x + 1>"


def test_printing_round_trips_through_python() -> None:
    namespace = {"exp": math.exp, "log": math.log, "sin": math.sin, "cos": math.cos}
    namespace |= {"tanh": math.tanh, "sigmoid": lambda t: 1 / (1 + math.exp(-t))}
    for expr in EXPRESSIONS:
        for e in (expr, diff(expr, "x"), simplify(diff(expr, "y"))):
            value = eval(str(e), namespace | {"x": 0.7, "y": 1.3})  # noqa: S307
            assert value == pytest.approx(e.evaluate(x=0.7, y=1.3), rel=1e-12), str(e)


def test_evaluate_errors_and_other_number_types() -> None:
    with pytest.raises(NameError, match="'y'"):
        (x + y).evaluate(x=1.0)
    with pytest.raises(ValueError, match="positive"):
        log(x).evaluate(x=-1.0)
    with pytest.raises(TypeError):
        x + "1"
    with pytest.raises(ValueError, match="identifier"):
        Var("2x")
    out = (x * sin(x)).evaluate(x=Dual(0.5, 1.0))  # the same expression through dual numbers
    assert out.tangent == pytest.approx(math.sin(0.5) + 0.5 * math.cos(0.5))
    substituted = (x * x).evaluate(x=y + 1)  # or through expressions: substitution
    assert str(substituted) == "(y + 1) * (y + 1)"


def test_constructors_and_function_methods() -> None:
    assert str(sym.var("z") * 2) == "z * 2"
    assert str(x.exp() + x.tanh() - x.sigmoid()) == "exp(x) + tanh(x) - sigmoid(x)"
    assert str(2**x) == "exp(x * log(2))"


def test_logistic_map_tree_swells_exponentially_while_the_dag_stays_linear() -> None:
    tree, dag, derivative_tree, derivative_dag = [], [], [], []
    for n in range(1, 11):
        expr = sym.logistic_map(n)
        derivative = diff(expr, "x")
        tree.append(sym.tree_size(expr))
        dag.append(sym.dag_size(expr))
        derivative_tree.append(sym.tree_size(derivative))
        derivative_dag.append(sym.dag_size(derivative))
    assert dag == [5 * n + 1 for n in range(1, 11)]
    assert all(b / a > 1.9 for a, b in zip(tree, tree[1:], strict=False))  # doubles
    assert all(b / a > 2.0 for a, b in zip(derivative_tree, derivative_tree[1:], strict=False))
    steps = [b - a for a, b in zip(derivative_dag, derivative_dag[1:], strict=False)]
    assert max(steps) == min(steps)  # the derivative's DAG grows by a constant per step
    assert derivative_tree[-1] > 500 * derivative_dag[-1]


def test_logistic_map_values_and_derivative_are_right() -> None:
    expr = sym.logistic_map(5)

    def plain(t, n=5):
        for _ in range(n):
            t = 4 * t * (1 - t)
        return t

    assert expr.evaluate(x=0.3) == pytest.approx(plain(0.3), rel=1e-13)
    central = (plain(0.3 + 1e-7) - plain(0.3 - 1e-7)) / 2e-7
    assert diff(expr, "x").evaluate(x=0.3) == pytest.approx(central, rel=1e-5)


def test_product_of_factors_and_its_derivative() -> None:
    p = sym.product_of_factors(6)
    reference = sympy.prod([X + k for k in range(1, 7)])
    assert sympy.expand(sym.to_sympy(p) - reference) == 0
    assert sympy.expand(sym.to_sympy(diff(p, "x")) - sympy.diff(reference, X)) == 0
    sizes = [sym.tree_size(diff(sym.product_of_factors(n), "x")) for n in (5, 10, 20)]
    assert sizes[2] / sizes[1] > 3  # quadratic growth: doubling n about quadruples the tree


def test_deep_expressions_need_no_recursion() -> None:
    expr = sym.product_of_factors(3000)  # deeper than Python's recursion limit
    assert sym.depth(expr) > 3000
    assert sym.dag_size(expr) == 1 + 3000 + 2999 + 3000  # x, the constants, + and *
    assert len(str(expr)) > 3000
    nested = x
    for _ in range(3000):
        nested = sin(nested)
    derivative = diff(nested, "x")
    t, slope = 0.5, 1.0
    for _ in range(3000):
        slope *= math.cos(t)
        t = math.sin(t)
    assert nested.evaluate(x=0.5) == pytest.approx(t, rel=1e-12)
    assert derivative.evaluate(x=0.5) == pytest.approx(slope, rel=1e-9)
    short = x
    for _ in range(200):  # simplify re-canonicalises each nested product: keep this one shorter
        short = sin(short)
    t, slope = 0.5, 1.0
    for _ in range(200):
        slope *= math.cos(t)
        t = math.sin(t)
    assert simplify(diff(short, "x")).evaluate(x=0.5) == pytest.approx(slope, rel=1e-12)
