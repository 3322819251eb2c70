"""autodiff_lib.scalar.value.Value: local derivatives, graph traversal, accumulation, edge cases."""

from __future__ import annotations

import cmath
import math
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autodiff_lib import Value
from autodiff_lib.scalar.numerical import central_difference, complex_step, relative_error

REPO = Path(__file__).resolve().parents[2]


def sigmoid_complex(z: complex) -> complex:
    return 1 / (1 + cmath.exp(-z))


# name: (apply to a Value, real function, complex-safe function, input range away from kinks)
UNARY_OPS = {
    "exp": (Value.exp, math.exp, cmath.exp, (-5.0, 5.0)),
    "log": (Value.log, math.log, cmath.log, (0.05, 20.0)),
    "tanh": (Value.tanh, math.tanh, cmath.tanh, (-4.0, 4.0)),
    "sigmoid": (Value.sigmoid, lambda x: 1 / (1 + math.exp(-x)), sigmoid_complex, (-8.0, 8.0)),
    "sin": (Value.sin, math.sin, cmath.sin, (-6.0, 6.0)),
    "cos": (Value.cos, math.cos, cmath.cos, (-6.0, 6.0)),
    "neg": (lambda v: -v, lambda x: -x, lambda z: -z, (-5.0, 5.0)),
    "square": (lambda v: v**2, lambda x: x**2, lambda z: z**2, (-5.0, 5.0)),
    "cube": (lambda v: v**3, lambda x: x**3, lambda z: z**3, (-3.0, 3.0)),
    "sqrt": (lambda v: v**0.5, math.sqrt, cmath.sqrt, (0.05, 20.0)),
    "reciprocal": (lambda v: v**-1, lambda x: 1 / x, lambda z: 1 / z, (0.1, 10.0)),
    "real power": (lambda v: v**1.7, lambda x: x**1.7, lambda z: z**1.7, (0.1, 5.0)),
    "2 ** x": (lambda v: 2**v, lambda x: 2**x, lambda z: cmath.exp(z * math.log(2)), (-4, 4)),
    "1 / x": (lambda v: 1 / v, lambda x: 1 / x, lambda z: 1 / z, (0.1, 10.0)),
    "3 - x": (lambda v: 3 - v, lambda x: 3 - x, lambda z: 3 - z, (-5.0, 5.0)),
    "relu (x > 0)": (Value.relu, lambda x: max(x, 0.0), lambda z: z, (0.01, 5.0)),
    "relu (x < 0)": (Value.relu, lambda x: max(x, 0.0), lambda z: 0 * z, (-5.0, -0.01)),
}

BINARY_OPS = {
    "a + b": (lambda a, b: a + b, (-5.0, 5.0), (-5.0, 5.0)),
    "a - b": (lambda a, b: a - b, (-5.0, 5.0), (-5.0, 5.0)),
    "a * b": (lambda a, b: a * b, (-5.0, 5.0), (-5.0, 5.0)),
    "a / b": (lambda a, b: a / b, (-5.0, 5.0), (0.2, 5.0)),
    "a ** b": (lambda a, b: a**b, (0.2, 4.0), (-2.0, 2.0)),
}


def grad_of_unary(op, x: float) -> tuple[float, float]:
    v = Value(x)
    out = op(v)
    out.backward()
    return out.data, v.grad


@pytest.mark.parametrize("name", list(UNARY_OPS))
@settings(max_examples=30)
@given(u=st.floats(0.0, 1.0))
def test_unary_derivative_matches_central_difference_and_complex_step(name: str, u: float) -> None:
    op, real_f, complex_f, (low, high) = UNARY_OPS[name]
    x = low + u * (high - low)
    value, grad = grad_of_unary(op, x)
    assert relative_error(value, real_f(x)) < 1e-12, f"{name}: forward value at {x}"
    central = central_difference(real_f, x)  # off by about h^2 |f'''|, so compare absolutely near 0
    assert relative_error(grad, central) < 1e-6 or abs(grad - central) < 1e-9, f"{name}'({x})"
    assert relative_error(grad, complex_step(complex_f, x)) < 1e-12, f"{name}'({x}) vs complex"


@pytest.mark.parametrize("name", list(BINARY_OPS))
@settings(max_examples=30)
@given(u=st.floats(0.0, 1.0), w=st.floats(0.0, 1.0))
def test_binary_derivatives_match_complex_step(name: str, u: float, w: float) -> None:
    op, (a_low, a_high), (b_low, b_high) = BINARY_OPS[name]
    a0, b0 = a_low + u * (a_high - a_low), b_low + w * (b_high - b_low)
    a, b = Value(a0), Value(b0)
    out = op(a, b)
    out.backward()
    assert relative_error(a.grad, complex_step(lambda z: op(z, b0), a0)) < 1e-12, name
    assert relative_error(b.grad, complex_step(lambda z: op(a0, z), b0)) < 1e-12, name
    # numbers on either side give the same derivatives as Values
    a_only, b_only = Value(a0), Value(b0)
    op(a_only, b0).backward()
    op(a0, b_only).backward()
    assert a_only.grad == pytest.approx(a.grad, rel=1e-14)
    assert b_only.grad == pytest.approx(b.grad, rel=1e-14)


