"""autodiff_lib.scalar.numerical: quotients, complex step, gradients, gradcheck, step sweeps."""

from __future__ import annotations

import cmath
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_lib.scalar.numerical as num


def test_the_four_quotients_on_exp_at_one() -> None:
    e = math.e
    assert num.forward_difference(math.exp, 1.0) == pytest.approx(e, rel=1e-7)
    assert num.backward_difference(math.exp, 1.0) == pytest.approx(e, rel=1e-7)
    assert num.central_difference(math.exp, 1.0) == pytest.approx(e, rel=1e-10)
    assert abs(num.complex_step(cmath.exp, 1.0) - e) <= 1e-15


def test_quotients_use_the_formulas_exactly() -> None:
    f = lambda x: x**3  # noqa: E731
    h = 0.1
    assert num.forward_difference(f, 2.0, h) == (2.1**3 - 8.0) / 0.1
    assert num.backward_difference(f, 2.0, h) == (8.0 - 1.9**3) / 0.1
    assert num.central_difference(f, 2.0, h) == (2.1**3 - 1.9**3) / 0.2
    # forward and backward errors have opposite signs for a convex function
    assert num.forward_difference(f, 2.0, h) > 12.0 > num.backward_difference(f, 2.0, h)


def test_complex_step_within_machine_precision_at_tiny_steps() -> None:
    for h in (1e-20, 1e-100, 1e-300):
        assert abs(num.complex_step(cmath.exp, 1.0, h) - math.e) <= 1e-15
        assert num.complex_step(lambda z: z * cmath.sin(z), 0.7, h) == pytest.approx(
            math.sin(0.7) + 0.7 * math.cos(0.7), rel=1e-15
        )


def test_complex_step_of_a_constant_is_zero() -> None:
    assert num.complex_step(lambda z: 3.0, 1.0) == 0.0


@pytest.mark.parametrize(
    "quotient", [num.forward_difference, num.central_difference, num.complex_step]
)
@pytest.mark.parametrize("h", [0.0, -1e-5])
def test_non_positive_step_is_refused(quotient, h) -> None:
    with pytest.raises(ValueError, match="positive"):
        quotient(math.exp, 1.0, h)


def test_sweep_reproduces_the_known_best_steps_for_exp_at_one() -> None:
    sweep = num.step_size_sweep(math.exp, math.exp, 1.0)
    assert sweep.exact == math.e
    assert math.log10(sweep.best_step("forward")) == pytest.approx(-8.0, abs=0.5)
    assert math.log10(sweep.best_step("central")) == pytest.approx(-5.5, abs=0.5)
    assert 1e-9 < sweep.best_error("forward") < 3e-8
    assert 1e-12 < sweep.best_error("central") < 3e-10
    h20 = int(np.argmin(np.abs(np.log10(sweep.hs) + 20)))
    assert sweep.hs[h20] == pytest.approx(1e-20)
    assert sweep.errors["complex"][h20] <= 1e-15
    # the regime of each side: truncation for big h, round-off for small h
    forward = sweep.errors["forward"]
    assert forward[np.searchsorted(sweep.hs, 1e-2)] > 1e-3
    assert forward[np.searchsorted(sweep.hs, 1e-13)] > 1e-4


def test_sweep_accepts_a_number_as_derivative_and_custom_steps() -> None:
    sweep = num.step_size_sweep(
        math.sin, math.cos(0.3), 0.3, hs=[1e-2, 1e-8, 1e-14], methods=("backward",)
    )
    assert list(sweep.errors) == ["backward"]
    assert sweep.hs.tolist() == [1e-14, 1e-8, 1e-2]  # sorted
    assert sweep.best_step("backward") == 1e-8
    with pytest.raises(KeyError, match="central"):
        sweep.best_step("central")
    with pytest.raises(ValueError, match="unknown"):
        num.step_size_sweep(math.sin, math.cos, 0.3, methods=("secant",))


def test_sweep_plot_is_log_log_and_labelled() -> None:
    import matplotlib.pyplot as plt

    sweep = num.step_size_sweep(math.exp, math.exp, 1.0)
    ax = sweep.plot()
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["forward", "central", "complex"]
    marked = sorted(line.get_xdata()[0] for line in ax.lines if len(line.get_xdata()) == 2)
    assert marked == pytest.approx(sorted([num.EPS ** (1 / 3), math.sqrt(num.EPS)]))
    plt.close(ax.figure)


def test_gradient_by_every_method_and_evaluation_counts() -> None:
    def f(v):
        return float(np.sum(np.sin(v) * v**2))

    x = np.array([0.3, -1.2, 2.0, 0.7])
    exact = np.cos(x) * x**2 + 2 * x * np.sin(x)
    expected_calls = {"central": 8, "forward": 5, "backward": 5, "complex": 4}
    tolerance = {"central": 1e-9, "forward": 1e-6, "backward": 1e-6, "complex": 1e-14}
    for method, calls in expected_calls.items():
        counted = num.count_evaluations(
            f if method != "complex" else lambda v: np.sum(np.sin(v) * v**2)
        )
        g = num.gradient(counted, x, method=method)
        assert counted.calls == calls, method
        assert np.max(num.relative_error(g, exact)) < tolerance[method], method


