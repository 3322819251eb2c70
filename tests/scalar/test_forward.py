"""autodiff_lib.scalar.forward: dual-number rules, JVPs, forward and reverse Jacobians, passes."""

from __future__ import annotations

import cmath
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_lib.scalar.forward as fwd
from autodiff_lib import Value
from autodiff_lib.scalar.forward import Dual
from autodiff_lib.scalar.numerical import complex_step, relative_error


def sigmoid_complex(z: complex) -> complex:
    return 1 / (1 + cmath.exp(-z))


# name: (function on Duals, complex-safe reference, input range away from kinks)
UNARY = {
    "exp": (fwd.exp, cmath.exp, (-5.0, 5.0)),
    "log": (fwd.log, cmath.log, (0.05, 20.0)),
    "sin": (fwd.sin, cmath.sin, (-6.0, 6.0)),
    "cos": (fwd.cos, cmath.cos, (-6.0, 6.0)),
    "tanh": (fwd.tanh, cmath.tanh, (-4.0, 4.0)),
    "sigmoid": (fwd.sigmoid, sigmoid_complex, (-8.0, 8.0)),
    "relu (x > 0)": (fwd.relu, lambda z: z, (0.01, 5.0)),
    "relu (x < 0)": (fwd.relu, lambda z: 0 * z, (-5.0, -0.01)),
    "neg": (lambda d: -d, lambda z: -z, (-5.0, 5.0)),
    "x ** 3": (lambda d: d**3, lambda z: z**3, (-3.0, 3.0)),
    "x ** 0.5": (lambda d: d**0.5, cmath.sqrt, (0.05, 20.0)),
    "x ** -2": (lambda d: d**-2, lambda z: z**-2, (0.2, 5.0)),
    "3 ** x": (lambda d: 3**d, lambda z: cmath.exp(z * math.log(3)), (-3.0, 3.0)),
    "2 / x": (lambda d: 2 / d, lambda z: 2 / z, (0.2, 5.0)),
    "2 - x": (lambda d: 2 - d, lambda z: 2 - z, (-5.0, 5.0)),
    "x ** x": (lambda d: d**d, lambda z: cmath.exp(z * cmath.log(z)), (0.2, 3.0)),
}


@pytest.mark.parametrize("name", list(UNARY))
@settings(max_examples=30)
@given(u=st.floats(0.0, 1.0), seed=st.floats(-2.0, 2.0))
def test_dual_rules_match_the_complex_step(name: str, u: float, seed: float) -> None:
    f, reference, (low, high) = UNARY[name]
    x = low + u * (high - low)
    out = f(Dual(x, seed))
    assert relative_error(out.value, reference(complex(x, 0)).real) < 1e-13
    assert relative_error(out.tangent, seed * complex_step(reference, x)) < 1e-12, name


@pytest.mark.parametrize(
    "f",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a**b,
    ],
)
def test_binary_rules_with_duals_and_numbers_on_either_side(f) -> None:
    a0, b0 = 1.7, 0.6
    both = f(Dual(a0, 1.0), Dual(b0, 0.0))
    left = f(Dual(a0, 1.0), b0)
    assert (left.value, left.tangent) == pytest.approx((both.value, both.tangent), rel=1e-15)
    assert both.tangent == pytest.approx(complex_step(lambda z: f(z, b0), a0), rel=1e-13)
    right = f(a0, Dual(b0, 1.0))
    assert right.tangent == pytest.approx(complex_step(lambda z: f(a0, z), b0), rel=1e-13)


def test_deck_example_in_forward_mode() -> None:
    def f(x, y):
        return (x + y) * (x * y)

    along_x = f(Dual(2.0, 1.0), Dual(3.0, 0.0))
    along_y = f(Dual(2.0, 0.0), Dual(3.0, 1.0))
    assert (along_x.value, along_x.tangent, along_y.tangent) == (30.0, 21.0, 16.0)