def test_deck_example_values_and_gradients() -> None:
    x, y = Value(2.0), Value(3.0)
    a = x + y
    b = x * y
    f = a * b
    f.backward()
    assert (f.data, x.grad, y.grad) == (30.0, 21.0, 16.0)
    assert (a.grad, b.grad) == (6.0, 5.0)  # df/da = b, df/db = a


def test_subtraction_gradient_signs() -> None:
    a, b = Value(5.0), Value(3.0)
    (a - b).backward()
    assert (a.grad, b.grad) == (1.0, -1.0)
    c = Value(2.0)
    (10 - c).backward()
    assert c.grad == -1.0


def test_node_used_twice_and_diamond_accumulate() -> None:
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0  # both uses of x contribute
    x = Value(0.7)
    top = x.tanh()
    left, right = top * 2.0, top.exp()
    out = left + right * x  # x reaches out along paths of lengths 1, 2 and 3
    out.backward()
    t = math.tanh(0.7)
    expected = (2 + math.exp(t) * 0.7) * (1 - t * t) + math.exp(t)
    assert x.grad == pytest.approx(expected, rel=1e-14)


def test_second_backward_accumulates_into_leaves_like_pytorch() -> None:
    x, y = Value(2.0), Value(3.0)
    f = (x + y) * (x * y)
    f.backward()
    f.backward()
    assert (x.grad, y.grad) == (42.0, 32.0)  # twice the gradients, as torch would give
    assert f.grad == 1.0  # intermediate nodes hold the latest pass, not a sum


def test_zero_grad_resets_the_whole_graph() -> None:
    x, y = Value(2.0), Value(3.0)
    h = x * y
    f = h.tanh() + x
    f.backward()
    assert x.grad != 0 and h.grad != 0
    f.zero_grad()
    assert [v.grad for v in f.topological_order()] == [0.0] * len(f.topological_order())
    f.backward()
    single_x = x.grad
    f.zero_grad()
    f.backward()
    assert x.grad == single_x  # after zero_grad, backward gives a single pass again


def test_two_losses_sharing_a_subgraph_sum_their_gradients() -> None:
    w = Value(0.5)
    hidden = (w * 3.0).tanh()
    loss_a, loss_b = hidden * 2.0, hidden**2
    loss_a.backward()
    loss_b.backward()
    t = math.tanh(1.5)
    assert w.grad == pytest.approx((2.0 + 2 * t) * (1 - t * t) * 3.0, rel=1e-14)


def test_backward_on_a_chain_of_a_million_nodes() -> None:
    x = Value(1.0)
    v = x
    for _ in range(1_000_000):
        v = -v  # micrograd's recursive sort fails near 1,000
    v.backward()
    assert x.grad == 1.0  # (-1) ** 1,000,000


def test_a_sum_of_a_thousand_terms_has_no_recursion_problem() -> None:
    xs = [Value(float(i)) for i in range(2000)]
    total = sum(xs)
    total.backward()
    assert all(x.grad == 1.0 for x in xs)


def test_topological_order_puts_children_first() -> None:
    x = Value(1.0)
    a = x.exp()
    b = a * x
    c = b + a
    order = c.topological_order()
    position = {id(node): i for i, node in enumerate(order)}
    for node in order:
        for child in node._prev:
            assert position[id(child)] < position[id(node)]
    assert order[-1] is c and len(order) == 4


def test_sigmoid_is_finite_for_extreme_inputs_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, high = Value(-1000.0), Value(1000.0)
        s_low, s_high = low.sigmoid(), high.sigmoid()
        s_low.backward()
        s_high.backward()
    assert (s_low.data, s_high.data) == (0.0, 1.0)
    assert (low.grad, high.grad) == (0.0, 0.0)
    assert Value(0.0).sigmoid().data == 0.5


def test_tanh_saturates_without_overflow() -> None:
    x = Value(-500.0)
    y = x.tanh()
    y.backward()
    assert (y.data, x.grad) == (-1.0, 0.0)