def test_gradient_keeps_the_shape_of_x() -> None:
    x = np.arange(6.0).reshape(2, 3)
    weights = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    g = num.gradient(lambda m: float(np.sum(weights * m**2)), x)  # f sees the 2 x 3 matrix
    assert g.shape == (2, 3)
    assert np.allclose(g, 2 * weights * x, atol=1e-5)


def test_jacobian_shape_values_and_counts() -> None:
    def f(v):
        return np.array([v[0] * v[1], np.exp(v[0]), v[2] ** 2 - v[1]])

    counted = num.count_evaluations(f)
    jac = num.jacobian(counted, [1.0, 2.0, 3.0])
    assert counted.calls == 6
    expected = np.array([[2.0, 1.0, 0.0], [math.e, 0.0, 0.0], [0.0, -1.0, 6.0]])
    assert jac.shape == (3, 3)
    assert np.allclose(jac, expected, rtol=1e-8, atol=1e-8)
    assert num.jacobian(lambda v: v[0] * v[1], [2.0, 5.0]).shape == (1, 2)


def test_bad_arguments_have_clear_errors() -> None:
    with pytest.raises(ValueError, match="method"):
        num.gradient(lambda v: 0.0, [1.0], method="secant")
    with pytest.raises(ValueError, match="one number"):
        num.gradient(lambda v: v, [1.0, 2.0])
    with pytest.raises(ValueError, match="vector"):
        num.jacobian(lambda v: v, np.ones((2, 2)))


def test_relative_error_definition() -> None:
    assert num.relative_error(1.0, 1.0) == 0.0
    assert num.relative_error(1.0, 3.0) == pytest.approx(0.5)
    assert num.relative_error(0.0, 1e-10) == pytest.approx(1e-2)  # the 1e-8 floor
    errors = num.relative_error([1.0, 0.0], [2.0, 0.0])
    assert isinstance(errors, np.ndarray) and errors.tolist() == pytest.approx([1 / 3, 0.0])


@settings(max_examples=50)
@given(
    a=st.floats(-1e6, 1e6, allow_nan=False),
    b=st.floats(-1e6, 1e6, allow_nan=False),
)
def test_relative_error_is_symmetric_and_bounded(a: float, b: float) -> None:
    r = num.relative_error(a, b)
    assert r == num.relative_error(b, a)
    assert 0.0 <= r <= 1.0 + 1e-12 or abs(a) + abs(b) < 1e-8


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def f_sig(v):
    return float(np.sum(sigmoid(v) * v**2))


def grad_correct(v):
    s = sigmoid(v)
    return s * (1 - s) * v**2 + 2 * s * v


def test_gradcheck_passes_a_correct_gradient_and_names_the_worst_coordinate() -> None:
    x = np.random.default_rng(1).normal(size=6)
    report = num.gradcheck(f_sig, x, grad_correct)
    assert report.passed
    assert max(report.max_relative_error) < 1e-8
    assert report.evaluations == 12
    assert "PASSED" in repr(report) and "input 0" in repr(report)


def test_gradcheck_fails_a_buggy_gradient_and_points_at_it() -> None:
    x = np.array([0.5, -1.0, 2.0])

    def grad_one_wrong(v):
        g = grad_correct(v)
        g[2] *= 1.001  # a small bug in one coordinate only
        return g

    report = num.gradcheck(f_sig, x, grad_one_wrong)
    assert not report.passed
    assert report.worst_input == 0 and report.worst_index == (2,)
    assert report.analytic == pytest.approx(grad_one_wrong(x)[2])
    assert report.numerical == pytest.approx(grad_correct(x)[2], rel=1e-8)
    assert "FAILED" in repr(report) and "index [2]" in repr(report)


def test_gradcheck_with_several_inputs_and_precomputed_gradients() -> None:
    a, b = np.array([1.0, 2.0]), np.array([[0.5, -1.0], [2.0, 3.0]])

    def f(a, b):
        return float(a @ b @ a)

    report = num.gradcheck(f, (a, b), ((b + b.T) @ a, np.outer(a, a)))
    assert report.passed and len(report.max_relative_error) == 2
    wrong = num.gradcheck(f, (a, b), ((b + b.T) @ a, np.outer(a, a).T * 0.9))
    assert not wrong.passed and wrong.worst_input == 1


def test_gradcheck_tolerates_round_off_where_the_gradient_is_zero() -> None:
    report = num.gradcheck(lambda v: float(np.cosh(v[0])), [0.0], lambda v: np.sinh(v))
    assert report.passed


def test_gradcheck_refuses_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        num.gradcheck(lambda v: float(np.sum(v)), [1.0, 2.0], lambda v: np.ones(3))
