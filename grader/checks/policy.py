"""One rule for gradients, everywhere · 梯度的统一规则.

The checks compare in float64 with ``rtol=1e-6, atol=1e-8`` (``grader.checks.compare.Tolerance``).
That tolerance alone accepts a backward computed by central finite differences of the
forward (the error of a finite difference with step 1e-5 is about 1e-12 to 1e-10 of the
gradient's scale) and an analytic answer computed in float32 (about 1e-7).

An analytic gradient in float64 — in any operation order, vectorised or with loops,
through any valid formula (sigmoid as ``1/(1+e^-x)`` or via ``tanh``, softmax through
its Jacobian or the short form) — agrees with autograd to about 1e-16 to 1e-15 of the
gradient's scale on the test shapes. So *gradients* (outputs named ``d…`` or containing
``grad``) compared at the default tolerance must also pass this rule: the largest error
stays below ``SCALE_RTOL`` (1e-12) times the largest magnitude of the expected gradient,
plus ``FLOOR`` (1e-14), with the allowance widened in proportion to the inputs' magnitude
beyond 100 (:func:`input_factor`). That leaves a margin of 100 to 1000 over analytic answers and
rejects finite differences with the usual steps and float32 arithmetic. An exercise with
its own tolerance, or ``strict_gradients = False`` on its spec (one whose answer *is* a
finite difference), is left alone.

The rule is part of :func:`grader.checks.compare.compare_array`, so it is the same in the
student's kernel (the visible checks, Validate), in ``python -m grader check`` and in the
grade of record: a student never sees full marks before submission and loses them after
for the same code. Every notebook says so in its "how to check your work" section.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks.compare import Case, CheckFailure, Tolerance

__all__ = ["SCALE_RTOL", "FLOOR", "strict_gradients", "is_gradient"]

SCALE_RTOL = 1e-12
FLOOR = 1e-14
_GRADIENT = re.compile(r"^`?d[A-Za-z_]|grad", re.IGNORECASE)

M.register(
    {
        "policy_numerical": (
            "`{name}` agrees with autograd only to {error} of its scale ({scale}); an "
            "analytic gradient in float64 agrees to about 1e-15. Was it computed with finite "
            "differences, or in float32? Derive it with the chain rule and keep float64.",
            "`{name}` 与自动微分的结果只在其量级（{scale}）的 {error} 以内一致；"
            "float64 中的解析梯度能一致到约 1e-15。它是否用有限差分或 float32 计算的？"
            "请用链式法则推导，并保持 float64。",
        ),
        "policy_rule": (
            "Rule for gradients in the grade of record: |actual - expected| <= {rtol} * "
            "max|expected| + {floor}.",
            "评分记录中梯度的规则：|实际 - 期望| <= {rtol} * max|期望| + {floor}。",
        ),
    }
)


def is_gradient(name: str) -> bool:
    return bool(_GRADIENT.search(name))


def _applies(case: Case) -> bool:
    """An exercise opts out with ``strict_gradients = False`` on its spec (e.g. one whose
    answer *is* a finite difference); any exercise with its own tolerance is left alone."""
    from grader.checks import exercises

    try:
        spec = exercises.get(case.exercise)
    except KeyError:
        return True
    return bool(getattr(spec, "strict_gradients", True))


def input_factor(case: Case) -> float:
    """How much looser the rule is for large inputs: float64's rounding grows with the
    magnitude of what is computed (a stable softmax on logits of 1e4 loses about 1e-12 of its
    scale), so inputs beyond 100 in magnitude widen the allowance in proportion."""
    largest = 0.0
    for value in case.inputs.values():
        array = np.asarray(value) if not isinstance(value, np.ndarray) else value
        if array.dtype.kind in "iuf" and array.size:
            finite = np.abs(array[np.isfinite(array)])
            largest = max(largest, float(finite.max(initial=0.0)))
    return max(1.0, largest / 100.0)


def strict_gradients(case: Case, name: str, expected: np.ndarray, actual: np.ndarray,
                     tol: Tolerance) -> None:
    """Raise CheckFailure if a gradient that passed ``tol`` is only approximately right."""
    __tracebackhide__ = True
    if tol != Tolerance() or not is_gradient(name) or expected.size == 0 or not _applies(case):
        return
    diff = np.abs(np.asarray(actual, dtype=np.float64) - expected)
    finite = np.isfinite(diff)
    if not finite.any():
        return
    scale = float(np.max(np.abs(expected[np.isfinite(expected)]), initial=0.0))
    error = float(np.max(diff[finite]))
    if error <= SCALE_RTOL * scale * input_factor(case) + FLOOR:
        return
    lines: list[Any] = [
        case.header("hdr_mismatch_autograd", name=name),
        M.bilingual("policy_numerical", indent="  ", name=name,
                    error=f"{error / scale if scale else error:.1e}", scale=f"{scale:.3g}"),
        *case.reproduce_lines(),
        M.bilingual("policy_rule", indent="  ", rtol=SCALE_RTOL, floor=FLOOR),
    ]
    raise CheckFailure("\n".join(lines), kind="numerical", exercise=case.exercise)
