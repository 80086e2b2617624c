"""Assignment 03 · 手推反向传播: backward passes written by hand, checked against autograd.

Every expected value here comes from PyTorch autograd in float64 on the same
inputs, with a random upstream gradient where the function has one. What this
module adds to the shared specs:

* :class:`CachedLayerSpec`, a :class:`~grader.checks.specs.LayerSpec` that also fails
  a backward which writes into its cache (``out *= 1 - out``): such a backward
  returns the right numbers once and wrong ones the second time.
* small custom exercises (the scalar chain rule, the four gate rules, the MLP's
  ``loss_and_grads``, the numerical gradient) whose inputs are not one batch.
* ``mutants``: what the classic mistakes return, so that a failure can name the
  mistake (transposed ``dW``, ``db`` not summed, missing ``1/N``, mask from the
  output, wrong sign, missing skip path, L2 term forgotten, forward differences).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import (
    Case,
    CheckFailure,
    Tolerance,
    as_tuple,
    call_student,
    compare_array,
    report_pass,
)
from grader.checks.exercises import register
from grader.checks.specs import Exercise, FunctionSpec, LayerSpec, LossSpec, _unpack, away_from, function_name

ASSIGNMENT = "03_backprop"

M.register(
    {
        # --- failures that are not a value mismatch ---------------------------------
        "backprop_cache_mutated": (
            "Your `{function}` changed `{name}` in place. The cache belongs to the forward "
            "pass: backward may read it but must not write to it, because the same cache can "
            "be used again (a second backward, a gradient check). Build new arrays "
            "(`dx = dout * out * (1 - out)`) instead of updating old ones (`out *= 1 - out`).",
            "你的 `{function}` 原地修改了 `{name}`。缓存属于前向传播：反向传播可以读它，但不能写它，"
            "因为同一个缓存可能还会再用（再做一次反向传播、做梯度检验）。"
            "请创建新数组（`dx = dout * out * (1 - out)`），不要原地更新旧数组（`out *= 1 - out`）。",
        ),
        "backprop_neuron_cache": (
            "`{function}` should return (L, cache) where cache is a dict holding the forward "
            "values, with at least the keys 'z' and 'h'; found {found}.",
            "`{function}` 应当返回 (L, cache)，其中 cache 是保存前向数值的 dict，"
            "至少包含键 'z' 和 'h'；实际得到 {found}。",
        ),
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
        # --- likely mistakes (hints; no placeholders) ---------------------------------
        "backprop_sigmoid_from_input": (
            "Likely mistake: the derivative of the sigmoid was evaluated on its input. "
            "σ'(z) = h·(1 − h) with h = σ(z), the output saved by the forward pass, not z·(1 − z).",
            "可能的错误：sigmoid 的导数用输入算了。σ'(z) = h·(1 − h)，其中 h = σ(z) 是前向传播"
            "保存的输出，而不是 z·(1 − z)。",
        ),
        "backprop_sigmoid_formula": (
            "Likely mistake: the local derivative of the sigmoid is wrong. "
            "σ'(x) = σ(x)·(1 − σ(x)); multiply it by dout.",
            "可能的错误：sigmoid 的局部导数不对。σ'(x) = σ(x)·(1 − σ(x))，再乘以 dout。",
        ),
        "backprop_tanh_from_input": (
            "Likely mistake: the derivative of tanh was evaluated on its input. "
            "tanh'(x) = 1 − out², with out = tanh(x) saved by the forward pass, not 1 − x².",
            "可能的错误：tanh 的导数用输入算了。tanh'(x) = 1 − out²，其中 out = tanh(x) "
            "是前向传播保存的输出，而不是 1 − x²。",
        ),
        "backprop_tanh_square": (
            "Likely mistake: tanh'(x) = 1 − tanh(x)², with the square.",
            "可能的错误：tanh'(x) = 1 − tanh(x)²，别漏了平方。",
        ),
        "backprop_dw_missing_x": (
            "Likely mistake: dL/dw = dL/dz · x. The weight is multiplied by x in the forward "
            "pass, so its gradient is multiplied by x.",
            "可能的错误：dL/dw = dL/dz · x。前向传播中权重乘以 x，所以它的梯度也要乘以 x。",
        ),
        "backprop_db_is_dz": (
            "Likely mistake: the bias enters z = w·x + b with coefficient 1, so dL/db = dL/dz.",
            "可能的错误：偏置以系数 1 进入 z = w·x + b，所以 dL/db = dL/dz。",
        ),
        "backprop_mul_swap": (
            "Likely mistake: a multiply gate swaps its inputs: for out = x·y, "
            "dx = dout·y and dy = dout·x.",
            "可能的错误：乘法门会交换输入：对 out = x·y，dx = dout·y，dy = dout·x。",
        ),
        "backprop_add_passes": (
            "Likely mistake: an add gate passes dout unchanged to both inputs.",
            "可能的错误：加法门把 dout 原样传给两个输入。",
        ),
        "backprop_max_route": (
            "Likely mistake: a max gate routes all of dout to the input that won the forward "
            "pass and 0 to the other.",
            "可能的错误：max 门把全部 dout 传给前向传播中取胜的那个输入，另一个输入得到 0。",
        ),
        "backprop_copy_sum": (
            "Likely mistake: a variable used twice (copy, fan-out) receives the sum of the "
            "gradients from both uses.",
            "可能的错误：被使用两次的变量（复制、扇出）得到两条路径梯度之和。",
        ),
        "backprop_affine_dx": (
            "Likely mistake: dx = dout @ w.T, of shape (N, M)·(M, D) = (N, D); the transpose "
            "of w is missing.",
            "可能的错误：dx = dout @ w.T，形状为 (N, M)·(M, D) = (N, D)；少了 w 的转置。",
        ),
        "backprop_db_axis": (
            "Likely mistake: db sums dout over the batch axis (axis=0), not over the outputs.",
            "可能的错误：db 应当沿批量维度（axis=0）对 dout 求和，而不是沿输出维度。",
        ),
        "backprop_softmax_onehot": (
            "Likely mistake: the one-hot target was not subtracted. "
            "dx = (softmax(x) − onehot(y)) / N.",
            "可能的错误：没有减去独热（one-hot）标签。dx = (softmax(x) − onehot(y)) / N。",
        ),
        "backprop_mse_mean": (
            "Likely mistake: the mean runs over all N·K elements of y_hat, so the gradient is "
            "2·(y_hat − y) / (N·K).",
            "可能的错误：均值是对 y_hat 的全部 N·K 个元素取的，所以梯度是 2·(y_hat − y) / (N·K)。",
        ),
        "backprop_mse_two": (
            "Likely mistake: d/dŷ (ŷ − y)² = 2·(ŷ − y); the factor 2 is missing.",
            "可能的错误：d/dŷ (ŷ − y)² = 2·(ŷ − y)；少了因子 2。",
        ),
        "backprop_skip_missing": (
            "Likely mistake: the identity (skip) path is missing. out = x + F(x), so "
            "dx = dout + (the gradient through F).",
            "可能的错误：漏了恒等（跳跃）路径。out = x + F(x)，所以 dx = dout + （经过 F 的梯度）。",
        ),
        "backprop_branch_missing": (
            "Likely mistake: only the skip path was kept. x also feeds relu(x @ w + b), whose "
            "gradient must be added to dout.",
            "可能的错误：只保留了跳跃路径。x 还流入 relu(x @ w + b)，它的梯度也要加到 dout 上。",
        ),
        "backprop_relu_mask_missing": (
            "Likely mistake: the ReLU mask was not applied. Zero the upstream gradient where "
            "the ReLU's input was negative before going further back.",
            "可能的错误：没有应用 ReLU 掩码。继续向后传播之前，"
            "要把 ReLU 输入为负的位置上的梯度置零。",
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
    }
)


# --------------------------------------------------------------------- cache guard


class _Unchecked:
    pass


def _snapshot(obj: Any, depth: int = 0) -> Any:
    """Copies of the arrays inside a cache (through tuples, lists and dicts).

    Only arrays are checked: they keep their identity when the trusted grader runs student
    code in a sandbox, so an in-place change is seen there exactly as in the student's kernel.
    Containers and scalars cross that boundary by value, so changes to them are not judged.
    """
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if depth < 8 and isinstance(obj, (tuple, list)):
        return [_snapshot(item, depth + 1) for item in obj]
    if depth < 8 and isinstance(obj, dict):
        return {key: _snapshot(value, depth + 1) for key, value in obj.items()}
    return _Unchecked()


def _first_change(before: Any, after: Any, path: str) -> str | None:
    """The path of the first array in a cache that differs from its snapshot, or None."""
    if isinstance(before, np.ndarray):
        if (not isinstance(after, np.ndarray) or after.shape != before.shape
                or not np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")):
            return path
        return None
    if isinstance(before, list) and isinstance(after, (tuple, list)):
        for index, (b, a) in enumerate(zip(before, after)):  # noqa: B905 - lengths may differ
            found = _first_change(b, a, f"{path}[{index}]")
            if found:
                return found
    if isinstance(before, dict) and isinstance(after, dict):
        for key in before:
            if key in after:
                found = _first_change(before[key], after[key], f"{path}[{key!r}]")
                if found:
                    return found
    return None


def _check_cache(case: Case, function: str, before: Any, after: Any) -> None:
    __tracebackhide__ = True
    changed = _first_change(before, after, "cache")
    if changed:
        raise CheckFailure(
            "\n".join([
                case.header("hdr_modified"),
                M.bilingual("backprop_cache_mutated", indent="  ", function=function,
                            name=changed),
                *case.reproduce_lines(),
            ]),
            kind="mutated",
            exercise=case.exercise,
        )


@dataclass
class CachedLayerSpec(LayerSpec):
    """A LayerSpec whose backward must leave its cache (and its dout) exactly as it found them."""

    def drive(self, steps, case, forward, backward):
        __tracebackhide__ = True
        plan = super().drive(steps, case, forward, backward)
        # The cache as backward left it: compared with the cache forward returned.
        plan["cache_after"] = steps.item(plan["forward"], 1, fetch=True)
        return plan

    def check_backward(self, case, done, plan):
        __tracebackhide__ = True
        backward = done[plan["backward"]]
        if backward.status != "ok":
            return  # its own failure is reported by the caller
        before = _snapshot(done.value(case, plan["forward"])[1])
        after = done[plan["cache_after"]].value
        _check_cache(case, plan["names"]["backward"], before, after)


def _torch():
    return torchref.torch


def _resample(rng: np.random.Generator, make: Callable[[], dict],
              margin_of: Callable[[dict], float], margin: float) -> dict:
    """Draw ``make()`` until ``margin_of`` says every ReLU input is at least ``margin`` from 0."""
    for _ in range(1000):
        inputs = make()
        if margin_of(inputs) >= margin:
            return inputs
    raise RuntimeError("could not draw inputs away from the ReLU kink")  # pragma: no cover


# ------------------------------------------------------- 3.1 the chain rule on one neuron


def _neuron_reference(w: float, x: float, b: float, y: float) -> dict[str, float]:
    torch = _torch()
    t = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=k in "wb")
         for k, v in {"w": w, "x": x, "b": b, "y": y}.items()}
    z = t["w"] * t["x"] + t["b"]
    z.retain_grad()
    h = torch.sigmoid(z)
    h.retain_grad()
    loss = 0.5 * (h - t["y"]) ** 2
    loss.backward()
    return {
        "L": loss.item(), "z": z.item(), "h": h.item(),
        "dh": h.grad.item(), "dz": z.grad.item(), "dw": t["w"].grad.item(),
        "db": t["b"].grad.item(),
    }


def _as_scalar(value: Any) -> Any:
    try:
        array = np.asarray(value, dtype=np.float64)
    except Exception:
        return value
    return array.reshape(()) if array.size == 1 else array


@dataclass
class NeuronSpec(Exercise):
    """``neuron_forward(w, x, b, y) -> (L, cache)``, ``neuron_backward(cache) -> (dh, dz, dw, db)``.

    Scalars in, scalars out. Several cases are stacked so that a failure can say whether
    every case is off in the same way.
    """

    tol: Tolerance = field(default_factory=Tolerance)

    def _cases(self, seeds: Sequence[int], cases: Sequence[Sequence[float]]) -> list[list[tuple]]:
        groups = []
        for seed in seeds:
            rng = np.random.default_rng(seed)
            group = []
            for _ in range(4):
                w, x, b = (float(v) for v in rng.standard_normal(3) * 1.5)
                y = float(rng.uniform(0, 1))
                group.append((w, x, b, y))
            groups.append(group)
        if cases:
            groups.append([tuple(float(v) for v in c) for c in cases])
        return groups

    def run(self, forward, backward, *, seeds: Sequence[int] = (), cases: Sequence = ()) -> None:
        __tracebackhide__ = True
        fwd = function_name(forward, "neuron_forward")
        bwd = function_name(backward, "neuron_backward")
        count = 0
        for group in self._cases(seeds, cases):
            shown = "; ".join(f"{i}: ({w:.4g}, {x:.4g}, {b:.4g}, {y:.4g})"
                              for i, (w, x, b, y) in enumerate(group))
            case = self.case(description=f"(w, x, b, y) = {shown}")
            expected = {k: np.array([_neuron_reference(*c)[k] for c in group])
                        for k in ("L", "z", "h", "dh", "dz", "dw", "db")}
            found: dict[str, list] = {k: [] for k in expected}
            for w, x, b, y in group:
                loss, cache = _unpack(case, fwd, call_student(case, fwd, forward, w, x, b, y),
                                      ("L", "cache"))
                if not isinstance(cache, dict) or not {"z", "h"} <= set(cache):
                    raise CheckFailure(
                        "\n".join([
                            case.header("hdr_wrong", name="cache"),
                            M.bilingual("backprop_neuron_cache", indent="  ", function=fwd,
                                        found=type(cache).__name__ if not isinstance(cache, dict)
                                        else f"keys {sorted(map(str, cache))}"),
                        ]),
                        kind="type", exercise=self.id,
                    )
                found["L"].append(_as_scalar(loss))
                found["z"].append(_as_scalar(cache["z"]))
                found["h"].append(_as_scalar(cache["h"]))
                before = _snapshot(cache)
                grads = _unpack(case, bwd, call_student(case, bwd, backward, cache),
                                ("dh", "dz", "dw", "db"))
                _check_cache(case, bwd, before, cache)
                for key, value in zip(("dh", "dz", "dw", "db"), grads, strict=True):
                    found[key].append(_as_scalar(value))
            e = expected
            x = np.array([c[1] for c in group])
            w = np.array([c[0] for c in group])
            z, h = e["z"], e["h"]
            hints = {
                "dz": [("backprop_sigmoid_from_input", e["dh"] * z * (1 - z)),
                       ("hint_ignores_upstream", h * (1 - h))],
                "dw": [("backprop_dw_missing_x", e["dz"]), ("backprop_mul_swap", e["dz"] * w)],
                "db": [("backprop_db_is_dz", e["dz"] * x)],
            }
            for key in ("L", "z", "h", "dh", "dz", "dw", "db"):
                name = {"z": "cache['z']", "h": "cache['h']"}.get(key, key)
                actual = _stack(found[key])
                compare_array(case, name, e[key], actual, tol=self.tol,
                              alternatives=hints.get(key, []),
                              header_key="hdr_mismatch_autograd")
            count += len(group)
        report_pass(self.title, count)


def _stack(values: list) -> Any:
    try:
        return np.stack([np.asarray(v, dtype=np.float64) for v in values])
    except Exception:
        return values[0] if len(values) == 1 else np.asarray(values, dtype=object)


register(
    NeuronSpec(
        id="neuron_chain",
        title_en="Exercise 3.1 · the chain rule on one neuron",
        title_zh="练习 3.1 · 单个神经元上的链式法则",
        assignment=ASSIGNMENT,
    )
)


# ------------------------------------------------------------------- 3.2a gate rules


def _pair_away(rng: np.random.Generator, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    x = rng.standard_normal(shape)
    y = x + away_from(rng, shape, kinks=(0.0,), margin=0.05)
    return x, y


@dataclass
class GateRulesSpec(Exercise):
    """The four local rules: add, mul, max ``(dout, x, y) -> (dx, dy)``; copy ``(da, db) -> dx``."""

    tol: Tolerance = field(default_factory=Tolerance)

    def run(self, add_backward, mul_backward, max_backward, copy_backward, *,
            seeds: Sequence[int], shapes: Sequence[tuple]) -> None:
        __tracebackhide__ = True
        torch = _torch()
        gates = [
            ("add_backward", add_backward, lambda x, y: x + y),
            ("mul_backward", mul_backward, lambda x, y: x * y),
            ("max_backward", max_backward, lambda x, y: torch.maximum(x, y)),
        ]
        count = 0
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
                x, y = _pair_away(rng, tuple(shape))
                dout = rng.standard_normal(tuple(shape))
                inputs = {"dout": dout, "x": x, "y": y}
                case = self.case(seed=seed, inputs=inputs)
                mine = {
                    "add_backward": {"x": [("backprop_add_passes", dout / 2)],
                                     "y": [("backprop_add_passes", dout / 2)]},
                    "mul_backward": {"x": [("backprop_mul_swap", dout * x)],
                                     "y": [("backprop_mul_swap", dout * y)]},
                    "max_backward": {"x": [("backprop_max_route", dout * (x < y)),
                                           ("backprop_max_route", dout)],
                                     "y": [("backprop_max_route", dout * (y < x)),
                                           ("backprop_max_route", dout)]},
                }
                for name, student, reference in gates:
                    fn_name = function_name(student, name)
                    _, grads = torchref.evaluate(reference, {"x": x, "y": y}, ("x", "y"), dout)
                    result = call_student(case, fn_name, student, dout.copy(), x.copy(),
                                          y.copy(), arg_names=("dout", "x", "y"))
                    dx, dy = _unpack(case, fn_name, result, ("dx", "dy"))
                    for var, value in (("x", dx), ("y", dy)):
                        compare_array(case, f"d{var} ({fn_name})", grads[var], value,
                                      tol=self.tol, alternatives=mine[name][var],
                                      header_key="hdr_mismatch_autograd")
                # copy: the same x sent down two branches whose gradients are da and db
                da, db = dout, rng.standard_normal(tuple(shape))
                fn_name = function_name(copy_backward, "copy_backward")
                copy_case = self.case(seed=seed, inputs={"dout_a": da, "dout_b": db})
                _, grads = torchref.evaluate(lambda x: torch.stack([x, x]), {"x": x}, ("x",),
                                             np.stack([da, db]))
                result = call_student(copy_case, fn_name, copy_backward, da.copy(), db.copy(),
                                      arg_names=("dout_a", "dout_b"))
                (dx,) = _unpack(copy_case, fn_name, as_tuple(result), ("dx",))
                compare_array(copy_case, f"dx ({fn_name})", grads["x"], dx, tol=self.tol,
                              alternatives=[("backprop_copy_sum", da), ("backprop_copy_sum", db),
                                            ("backprop_copy_sum", (da + db) / 2)],
                              header_key="hdr_mismatch_autograd")
                count += 1
        report_pass(self.title, count)


register(
    GateRulesSpec(
        id="gate_rules",
        title_en="Exercise 3.2a · the four gate rules",
        title_zh="练习 3.2a · 四种门的反向规则",
        assignment=ASSIGNMENT,
    )
)


# ------------------------------------------------------------ 3.2b a small graph


def _graph_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    x = rng.standard_normal(shape)
    y, z = _pair_away(rng, shape)
    return {"x": x, "y": y, "z": z}


def _graph_mutants(inputs, dout, params):
    x, y, z = inputs["x"], inputs["y"], inputs["z"]
    q, m = x + y, np.maximum(y, z)
    win_y, win_z = (y > z), (z > y)
    return {
        "x": [("backprop_mul_swap", dout * q)],
        "y": [
            ("backprop_copy_sum", dout * m),  # only the add path
            ("backprop_copy_sum", dout * q * win_y),  # only the max path
            ("backprop_max_route", dout * m + dout * q),  # max passed to both inputs
            ("backprop_mul_swap", dout * q + dout * m * win_y),
        ],
        "z": [("backprop_max_route", dout * q), ("backprop_max_route", dout * q * win_y),
              ("backprop_mul_swap", dout * m * win_z)],
    }


register(
    CachedLayerSpec(
        id="gate_graph",
        title_en="Exercise 3.2b · a small computation graph",
        title_zh="练习 3.2b · 一个小计算图",
        assignment=ASSIGNMENT,
        make_inputs=_graph_inputs,
        reference=lambda x, y, z: (x + y) * y.maximum(z),
        grads=("x", "y", "z"),
        mutants=_graph_mutants,
    )
)


# ------------------------------------------------------------------- 3.3 affine layer


def _affine_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, D, M): a batch of N rows of D features mapped to M outputs."""
    n, d, m = shape
    return {
        "x": rng.standard_normal((n, d)),
        "w": rng.standard_normal((d, m)) / np.sqrt(d),
        "b": rng.standard_normal(m),
    }