def test_power_of_values_and_number_to_value() -> None:
    a, b = Value(2.0), Value(3.0)
    c = a**b
    c.backward()
    assert c.data == 8.0
    assert a.grad == pytest.approx(12.0)  # b a^(b-1)
    assert b.grad == pytest.approx(8.0 * math.log(2.0))  # a^b ln a
    x = Value(3.0)
    y = 2**x
    y.backward()
    assert y.data == 8.0 and x.grad == pytest.approx(8.0 * math.log(2.0))


def test_sqrt_at_zero_has_infinite_slope_not_an_error() -> None:
    x = Value(0.0)
    (x**0.5).backward()
    assert x.grad == math.inf


def test_repr_and_leaf_conversion() -> None:
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(2)) == "Value(data=2.0, grad=0.0)"
    assert Value(3, label="x").label == "x"


@pytest.mark.parametrize(
    "bad, error",
    [
        (lambda: Value("1.0"), TypeError),
        (lambda: Value(1.0) + "a", TypeError),
        (lambda: Value(1.0) * [2.0], TypeError),
        (lambda: Value(-1.0).log(), ValueError),
        (lambda: Value(0.0).log(), ValueError),
        (lambda: Value(1.0) / Value(0.0), ZeroDivisionError),
        (lambda: Value(-8.0) ** 0.5, ValueError),
        (lambda: Value(-2.0) ** Value(0.5), ValueError),
        (lambda: Value(1.0) ** "2", TypeError),
        (lambda: Value(2.0, (Value(1.0), Value(1.0)), "+"), ValueError),  # no local derivatives
    ],
)
def test_bad_input_raises_a_clear_error(bad, error) -> None:
    with pytest.raises(error):
        bad()


# ----------------------------------------------------------------- random DAGs with reuse

NODE_OPS = ["add", "sub", "mul", "div", "tanh", "sigmoid", "exp", "sin", "square"]


@st.composite
def random_dags(draw):
    """A program over registers: each step combines earlier registers, often reusing them."""
    n_inputs = draw(st.integers(1, 3))
    inputs = draw(st.lists(st.floats(-1.5, 1.5), min_size=n_inputs, max_size=n_inputs))
    steps = []
    for k in range(draw(st.integers(1, 12))):
        available = n_inputs + k
        op = draw(st.sampled_from(NODE_OPS))
        i = draw(st.integers(0, available - 1))
        j = draw(st.integers(0, available - 1))
        steps.append((op, i, j))
    return inputs, steps


def run_dag(inputs, steps, exp, tanh, sin, sigmoid):
    def apply(op, a, b):
        if op == "add":
            return a + b
        if op == "sub":
            return a - b
        if op == "mul":
            return a * b
        if op == "div":
            return a / (b * b + 1.0)
        if op == "tanh":
            return tanh(a)
        if op == "sigmoid":
            return sigmoid(a)
        if op == "exp":
            return exp(tanh(a))  # bounded, so nothing overflows
        if op == "sin":
            return sin(a) * b
        return a * a  # square

    registers = list(inputs)
    for op, i, j in steps:
        registers.append(apply(op, registers[i], registers[j]))
    # the output also reuses an early register: paths of different lengths to the inputs
    return registers[-1] + registers[0] * registers[-1]


@given(random_dags())
def test_random_dags_with_reused_nodes_match_finite_differences(dag) -> None:
    inputs, steps = dag
    values = [Value(x) for x in inputs]
    out = run_dag(values, steps, Value.exp, Value.tanh, Value.sin, Value.sigmoid)
    out.backward()
    plain = dict(
        exp=math.exp, tanh=math.tanh, sin=math.sin, sigmoid=lambda t: 1 / (1 + math.exp(-t))
    )
    complex_ = dict(exp=cmath.exp, tanh=cmath.tanh, sin=cmath.sin, sigmoid=sigmoid_complex)
    assert out.data == pytest.approx(run_dag(inputs, steps, **plain), rel=1e-12, abs=1e-12)
    for k, x in enumerate(inputs):

        def along_k(t, k=k, table=plain):
            point = list(inputs)
            point[k] = t
            return run_dag(point, steps, **table)

        assume(abs(values[k].grad) < 1e6)
        exact = complex_step(lambda z, k=k: along_k(z, k, complex_), x)
        # 1e-9 relative, or 1e-12 absolute where O(1) terms cancel down to about 0
        close = relative_error(values[k].grad, exact) < 1e-9 or abs(values[k].grad - exact) < 1e-12
        assert close, f"d out / d x{k}: {values[k].grad} vs complex step {exact}"
        assert values[k].grad == pytest.approx(central_difference(along_k, x), rel=1e-5, abs=1e-6)


def test_benchmark_quick_mode_runs_and_reports_a_ratio() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_scalar.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"speed-up over micrograd 0\.1\.0: \d+\.\dx", result.stdout)
    assert "## 2. Chains" in result.stdout and "## 3. One full gradient" in result.stdout
