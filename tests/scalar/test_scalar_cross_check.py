"""The same random programs through every engine: Dual, Value, symbolic and HIPS autograd.

A program is a list of steps over registers (the inputs first); each step applies one operation
to earlier registers, so nodes are reused freely (diamonds, an input reaching the output along
paths of different lengths). Each engine computes the full gradient; all must agree to 1e-9
relative in float64, and with central differences to finite-difference accuracy.
"""

from __future__ import annotations

import math

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad as autograd_grad
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autodiff_lib.scalar.forward as fwd
import autodiff_lib.scalar.symbolic as sym
from autodiff_lib import Value
from autodiff_lib.scalar.numerical import gradient as numerical_gradient
from autodiff_lib.scalar.numerical import relative_error

# functions for numbers, Dual, Value and symbolic expressions (forward dispatches on the type)
LIBRARY = {name: getattr(fwd, name) for name in ("exp", "log", "sin", "cos", "tanh", "sigmoid")}
AUTOGRAD = {name: getattr(anp, name) for name in ("exp", "log", "sin", "cos", "tanh")}
AUTOGRAD["sigmoid"] = lambda a: 1 / (1 + anp.exp(-a))

BINARY = ["add", "sub", "mul", "div", "pow"]
UNARY = ["exp", "log", "sin", "cos", "tanh", "sigmoid", "neg", "square", "cube", "sqrt", "rpow"]


def apply(op: str, a, b, f: dict):
    """One step; domains are kept safe by construction (denominators and logs stay positive)."""
    return {
        "add": lambda: a + b,
        "sub": lambda: a - b,
        "mul": lambda: a * b,
        "div": lambda: a / (b * b + 0.5),
        "pow": lambda: (a * a + 0.5) ** f["tanh"](b),  # Value ** Value, Dual ** Dual
        "exp": lambda: f["exp"](f["tanh"](a) * 2.0),
        "log": lambda: f["log"](a * a + 0.25),
        "sin": lambda: f["sin"](a),
        "cos": lambda: 3.0 * f["cos"](a),
        "tanh": lambda: f["tanh"](a),
        "sigmoid": lambda: f["sigmoid"](a),
        "neg": lambda: -a,
        "square": lambda: a**2,
        "cube": lambda: a**3,
        "sqrt": lambda: (a * a + 1.0) ** 0.5,
        "rpow": lambda: 2.0 ** f["tanh"](a),
    }[op]()


def run(program, inputs, f: dict):
    registers = list(inputs)
    for op, i, j in program:
        registers.append(apply(op, registers[i], registers[j], f))
    return registers[-1] * registers[0] + registers[-1]


@st.composite
def programs(draw):
    n_inputs = draw(st.integers(1, 3))
    x = draw(st.lists(st.floats(-2.0, 2.0), min_size=n_inputs, max_size=n_inputs))
    program = []
    for k in range(draw(st.integers(1, 10))):
        op = draw(st.sampled_from(BINARY + UNARY))
        i = draw(st.integers(0, n_inputs + k - 1))
        j = draw(st.integers(0, n_inputs + k - 1))
        program.append((op, i, j))
    return program, x


def gradients(program, x) -> dict[str, np.ndarray]:
    def on(p):
        return run(program, p, LIBRARY)

    values = [Value(xi) for xi in x]
    on(values).backward()
    names = [f"x{i}" for i in range(len(x))]
    expr = on([sym.Var(name) for name in names])
    env = dict(zip(names, x, strict=True))
    return {
        "Value": np.array([v.grad for v in values]),
        "Dual": fwd.gradient_forward(on, x),
        "symbolic": np.array([sym.diff(expr, name).evaluate(**env) for name in names]),
        "symbolic, simplified": np.array(
            [sym.simplify(sym.diff(expr, name)).evaluate(**env) for name in names]
        ),
        "autograd": autograd_gradient(program, x),
    }


def autograd_gradient(program, x) -> np.ndarray:
    with np.errstate(all="ignore"):  # cases that overflow are discarded by the caller
        return autograd_grad(lambda v: run(program, [v[i] for i in range(len(x))], AUTOGRAD))(
            np.array(x, dtype=float)
        )


@settings(max_examples=100)
@given(programs())
def test_every_engine_agrees_on_random_programs(case) -> None:
    program, x = case
    value = run(program, x, LIBRARY)
    assume(math.isfinite(value) and abs(value) < 1e8)
    results = gradients(program, x)
    assume(np.all(np.abs(results["Value"]) < 1e8))
    reference = results.pop("Value")
    for engine, g in results.items():
        # 1e-9 relative; where a gradient is a cancellation of O(1) terms down to almost 0,
        # rounding in the order of summation leaves about 1e-16 absolute: allow 1e-12 there
        agree = (relative_error(g, reference) < 1e-9) | (np.abs(g - reference) < 1e-12)
        assert np.all(agree), f"{engine} vs Value: {g} vs {reference} ({program}, x = {x})"
    central = numerical_gradient(lambda v: run(program, list(v), LIBRARY), x)
    assert np.allclose(central, reference, rtol=1e-5, atol=1e-5 * (1 + np.max(np.abs(reference))))


def test_forward_values_agree_too() -> None:
    program = [("mul", 0, 1), ("sigmoid", 2, 0), ("pow", 3, 1), ("log", 4, 4), ("sub", 5, 0)]
    x = [0.7, -1.3]
    plain = run(program, x, LIBRARY)
    assert run(program, [Value(t) for t in x], LIBRARY).data == pytest.approx(plain, rel=1e-14)
    assert run(program, [fwd.Dual(t) for t in x], LIBRARY).value == pytest.approx(plain, rel=1e-14)
    expr = run(program, [sym.Var("a"), sym.Var("b")], LIBRARY)
    assert expr.evaluate(a=0.7, b=-1.3) == pytest.approx(plain, rel=1e-14)
    assert float(run(program, np.array(x), AUTOGRAD)) == pytest.approx(plain, rel=1e-14)


def deck_f(x, y):
    return (x + y) * (x * y)


def test_deck_example_in_every_engine() -> None:
    x, y = Value(2.0), Value(3.0)
    f = deck_f(x, y)
    f.backward()
    assert (f.data, x.grad, y.grad) == (30.0, 21.0, 16.0)

    assert fwd.jvp(lambda p: deck_f(*p), [2.0, 3.0], [1.0, 0.0]) == (30.0, 21.0)
    assert fwd.gradient_forward(lambda p: deck_f(*p), [2.0, 3.0]).tolist() == [21.0, 16.0]

    expr = deck_f(sym.Var("x"), sym.Var("y"))
    assert expr.evaluate(x=2, y=3) == 30.0
    assert [sym.diff(expr, v).evaluate(x=2, y=3) for v in "xy"] == [21.0, 16.0]

    g = autograd_grad(lambda v: deck_f(v[0], v[1]))(np.array([2.0, 3.0]))
    assert g.tolist() == [21.0, 16.0]

    assert numerical_gradient(lambda v: deck_f(*v), [2.0, 3.0]) == pytest.approx([21.0, 16.0])