def _affine_mutants(inputs, dout, params):
    w = inputs["w"]
    found: dict[str, list] = {"x": [], "w": [], "b": []}
    if dout.shape[1] == w.shape[0]:  # D == M: dout @ w has the right shape but is wrong
        found["x"].append(("backprop_affine_dx", dout @ w))
    if dout.shape[0] == dout.shape[1]:  # N == M: a sum over the wrong axis has the right shape
        found["b"].append(("backprop_db_axis", dout.sum(axis=1)))
    return found


register(
    CachedLayerSpec(
        id="affine",
        title_en="Exercise 3.3 · affine layer",
        title_zh="练习 3.3 · 仿射层",
        assignment=ASSIGNMENT,
        make_inputs=_affine_inputs,
        reference=lambda x, w, b: x @ w + b,
        grads=("x", "w", "b"),
        mutants=_affine_mutants,
    )
)


# --------------------------------------------------------------------- 3.4 ReLU layer


def _relu_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    return {"x": away_from(rng, shape, kinks=(0.0,), margin=1e-3)}


def _relu_mutants(inputs, dout, params):
    x = inputs["x"]
    out = np.maximum(x, 0)
    return {
        "x": [
            # the mask built from dout, or from an output that was clipped with >= 0
            ("hint_mask_from_output", dout * (dout > 0)),
            ("hint_mask_from_output", dout * (out >= 0)),
            ("hint_mask_from_output", np.maximum(dout, 0)),
        ]
    }


