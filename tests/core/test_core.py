"""autodiff_lib.core: what both engines share, checked on both engines at once."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff_lib as ad
from autodiff_lib import Value
from autodiff_lib.core import exponent_rule, power_rule, topological_order
from autodiff_lib.scalar.numerical import GradcheckReport
from autodiff_lib.scalar.numerical import gradcheck as scalar_gradcheck


@pytest.mark.parametrize("k", [0.0, 0.5, 1.0, 2.0, 3.0])
def test_power_at_base_zero_has_the_same_derivative_in_both_engines(k):
    value = Value(0.0)
    (value**k).backward()
    leaf = ad.tensor(0.0, dtype=ad.float64, requires_grad=True)
    (leaf**k).backward()
    expected = {0.0: 0.0, 0.5: math.inf, 1.0: 1.0, 2.0: 0.0, 3.0: 0.0}[k]
    assert value.grad == leaf.grad.item() == expected


def test_a_varying_exponent_at_base_zero_has_the_same_derivatives_in_both_engines():
    a, b = Value(0.0), Value(2.0)
    (a**b).backward()
    ta = ad.tensor(0.0, dtype=ad.float64, requires_grad=True)
    tb = ad.tensor(2.0, dtype=ad.float64, requires_grad=True)
    (ta**tb).backward()
    assert (a.grad, b.grad) == (ta.grad.item(), tb.grad.item()) == (0.0, 0.0)


def test_the_rules_work_element_wise_and_keep_a_float32_dtype():
    base = np.array([0.0, 0.0, 2.0], dtype=np.float32)
    slope = power_rule(base, np.array([0.0, 0.5, 3.0]))
    assert slope.tolist() == [0.0, math.inf, 12.0]
    assert power_rule(base, 2.0).dtype == np.float32
    at_zero, at_e = exponent_rule([0.0, math.e], [0.0, math.e**2]).tolist()
    assert at_zero == 0.0 and at_e == pytest.approx(math.e**2)
    assert math.isnan(float(exponent_rule(-1.0, 1.0)))


def test_one_backward_order_for_both_engines_inputs_before_users():
    x = Value(1.0)
    y = x * 2
    z = y + x
    order = topological_order(z, lambda v: v._prev)
    assert order.index(x) < order.index(y) < order.index(z) and len(order) == 4
    assert z.topological_order() == order
    t = ad.tensor(1.0, requires_grad=True)
    out = (t * 2) + t
    nodes = topological_order(out.grad_fn, lambda n: getattr(n, "inputs", ()))
    assert nodes[-1] is out.grad_fn and nodes[0] is t


def test_both_engines_walk_a_chain_far_deeper_than_the_recursion_limit():
    x = Value(1.0)
    y = x
    t = ad.tensor(1.0, dtype=ad.float64, requires_grad=True)
    u = t
    for _ in range(5000):
        y = y * 1.0001
        u = u * 1.0001
    y.backward()
    u.backward()
    assert x.grad == pytest.approx(1.0001**5000) and t.grad.item() == pytest.approx(x.grad)


def test_both_gradchecks_keep_one_contract_the_same_report_and_verdict():
    x = np.array([0.3, -1.2, 2.0])

    def cube_sum(v):
        return float(np.sum(v**3))

    right = scalar_gradcheck(cube_sum, x, lambda v: 3 * v**2)
    wrong = scalar_gradcheck(cube_sum, x, lambda v: 3 * v**2 * np.array([1, 1, 0.5]))
    leaf = ad.tensor(x, dtype=ad.float64, requires_grad=True)
    tensor_right = ad.gradcheck(lambda t: (t**3).sum(), [leaf])
    tensor_wrong = ad.gradcheck(lambda t: (t * t).sum() * t.detach().sum(), [leaf])
    for report in (right, wrong, tensor_right, tensor_wrong):
        assert isinstance(report, GradcheckReport) and bool(report) == report.passed
    assert right and tensor_right and not wrong and not tensor_wrong
    assert wrong.worst_index == (2,)
    assert "FAILED" in str(tensor_wrong) and "worst coordinate" in str(tensor_wrong)