def test_module_functions_accept_numbers_duals_and_values() -> None:
    assert fwd.exp(0.0) == 1.0 and fwd.sigmoid(0) == 0.5 and fwd.relu(-2.0) == 0.0
    assert isinstance(fwd.tanh(Dual(0.3, 1.0)), Dual)
    v = Value(0.3)
    out = fwd.tanh(v)
    out.backward()
    assert isinstance(out, Value) and v.grad == pytest.approx(1 - math.tanh(0.3) ** 2)
    with pytest.raises(TypeError, match="Dual"):
        fwd.exp("1.0")


def test_sigmoid_of_large_negative_dual_is_finite() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fwd.sigmoid(Dual(-1000.0, 1.0))
    assert (out.value, out.tangent) == (0.0, 0.0)


def test_dual_errors_and_repr() -> None:
    assert repr(Dual(2.0, 1.0)) == "Dual(value=2.0, tangent=1.0)"
    assert Dual(3).tangent == 0.0
    with pytest.raises(TypeError):
        Dual("2")
    with pytest.raises(TypeError):
        Dual(1.0) + "x"
    with pytest.raises(ValueError, match="positive"):
        Dual(-1.0, 1.0).log()
    with pytest.raises(ZeroDivisionError):
        Dual(1.0) / Dual(0.0, 1.0)
    with pytest.raises(ValueError, match="a > 0"):
        Dual(-2.0) ** Dual(2.0, 1.0)


def test_jvp_scalar_and_vector_outputs() -> None:
    value, tangent = fwd.jvp(lambda p: (p[0] + p[1]) * (p[0] * p[1]), [2.0, 3.0], [1.0, 1.0])
    assert (value, tangent) == (30.0, 37.0)
    values, tangents = fwd.jvp(lambda p: [p[0] * p[1], p[0] + 2 * p[1], 1.5], [2.0, 3.0], [0, 1])
    assert values.tolist() == [6.0, 8.0, 1.5] and tangents.tolist() == [2.0, 2.0, 0.0]
    with pytest.raises(ValueError, match="same length"):
        fwd.jvp(lambda p: p[0], [1.0, 2.0], [1.0])


def trig_map(p):
    return [p[0].sin() * p[1], p[1].exp() / p[2], p[0] * p[1] * p[2], p[2].tanh() - p[0] ** 2]


def test_jacobian_forward_equals_reverse_and_the_analytic_jacobian() -> None:
    x = [0.4, -0.7, 1.3]
    a, b, c = x
    expected = np.array(
        [
            [math.cos(a) * b, math.sin(a), 0.0],
            [0.0, math.exp(b) / c, -math.exp(b) / c**2],
            [b * c, a * c, a * b],
            [-2 * a, 0.0, 1 - math.tanh(c) ** 2],
        ]
    )
    assert np.allclose(fwd.jacobian_forward(trig_map, x), expected, rtol=1e-14, atol=1e-15)
    assert np.allclose(fwd.jacobian_reverse(trig_map, x), expected, rtol=1e-14, atol=1e-15)


def test_gradient_forward_and_its_error_for_vector_functions() -> None:
    g = fwd.gradient_forward(lambda p: p[0] ** 2 * p[1], [3.0, 2.0])
    assert g.tolist() == [12.0, 9.0]
    with pytest.raises(ValueError, match="scalar"):
        fwd.gradient_forward(trig_map, [0.1, 0.2, 0.3])


def chain_sum(p):
    total = 0.0
    for i in range(len(p) - 1):
        total = total + fwd.tanh(p[i]) * p[i + 1] ** 2
    return total


def test_pass_counts_n_forward_against_one_reverse_for_a_scalar_function() -> None:
    counts = fwd.count_passes(chain_sum, [0.1] * 50)
    assert (counts.n_inputs, counts.n_outputs) == (50, 1)
    assert (counts.forward_passes, counts.reverse_passes) == (50, 1)
    assert counts.max_difference < 1e-15
    assert "50 passes" in repr(counts) and "1 backward pass " in repr(counts)


def test_pass_counts_for_a_tall_jacobian_favour_forward_mode() -> None:
    counts = fwd.count_passes(lambda p: [(p[0] * (k / 10)).tanh() for k in range(10)], [1.3])
    assert (counts.forward_passes, counts.reverse_passes) == (1, 10)
    assert counts.max_difference < 1e-15