register(
    CachedLayerSpec(
        id="relu",
        title_en="Exercise 3.4 · ReLU layer",
        title_zh="练习 3.4 · ReLU 层",
        assignment=ASSIGNMENT,
        make_inputs=_relu_inputs,
        reference=lambda x: x.clamp(min=0),
        grads=("x",),
        mutants=_relu_mutants,
    )
)


# ------------------------------------------------------------ 3.5 / 3.6 sigmoid, tanh


def _spread_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    return {"x": rng.standard_normal(shape) * 3.0}


def _sigmoid_mutants(inputs, dout, params):
    x = inputs["x"]
    s = 1 / (1 + np.exp(-x))
    return {"x": [("backprop_sigmoid_from_input", dout * x * (1 - x)),
                  ("backprop_sigmoid_formula", dout * s),
                  ("backprop_sigmoid_formula", dout * (1 - s)),
                  ("backprop_sigmoid_formula", dout * s * (1 + s))]}


def _tanh_mutants(inputs, dout, params):
    x = inputs["x"]
    t = np.tanh(x)
    return {"x": [("backprop_tanh_from_input", dout * (1 - x**2)),
                  ("backprop_tanh_square", dout * (1 - t)),
                  ("backprop_tanh_square", dout * (1 - np.abs(t)))]}


