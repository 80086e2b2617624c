"""2.1 and 2.16, why a hidden layer needs an activation, and XOR by hand · 为什么隐藏层需要激活函数，
以及手工实现异或: two affine maps collapse into one; a 2-2-1 ReLU network computes XOR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks.compare import (
    Case,
    CheckFailure,
    compare_array,
    is_plain,
    require_callable,
)
from grader.checks.exercises import register
from grader.checks.exercises.mlp.common import (
    ASSIGNMENT,
    tensors,
)
from grader.checks.specs import Exercise, FunctionSpec, _unpack, function_name, numbered
from grader.checks.steps import Done, Ref, Steps


def _collapse_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (num_inputs, num_hiddens, num_outputs): the two layers' weights and biases."""
    d, h, m = shape
    return {"W1": rng.standard_normal((d, h)), "b1": rng.standard_normal(h),
            "W2": rng.standard_normal((h, m)), "b2": rng.standard_normal(m)}


@dataclass
class CollapseSpec(FunctionSpec):
    """``collapse_affine(W1, b1, W2, b2) -> (W, b)`` with X @ W + b == (X @ W1 + b1) @ W2 + b2:
    a function of seeded inputs like any :class:`~grader.checks.specs.FunctionSpec`, whose
    answer is two arrays."""

    def prepare(self, case: Case) -> None:
        t = tensors(case.inputs)
        case.data["W"] = (t["W1"] @ t["W2"]).numpy().copy()
        case.data["b"] = (t["b1"] @ t["W2"] + t["b2"]).numpy().copy()
        W1, b1, W2, b2 = (case.inputs[k] for k in ("W1", "b1", "W2", "b2"))
        case.data["W_alternatives"] = (
            [("mlp_hint_collapse_order", W2 @ W1)] if W1.shape == W2.shape == W1.T.shape
            else [])
        case.data["b_alternatives"] = (
            [("mlp_hint_collapse_bias", b2), ("mlp_hint_collapse_bias", b1 @ W2)]
            + ([("mlp_hint_collapse_bias", b1 + b2)] if b1.shape == b2.shape else []))

    def judge(self, case: Case, done: Done, plan: tuple[str, Ref]) -> None:
        __tracebackhide__ = True
        name, call = plan
        W, b = _unpack(case, name, done.value(case, call), ("W", "b"))
        compare_array(case, "W", case.data["W"], W, tol=self.tol,
                      alternatives=case.data["W_alternatives"])
        compare_array(case, "b", case.data["b"], b, tol=self.tol,
                      alternatives=case.data["b_alternatives"])


register(
    CollapseSpec(
        id="collapse_affine", **numbered("2.1", "collapsing two affine maps", "合并两个仿射变换", ASSIGNMENT),
        make_inputs=_collapse_inputs,
        answer_text=("W1 @ W2", "b1 @ W2 + b2", "\\mathbf{W}_1\\mathbf{W}_2",
                     "\\mathbf{b}_1\\mathbf{W}_2 + \\mathbf{b}_2"),
    )
)


# --------------------------------------------------------------------------- XOR


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


@dataclass
class XorSpec(Exercise):
    """``xor_params() -> (W1, b1, W2, b2)``: a 2-2-1 ReLU network graded by its truth table.

    The network is ``y_hat = relu(X @ W1 + b1) @ W2 + b2`` and predicts 1 when
    ``y_hat > 0.5``. With ``jitter > 0`` each corner is moved by up to ``jitter``
    (per seed), so the network must keep a margin. The network is evaluated here, on the
    weights the student returned (plain arrays): it is the question, not an answer.
    """

    def make_cases(self, *, seeds: Sequence[int] = (), jitter: float = 0.0) -> list[Case]:
        found = [self.case(description="xor_params()", inputs={"X": XOR_X.copy()},
                           data={"seed": None, "jitter": jitter})]
        for seed in seeds:
            X = XOR_X.copy()
            if jitter > 0:
                X = X + np.random.default_rng(seed).uniform(-jitter, jitter, X.shape)
            found.append(self.case(description="xor_params()", inputs={"X": X},
                                   data={"seed": seed, "jitter": jitter}))
        return found

    def drive(self, steps: Steps, case: Case, fn: Any) -> tuple[str, Ref]:
        __tracebackhide__ = True
        name = function_name(fn, self.id)
        require_callable(case, name, fn)
        return name, steps.call(fn, name=name)

    def judge(self, case: Case, done: Done, plan: tuple[str, Ref]) -> None:
        __tracebackhide__ = True
        name, call = plan
        parts = _unpack(case, name, done.value(case, call), ("W1", "b1", "W2", "b2"))
        W1, b1, W2, b2 = self._shaped(case, parts)
        X = case.inputs["X"]
        with np.errstate(all="ignore"):
            y_hat = (np.maximum(X @ W1 + b1, 0) @ W2 + b2).reshape(-1)
        pred = (y_hat > 0.5).astype(int)
        if not np.array_equal(pred, XOR_Y):
            self._fail(case, X, y_hat, pred)

    def _shaped(self, case: Case, parts: tuple) -> tuple[np.ndarray, ...]:
        __tracebackhide__ = True
        arrays = []
        if all(is_plain(p) for p in parts):
            try:
                arrays = [np.asarray(p, dtype=np.float64) for p in parts]
            except (TypeError, ValueError):
                arrays = []
        found = (", ".join(str(tuple(a.shape)) for a in arrays) if arrays
                 else M.text("mlp_xor_not_numbers"))
        ok = (
            len(arrays) == 4
            and arrays[0].shape == (2, 2)
            and arrays[1].shape == (2,)
            and arrays[2].size == 2
            and arrays[2].ndim in (1, 2)
            and arrays[2].shape[0] == 2
            and arrays[3].size == 1
        )
        if not ok:
            raise CheckFailure(
                "\n".join([case.header("mlp_hdr_params"),
                           M.bilingual("mlp_xor_shapes", indent="  ", found=found)]),
                kind="type", exercise=case.exercise,
            )
        W1, b1, W2, b2 = arrays
        return W1, b1, W2.reshape(2, 1), b2.reshape(1)

    def _fail(self, case, X, y_hat, pred) -> None:
        __tracebackhide__ = True
        lines = [case.header("mlp_hdr_xor"), M.bilingual("mlp_xor_rule", indent="  ")]
        if case.data["seed"] is not None:
            lines.append(M.bilingual("mlp_xor_jitter", indent="  ", jitter=case.data["jitter"],
                                     seed=case.data["seed"]))
        rows_en, rows_zh = [], []
        for x, value, p, target in zip(X, y_hat, pred, XOR_Y, strict=True):
            text = M.text("mlp_xor_row", mark="✓" if p == target else "✗",
                          x1=f"{x[0]:.3g}", x2=f"{x[1]:.3g}", y_hat=f"{value:.4g}",
                          pred=int(p), target=int(target))
            rows_en.append("    " + text.en)
            rows_zh.append("    " + text.zh)
        lines += rows_en + rows_zh
        raise CheckFailure("\n".join(lines), exercise=case.exercise)


register(
    XorSpec(
        id="xor_params", **numbered("2.16", "XOR with two hidden units", "两个隐藏单元实现异或", ASSIGNMENT),
        answer_text=("[[1.0], [-2.0]]", "b1 = np.array([0.0, -1.0])"),
    )
)
