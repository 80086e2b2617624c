"""grader.checks.policy: one rule for gradients, in every grader."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks.compare import Case, CheckFailure, Tolerance
from grader.checks.messages import Text
from grader.checks.policy import strict_gradients
from grader.record.sandbox import bwrap_available

needs_bwrap = pytest.mark.skipif(not bwrap_available()[0],
                                 reason="bubblewrap cannot run here: " + bwrap_available()[1])


def _case():
    return Case("affine", Text("Exercise · affine", "练习 · 仿射"), seed=7,
                inputs={"x": np.zeros((2, 3))})


def test_policy_accepts_analytic_gradients_in_any_order():
    rng = np.random.default_rng(0)
    w, dout = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    expected = dout @ w.T
    looped = np.array([[sum(dout[n, m] * w[d, m] for m in range(4)) for d in range(3)]
                       for n in range(5)])
    strict_gradients(_case(), "dx", expected, looped, Tolerance())
    strict_gradients(_case(), "dx", expected, np.einsum("nm,dm->nd", dout, w), Tolerance())


def test_policy_rejects_central_differences():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    dout = rng.standard_normal((5, 4))
    h, fd = 1e-5, np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += h
        minus[i] -= h
        fd[i] = np.sum(((plus @ w + b) - (minus @ w + b)) * dout) / (2 * h)
    assert np.allclose(fd, dout @ w.T, rtol=1e-6, atol=1e-8)  # the plain tolerance accepts it
    with pytest.raises(CheckFailure) as info:
        strict_gradients(_case(), "dx", dout @ w.T, fd, Tolerance())
    assert info.value.kind == "numerical" and "finite differences" in info.value.args[0]


def test_policy_leaves_values_and_own_tolerances_alone():
    noisy = np.ones(3) + 1e-9
    strict_gradients(_case(), "out", np.ones(3), noisy, Tolerance())
    strict_gradients(_case(), "dx", np.ones(3), noisy, Tolerance(rtol=1e-6, atol=1e-7))


def test_large_inputs_widen_the_allowance_in_proportion():
    """float64's rounding grows with the magnitude of what is computed: a correct gradient of
    logits near 1e4 may be off by 1e-12 of its scale; finite differences still fail."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 4)) * 1e4
    expected = rng.standard_normal((3, 4))
    case = Case("demo", Text("Exercise 0 · demo", "练习 0 · 示例"), seed=1, inputs={"x": logits})
    strict_gradients(case, "dx", expected, expected * (1 + 2e-12), Tolerance())
    with pytest.raises(CheckFailure):
        strict_gradients(case, "dx", expected, expected * (1 + 1e-8), Tolerance())
    small = Case("demo", Text("Exercise 0 · demo", "练习 0 · 示例"), seed=1,
                 inputs={"x": logits / 1e4})
    with pytest.raises(CheckFailure):
        strict_gradients(small, "dx", expected, expected * (1 + 2e-12), Tolerance())