register(
    CachedLayerSpec(
        id="sigmoid_layer",
        title_en="Exercise 3.5 · sigmoid layer",
        title_zh="练习 3.5 · sigmoid 层",
        assignment=ASSIGNMENT,
        make_inputs=_spread_inputs,
        reference=lambda x: x.sigmoid(),
        grads=("x",),
        mutants=_sigmoid_mutants,
    )
)

register(
    CachedLayerSpec(
        id="tanh_layer",
        title_en="Exercise 3.6 · tanh layer",
        title_zh="练习 3.6 · tanh 层",
        assignment=ASSIGNMENT,
        make_inputs=_spread_inputs,
        reference=lambda x: x.tanh(),
        grads=("x",),
        mutants=_tanh_mutants,
    )
)


# ------------------------------------------------------------- 3.7 / 3.8 the losses


def _softmax_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, C) or (N, C, offset): N rows of C logits, all shifted by ``offset``."""
    n, c, *rest = shape
    offset = float(rest[0]) if rest else 0.0
    return {"x": rng.standard_normal((n, c)) * 2.0 + offset,
            "y": rng.integers(0, c, size=n)}


def _softmax_ce_reference(x, y):
    torch = _torch()
    return torch.nn.functional.cross_entropy(x, y)


def _softmax_mutants(inputs, dout, params):
    x = inputs["x"]
    n = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return {"x": [("backprop_softmax_onehot", p / n), ("backprop_softmax_onehot", p)]}


register(
    LossSpec(
        id="softmax_ce_loss",
        title_en="Exercise 3.7 · softmax cross-entropy loss",
        title_zh="练习 3.7 · softmax 交叉熵损失",
        assignment=ASSIGNMENT,
        make_inputs=_softmax_inputs,
        reference=_softmax_ce_reference,
        grads=("x",),
        mutants=_softmax_mutants,
    )
)


def _mse_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, K): N predictions of K numbers each."""
    return {"y_hat": rng.standard_normal(tuple(shape)), "y": rng.standard_normal(tuple(shape))}


