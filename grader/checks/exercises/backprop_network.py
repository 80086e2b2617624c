"""Assignment 03 · 手推反向传播: the whole network, and checking gradients.

Exercises 3.10 (the two-layer MLP's ``loss_and_grads``: its ``params`` must come back
unchanged), 3.11 (central differences, compared with autograd at the accuracy a finite
difference has) and 3.12 (the relative error, checked against its NumPy answer), and the
questions asked next to them. References and the classic mistakes' values are computed only
while a case is prepared (:mod:`grader.checks.torchref`,
:mod:`grader.checks.references.backprop`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import Case, CheckFailure, Tolerance, compare_array
from grader.checks.exercises import register
from grader.checks.exercises.backprop import ASSIGNMENT, _ref, _resample, _torch
from grader.checks.questions import questions
from grader.checks.specs import Exercise, FunctionSpec, _unpack, function_name, numbered
from grader.checks.steps import Done, Steps

M.register(
    {
        "backprop_grads_dict": (
            "`{function}` should return (loss, grads) where grads is a dict with the keys "
            "{keys}; missing: {missing}.",
            "`{function}` 应当返回 (loss, grads)，其中 grads 是包含键 {keys} 的 dict；"
            "缺少：{missing}。",
        ),
        "backprop_params_mutated": (
            "Your `{function}` changed params[{param!r}] in place. A loss function only reads "
            "the parameters; the training loop is the one place that updates them.",
            "你的 `{function}` 原地修改了 params[{param!r}]。损失函数只读取参数；"
            "只有训练循环才更新参数。",
        ),
        "backprop_fd_tolerance": (
            "Central differences with h={h} agree with autograd to about 1e-9 on these smooth "
            "functions; one-sided differences are off by about h.",
            "在这些光滑函数上，h={h} 的中心差分与自动微分大约相差 1e-9；单侧差分的误差约为 h 量级。",
        ),
        "backprop_reg_missing": (
            "Likely mistake: the gradient of the L2 term is missing. "
            "d/dW (reg/2)·||W||² = reg·W must be added to dW.",
            "可能的错误：漏了 L2 项的梯度。d/dW (reg/2)·||W||² = reg·W，要加到 dW 上。",
        ),
        "backprop_reg_factor": (
            "Likely mistake: with the loss term (reg/2)·||W||², the gradient is reg·W, "
            "not 2·reg·W.",
            "可能的错误：损失项是 (reg/2)·||W||²，所以梯度是 reg·W，而不是 2·reg·W。",
        ),
        "backprop_reg_bias": (
            "Likely mistake: only the weights W1 and W2 are regularised, not the biases.",
            "可能的错误：只对权重 W1、W2 做正则化，偏置不做。",
        ),
        "backprop_mlp_mean": (
            "Likely mistake: the data loss is a mean over the batch, so its gradient is divided "
            "by N (the L2 term is not).",
            "可能的错误：数据损失是对批量取的均值，所以它的梯度要除以 N（L2 项不除）。",
        ),
        "backprop_fd_forward": (
            "Likely mistake: a one-sided difference (f(x + h) − f(x)) / h, whose error is of "
            "order h. Use central differences (f(x + h) − f(x − h)) / (2h), error of order h².",
            "可能的错误：用了单侧差分 (f(x + h) − f(x)) / h，误差是 h 量级。"
            "请用中心差分 (f(x + h) − f(x − h)) / (2h)，误差是 h² 量级。",
        ),
        "backprop_fd_two_h": (
            "Likely mistake: x + h and x − h are 2h apart: divide by 2h, not h.",
            "可能的错误：x + h 与 x − h 相距 2h：应除以 2h，而不是 h。",
        ),
        "backprop_fd_all_at_once": (
            "Likely mistake: every element was perturbed at once. Perturb one element at a "
            "time, leave the others as they are, and restore it afterwards.",
            "可能的错误：同时扰动了所有元素。每次只扰动一个元素，其余保持不变，之后再把它恢复。",
        ),
        "backprop_relerr_max": (
            "Likely mistake: the relative error is the largest element-wise ratio (np.max), "
            "not an average.",
            "可能的错误：相对误差取逐元素比值的最大值（np.max），而不是平均值。",
        ),
        "backprop_relerr_abs": (
            "Likely mistake: the denominator is |a| + |b| (absolute values taken before adding).",
            "可能的错误：分母是 |a| + |b|（先取绝对值再相加）。",
        ),
        "backprop_relerr_norm": (
            "Likely mistake: this course's relative error is element-wise: "
            "max |a − b| / max(1e-8, |a| + |b|), not a ratio of norms.",
            "可能的错误：本课程的相对误差是逐元素的：max |a − b| / max(1e-8, |a| + |b|)，"
            "而不是范数之比。",
        ),
        # --- the questions' hints -----------------------------------------------------
        "q3_3_factor": (
            "A wrong factor in the backward pass would disagree with finite differences too: "
            "they are computed from your forward pass, and a backward pass must match it.",
            "反向传播里的常数因子错了，也会与有限差分不一致：有限差分由你的前向传播算出，"
            "而反向传播必须与它一致。",
        ),
        "q3_3_small_h": (
            "A step h that is too small adds rounding error: that makes a finite-difference "
            "check fail, not pass.",
            "步长 h 太小会带来舍入误差：这会让有限差分检验失败，而不是通过。",
        ),
        "q3_3_autograd": (
            "Autograd in float64 agrees with a correct analytic gradient to about 1e-15 (the "
            "side-by-side table above shows it).",
            "float64 中的自动微分与正确的解析梯度一致到约 1e-15（上面的并排比较表显示了这一点）。",
        ),
        "q3_4_probability": (
            "0.1 = 1/C is the probability an untrained network gives each class; the loss is "
            "minus the natural log of the right class's probability.",
            "0.1 = 1/C 是未训练的网络给每个类别的概率；损失是正确类别概率的自然对数的相反数。",
        ),
        "q3_4_two_classes": (
            "ln 2 ≈ 0.693 is the loss of a two-class problem at the start; here C = 10.",
            "ln 2 ≈ 0.693 是二分类问题开始时的损失；这里 C = 10。",
        ),
        "q3_4_not_c": (
            "The loss is −ln(1/C) = ln C, not C itself.",
            "损失是 −ln(1/C) = ln C，而不是 C 本身。",
        ),
        "q3_4_zero": (
            "A loss of 0 means the right class has probability 1; an untrained network gives "
            "every class about 1/C.",
            "损失为 0 意味着正确类别的概率为 1；未训练的网络给每个类别的概率都约为 1/C。",
        ),
        "q3_4_sign": (
            "The cross-entropy is −ln p with p < 1, so it is positive.",
            "交叉熵是 −ln p，且 p < 1，所以它是正数。",
        ),
        "q3_4_base": (
            "The cross-entropy uses the natural logarithm (ln), not log10 or log2.",
            "交叉熵用的是自然对数（ln），不是 log10 或 log2。",
        ),
    }
)


# ------------------------------------------------------ 3.10 the two-layer MLP's loss

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _mlp_reference(params: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray, reg: float,
                   *, straight_through: bool = False) -> tuple[float, dict[str, np.ndarray]]:
    torch = _torch()
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    a = torch.tensor(X, dtype=torch.float64) @ t["W1"] + t["b1"]
    hidden = a.clamp(min=0)
    if straight_through:  # the same forward, a backward without the ReLU mask
        hidden = a + (hidden - a).detach()
    scores = hidden @ t["W2"] + t["b2"]
    loss = torch.nn.functional.cross_entropy(scores, torch.tensor(y))
    loss = loss + 0.5 * reg * ((t["W1"] ** 2).sum() + (t["W2"] ** 2).sum())
    loss.backward()
    return loss.item(), {k: v.grad.numpy().copy() for k, v in t.items()}


def _mlp_alternatives(params, X, y, reg) -> dict[str, list[tuple[str, np.ndarray]]]:
    _, data = _mlp_reference(params, X, y, 0.0)
    _, unmasked = _mlp_reference(params, X, y, 0.0, straight_through=True)
    n = X.shape[0]
    found: dict[str, list[tuple[str, np.ndarray]]] = {}
    for key in ("W1", "W2"):
        found[key] = [("backprop_mlp_mean", data[key] * n + reg * params[key]),
                      ("backprop_relu_mask_missing", unmasked[key] + reg * params[key])]
        if reg:
            found[key] = [("backprop_reg_missing", data[key]),
                          ("backprop_reg_factor", data[key] + 2 * reg * params[key]), *found[key]]
    for key in ("b1", "b2"):
        found[key] = [("backprop_mlp_mean", data[key] * n),
                      ("backprop_relu_mask_missing", unmasked[key])]
        if reg:
            found[key].insert(0, ("backprop_reg_bias", data[key] + reg * params[key]))
    return found


def _mlp_inputs(rng: np.random.Generator, shape: tuple) -> tuple[dict, np.ndarray, np.ndarray]:
    """shape = (N, D, H, C): batch, inputs, hidden units, classes."""
    n, d, h, c = shape
    drawn = _resample(lambda: {"W1": rng.standard_normal((d, h)) / np.sqrt(d),
                               "b1": rng.standard_normal(h) * 0.1,
                               "W2": rng.standard_normal((h, c)) / np.sqrt(h),
                               "b2": rng.standard_normal(c) * 0.1,
                               "X": rng.standard_normal((n, d))},
                      lambda t: float(np.min(np.abs(t["X"] @ t["W1"] + t["b1"]))), 1e-3)
    X = drawn.pop("X")
    return drawn, X, rng.integers(0, c, size=n)


@dataclass
class MLPLossSpec(Exercise):
    """``loss_and_grads(params, X, y, reg) -> (loss, grads)``: affine-ReLU-affine, softmax, L2."""

    tol: Tolerance = field(default_factory=Tolerance)

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   regs: Sequence[float] = (0.1,)) -> list[Case]:
        found = []
        for seed in seeds:
            for shape in shapes:
                for reg in regs:
                    params, X, y = _mlp_inputs(np.random.default_rng(seed), tuple(shape))
                    found.append(self.case(
                        seed=seed, inputs={**params, "X": X, "y": y},
                        data={"params": params, "reg": float(reg)},
                        description=f"seed={seed}, (N, D, H, C)={tuple(shape)}, reg={reg}"))
        return found

    def prepare(self, case: Case) -> None:
        params, X, y, reg = (case.data["params"], case.inputs["X"], case.inputs["y"],
                             case.data["reg"])
        case.data["loss"], case.data["grads"] = _mlp_reference(params, X, y, reg)
        case.data["alternatives"] = _mlp_alternatives(params, X, y, reg)

    def drive(self, steps: Steps, case: Case, loss_and_grads: Any) -> dict:
        name = function_name(loss_and_grads, "loss_and_grads")
        # params is made by a step, so the student receives that very dict and a later step
        # can see what is in it after the call (an array scaled in place, a key replaced)
        mine = {k: v.copy() for k, v in case.data["params"].items()}
        params = steps.method(mine, "copy", name="params", fetch=False)
        call = steps.call(loss_and_grads, params, case.inputs["X"], case.inputs["y"],
                          case.data["reg"], name=name, arg_names=("params", "X", "y", "reg"))
        return {"name": name, "call": call,
                "after": steps.method(params, "copy", name="params", fetch=True)}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        name = plan["name"]
        result = done.value(case, plan["call"])
        after = done.value(case, plan["after"])
        for key in PARAM_NAMES:
            value = after.get(key) if isinstance(after, dict) else None
            if not (isinstance(value, np.ndarray) and value.shape == case.data["params"][key].shape
                    and np.array_equal(value, case.data["params"][key])):
                raise case.failure("hdr_modified",
                                   M.bilingual("backprop_params_mutated", indent="  ",
                                               function=name, param=key),
                                   kind="mutated")
        loss, grads = _unpack(case, name, result, ("loss", "grads"))
        missing = [k for k in PARAM_NAMES if not isinstance(grads, Mapping) or k not in grads]
        if missing:
            raise CheckFailure(
                "\n".join([case.header("hdr_wrong", name="grads"),
                           M.bilingual("backprop_grads_dict", indent="  ", function=name,
                                       keys=", ".join(PARAM_NAMES), missing=", ".join(missing))]),
                kind="type", exercise=self.id)
        n = case.inputs["X"].shape[0]
        compare_array(case, "loss", np.asarray(case.data["loss"]), loss, tol=self.tol,
                      batch_size=n, header_key="hdr_mismatch_autograd")
        # Output layer first: an error there usually explains the ones below it.
        for key in ("W2", "b2", "W1", "b1"):
            compare_array(case, f"grads[{key!r}]", case.data["grads"][key], grads[key],
                          tol=self.tol, batch_size=n,
                          alternatives=case.data["alternatives"].get(key, []),
                          header_key="hdr_mismatch_autograd")


register(MLPLossSpec(id="mlp_loss_and_grads",
                     **numbered("3.10", "the two-layer MLP's loss and gradients",
                                "两层 MLP 的损失与梯度", ASSIGNMENT),
                     answer_text=("reg * W1", "\\text{reg} \\cdot W")))


# ------------------------------------------------------- 3.11 the numerical gradient
# Module-level functions (not lambdas): the grade of record hands them to the student's
# code in the sandbox as functions to call back.


def fd_cubic(x: np.ndarray) -> float:
    """sum(x³ − 2x² + x): each element on its own."""
    return float(np.sum(x**3 - 2 * x**2 + x))


def fd_logsumexp(x: np.ndarray) -> float:
    """log(sum(exp(x))) over every element: all elements coupled."""
    m = np.max(x)
    return float(m + np.log(np.sum(np.exp(x - m))))


def fd_tanh_ring(x: np.ndarray) -> float:
    """sum(tanh(v) · roll(v, 1)) with v = x flattened: neighbours coupled."""
    v = np.ravel(x)
    return float(np.sum(np.tanh(v) * np.roll(v, 1)))


FD_FUNCTIONS = {"fd_cubic": fd_cubic, "fd_logsumexp": fd_logsumexp, "fd_tanh_ring": fd_tanh_ring}
FD_TORCH = {
    "fd_cubic": lambda x: (x**3 - 2 * x**2 + x).sum(),
    "fd_logsumexp": lambda x: _torch().logsumexp(x.reshape(-1), dim=0),
    "fd_tanh_ring": lambda x: (_torch().tanh(x.reshape(-1)) * _torch().roll(x.reshape(-1), 1)).sum(),
}


@dataclass
class NumericalGradientSpec(Exercise):
    """``numerical_gradient(f, x, h) -> grad``: central differences against autograd, at the
    accuracy central differences have (the answer *is* a finite difference)."""

    needs_solution: ClassVar[bool] = True
    strict_gradients: ClassVar[bool] = False
    tol: Tolerance = field(default_factory=lambda: Tolerance(rtol=1e-6, atol=1e-7))

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   h: float = 1e-5) -> list[Case]:
        return [self.case(seed=seed, inputs={"x": np.random.default_rng(seed).standard_normal(
                              tuple(shape))}, data={"f": f, "h": h},
                          description=f"f={f}, seed={seed}, x.shape={tuple(shape)}, h={h}")
                for seed in seeds for shape in shapes for f in FD_FUNCTIONS]

    def prepare(self, case: Case) -> None:
        f, x, h = case.data["f"], case.inputs["x"], case.data["h"]
        _, grads = torchref.evaluate(FD_TORCH[f], {"x": x}, ("x",))
        case.data["expected"] = grads["x"]
        case.data["alternatives"] = _ref().numerical_gradient_mutants(FD_FUNCTIONS[f], x, h,
                                                                       grads["x"])

    def drive(self, steps: Steps, case: Case, numerical_gradient: Any) -> tuple[str, Any]:
        name = function_name(numerical_gradient, "numerical_gradient")
        return name, steps.call(numerical_gradient, FD_FUNCTIONS[case.data["f"]],
                                case.inputs["x"], case.data["h"], name=name,
                                arg_names=("f", "x", "h"))

    def judge(self, case: Case, done: Done, plan: tuple[str, Any]) -> None:
        __tracebackhide__ = True
        actual = done.value(case, plan[1])
        try:
            compare_array(case, "grad", case.data["expected"], actual, tol=self.tol,
                          alternatives=case.data["alternatives"],
                          header_key="hdr_mismatch_autograd")
        except CheckFailure as failure:
            if np.shape(actual) != case.data["expected"].shape:
                raise
            note = M.bilingual("backprop_fd_tolerance", indent="  ", h=case.data["h"])
            raise CheckFailure(f"{failure.args[0]}\n{note}", kind=failure.kind,
                               exercise=self.id) from None


register(NumericalGradientSpec(id="numerical_gradient",
                               **numbered("3.11", "numerical gradient", "数值梯度", ASSIGNMENT)))


# --------------------------------------------------------- 3.12 the relative error


def _relerr_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    a = rng.standard_normal(tuple(shape))
    b = a * (1 + rng.standard_normal(tuple(shape)) * 10.0 ** rng.uniform(-9, -3, tuple(shape)))
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    if flat_a.size >= 3:  # an exact match, both zero, and a sign flip
        flat_b[0] = flat_a[0]
        flat_a[1] = flat_b[1] = 0.0
        flat_b[2] = -flat_a[2] * 0.5
    return {"a": a, "b": b}


register(FunctionSpec(
    id="relative_error", **numbered("3.12", "relative error", "相对误差", ASSIGNMENT),
    make_inputs=_relerr_inputs,
    reference=lambda a, b: _ref().relative_error(a, b), numpy_reference=True,
    output_name="rel_error", mutants=lambda *a: _ref().relative_error_mutants(*a)))


# ------------------------------------------------------------------------ questions

for question in questions(ASSIGNMENT, "q3_3", "q3_4"):
    register(question)