def _mse_mutants(inputs, dout, params):
    y_hat, y = inputs["y_hat"], inputs["y"]
    n = y_hat.shape[0]
    diff = y_hat - y
    found = [("backprop_mse_two", diff / diff.size)]
    if diff.size != n:
        found += [("backprop_mse_mean", 2 * diff / n), ("backprop_mse_mean", diff / n)]
    return {"y_hat": found}


register(
    LossSpec(
        id="mse_loss",
        title_en="Exercise 3.8 · mean squared error loss",
        title_zh="练习 3.8 · 均方误差损失",
        assignment=ASSIGNMENT,
        make_inputs=_mse_inputs,
        reference=lambda y_hat, y: ((y_hat - y) ** 2).mean(),
        grads=("y_hat",),
        mutants=_mse_mutants,
    )
)


# --------------------------------------------------------------- 3.9 residual block


def _residual_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, D): out = x + relu(x @ w + b) keeps the width D."""
    n, d = shape

    def make():
        return {"x": rng.standard_normal((n, d)),
                "w": rng.standard_normal((d, d)) / np.sqrt(d),
                "b": rng.standard_normal(d) * 0.1}

    return _resample(rng, make, lambda t: float(np.min(np.abs(t["x"] @ t["w"] + t["b"]))), 1e-3)


def _residual_reference(x, w, b):
    return x + (x @ w + b).clamp(min=0)


def _residual_mutants(inputs, dout, params):
    x, w, b = inputs["x"], inputs["w"], inputs["b"]
    a = x @ w + b
    da = dout * (a > 0)
    return {
        "x": [("backprop_skip_missing", da @ w.T), ("backprop_branch_missing", dout),
              ("backprop_relu_mask_missing", dout + dout @ w.T),
              ("backprop_affine_dx", dout + da @ w)],
        "w": [("backprop_relu_mask_missing", x.T @ dout)],
        "b": [("backprop_relu_mask_missing", dout.sum(axis=0))],
    }


register(
    CachedLayerSpec(
        id="residual_block",
        title_en="Exercise 3.9 · residual block",
        title_zh="练习 3.9 · 残差块",
        assignment=ASSIGNMENT,
        make_inputs=_residual_inputs,
        reference=_residual_reference,
        grads=("x", "w", "b"),
        mutants=_residual_mutants,
    )
)


# ------------------------------------------------------ 3.10 the two-layer MLP's loss

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _mlp_inputs(rng: np.random.Generator, shape: tuple) -> tuple[dict, np.ndarray, np.ndarray]:
    """shape = (N, D, H, C): batch, inputs, hidden units, classes."""
    n, d, h, c = shape

    def make():
        return {
            "W1": rng.standard_normal((d, h)) / np.sqrt(d),
            "b1": rng.standard_normal(h) * 0.1,
            "W2": rng.standard_normal((h, c)) / np.sqrt(h),
            "b2": rng.standard_normal(c) * 0.1,
            "X": rng.standard_normal((n, d)),
        }

    drawn = _resample(rng, make,
                      lambda t: float(np.min(np.abs(t["X"] @ t["W1"] + t["b1"]))), 1e-3)
    X = drawn.pop("X")
    y = rng.integers(0, c, size=n)
    return drawn, X, y


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


@dataclass
class MLPLossSpec(Exercise):
    """``loss_and_grads(params, X, y, reg) -> (loss, grads)``: affine-ReLU-affine, softmax, L2."""

    tol: Tolerance = field(default_factory=Tolerance)

    def run(self, loss_and_grads, *, seeds: Sequence[int], shapes: Sequence[tuple],
            regs: Sequence[float] = (0.1,)) -> None:
        __tracebackhide__ = True
        name = function_name(loss_and_grads, "loss_and_grads")
        count = 0
        for seed in seeds:
            for shape in shapes:
                for reg in regs:
                    rng = np.random.default_rng(seed)
                    params, X, y = _mlp_inputs(rng, tuple(shape))
                    case = self.case(
                        seed=seed, inputs={**params, "X": X, "y": y},
                        description=f"seed={seed}, (N, D, H, C)={tuple(shape)}, reg={reg}",
                    )
                    loss_ref, grads_ref = _mlp_reference(params, X, y, reg)
                    given = {k: v.copy() for k, v in params.items()}
                    passed = dict(given)  # the arrays themselves: in-place changes show here
                    result = call_student(case, name, loss_and_grads, given, X.copy(), y.copy(),
                                          float(reg), arg_names=("params", "X", "y", "reg"))
                    for key in PARAM_NAMES:
                        if not np.array_equal(passed[key], params[key]):
                            raise CheckFailure(
                                "\n".join([
                                    case.header("hdr_modified"),
                                    M.bilingual("backprop_params_mutated", indent="  ",
                                                function=name, param=key),
                                    *case.reproduce_lines(),
                                ]),
                                kind="mutated", exercise=self.id,
                            )
                    loss, grads = _unpack(case, name, result, ("loss", "grads"))
                    missing = [k for k in PARAM_NAMES
                               if not isinstance(grads, Mapping) or k not in grads]
                    if missing:
                        raise CheckFailure(
                            "\n".join([
                                case.header("hdr_wrong", name="grads"),
                                M.bilingual("backprop_grads_dict", indent="  ", function=name,
                                            keys=", ".join(PARAM_NAMES),
                                            missing=", ".join(missing)),
                            ]),
                            kind="type", exercise=self.id,
                        )
                    n = X.shape[0]
                    compare_array(case, "loss", np.asarray(loss_ref), loss, tol=self.tol,
                                  batch_size=n, header_key="hdr_mismatch_autograd")
                    alternatives = self._alternatives(params, X, y, float(reg))
                    # Output layer first: an error there usually explains the ones below it.
                    for key in ("W2", "b2", "W1", "b1"):
                        compare_array(case, f"grads[{key!r}]", grads_ref[key], grads[key],
                                      tol=self.tol, batch_size=n,
                                      alternatives=alternatives.get(key, []),
                                      header_key="hdr_mismatch_autograd")
                    count += 1
        report_pass(self.title, count)

    @staticmethod
    def _alternatives(params, X, y, reg) -> dict[str, list[tuple[str, np.ndarray]]]:
        _, data = _mlp_reference(params, X, y, 0.0)
        _, unmasked = _mlp_reference(params, X, y, 0.0, straight_through=True)
        n = X.shape[0]
        found: dict[str, list[tuple[str, np.ndarray]]] = {}
        for key in ("W1", "W2"):
            found[key] = [("backprop_mlp_mean", data[key] * n + reg * params[key]),
                          ("backprop_relu_mask_missing", unmasked[key] + reg * params[key])]
            if reg:
                found[key] = [("backprop_reg_missing", data[key]),
                              ("backprop_reg_factor", data[key] + 2 * reg * params[key]),
                              *found[key]]
        for key in ("b1", "b2"):
            found[key] = [("backprop_mlp_mean", data[key] * n),
                          ("backprop_relu_mask_missing", unmasked[key])]
            if reg:
                found[key].insert(0, ("backprop_reg_bias", data[key] + reg * params[key]))
        return found


register(
    MLPLossSpec(
        id="mlp_loss_and_grads",
        title_en="Exercise 3.10 · the two-layer MLP's loss and gradients",
        title_zh="练习 3.10 · 两层 MLP 的损失与梯度",
        assignment=ASSIGNMENT,
    )
)


# ------------------------------------------------------- 3.11 the numerical gradient
# Module-level functions (not lambdas), so that a grader running student code in another
# process can hand them over by name.


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


def _fd_torch(name: str):
    torch = _torch()
    return {
        "fd_cubic": lambda x: (x**3 - 2 * x**2 + x).sum(),
        "fd_logsumexp": lambda x: torch.logsumexp(x.reshape(-1), dim=0),
        "fd_tanh_ring": lambda x: (torch.tanh(x.reshape(-1)) * torch.roll(x.reshape(-1), 1)).sum(),
    }[name]


FD_FUNCTIONS = (fd_cubic, fd_logsumexp, fd_tanh_ring)


def _one_sided(f, x: np.ndarray, h: float, sign: float) -> np.ndarray:
    grad = np.zeros_like(x)
    base = f(x)
    for index in np.ndindex(x.shape):
        shifted = x.copy()
        shifted[index] += sign * h
        grad[index] = sign * (f(shifted) - base) / h
    return grad


@dataclass
class NumericalGradientSpec(Exercise):
    """``numerical_gradient(f, x, h) -> grad``: central differences against autograd."""

    tol: Tolerance = field(default_factory=lambda: Tolerance(rtol=1e-6, atol=1e-7))

    def run(self, numerical_gradient, *, seeds: Sequence[int], shapes: Sequence[tuple],
            h: float = 1e-5) -> None:
        __tracebackhide__ = True
        name = function_name(numerical_gradient, "numerical_gradient")
        count = 0
        for seed in seeds:
            for shape in shapes:
                for f in FD_FUNCTIONS:
                    rng = np.random.default_rng(seed)
                    x = rng.standard_normal(tuple(shape))
                    case = self.case(seed=seed, inputs={"x": x},
                                     description=f"f={f.__name__}, seed={seed}, "
                                                 f"x.shape={tuple(x.shape)}, h={h}")
                    _, grads = torchref.evaluate(_fd_torch(f.__name__), {"x": x}, ("x",))
                    result = call_student(case, name, numerical_gradient, f, x.copy(), h,
                                          arg_names=("f", "x", "h"))
                    whole = (f(x + h) - f(x - h)) / (2 * h)
                    alternatives = [
                        ("backprop_fd_forward", _one_sided(f, x, h, 1.0)),
                        ("backprop_fd_forward", _one_sided(f, x, h, -1.0)),
                        ("backprop_fd_two_h", 2 * grads["x"]),
                        ("backprop_fd_all_at_once", np.full(x.shape, whole)),
                    ]
                    try:
                        compare_array(case, "grad", grads["x"], result, tol=self.tol,
                                      alternatives=alternatives,
                                      header_key="hdr_mismatch_autograd")
                    except CheckFailure as failure:
                        note = M.bilingual("backprop_fd_tolerance", indent="  ", h=h)
                        raise CheckFailure(f"{failure.args[0]}\n{note}", kind=failure.kind,
                                           exercise=self.id) from None
                    count += 1
        report_pass(self.title, count)


register(
    NumericalGradientSpec(
        id="numerical_gradient",
        title_en="Exercise 3.11 · numerical gradient",
        title_zh="练习 3.11 · 数值梯度",
        assignment=ASSIGNMENT,
    )
)


# --------------------------------------------------------- 3.12 the relative error


def ref_relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max over elements of |a − b| / max(1e-8, |a| + |b|)."""
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def _relerr_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    a = rng.standard_normal(tuple(shape))
    b = a * (1 + rng.standard_normal(tuple(shape)) * 10.0 ** rng.uniform(-9, -3, tuple(shape)))
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    if flat_a.size >= 3:  # an exact match, both zero, and a sign flip
        flat_b[0] = flat_a[0]
        flat_a[1] = flat_b[1] = 0.0
        flat_b[2] = -flat_a[2] * 0.5
    return {"a": a, "b": b}


def _relerr_mutants(inputs, params):
    a, b = inputs["a"], inputs["b"]
    ratio = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    with np.errstate(all="ignore"):
        return [
            ("backprop_relerr_max", np.mean(ratio)),
            ("backprop_relerr_abs", np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a + b)))),
            ("backprop_relerr_norm",
             np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))),
        ]


register(
    FunctionSpec(
        id="relative_error",
        title_en="Exercise 3.12 · relative error",
        title_zh="练习 3.12 · 相对误差",
        assignment=ASSIGNMENT,
        make_inputs=_relerr_inputs,
        reference=ref_relative_error,
        numpy_reference=True,
        output_name="rel_error",
        mutants=_relerr_mutants,
    )
)
