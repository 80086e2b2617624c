"""Assignment 03 · 手推反向传播: backward passes written by hand, checked against autograd.

Every expected gradient comes from PyTorch autograd in float64 on the same inputs, with a
random upstream gradient where the function has one. What the classic mistakes return (a
transposed ``dw``, a sigmoid derivative taken on the input, ...) comes from NumPy code in
:mod:`grader.checks.references.backprop`, so a failure can name the mistake. Both are used
only while a case is prepared; every check runs its calls on the student's code as
:class:`~grader.checks.steps.Steps`, one message per check call.

This module holds the layers and losses (exercises 3.3 - 3.9 and 3.13) and what the other
modules of the assignment share: :class:`CachedLayerSpec`, a layer whose backward must leave
its cache as the forward pass made it (``out *= 1 - out`` returns the right numbers once,
wrong ones afterwards). :mod:`.backprop_chain` has the chain rule on scalars and the gates
(3.1, 3.2a, 3.2b); :mod:`.backprop_network` the MLP and gradient checking (3.10 - 3.12).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import Case
from grader.checks.exercises import register
from grader.checks.specs import LayerSpec, LossSpec, _unpack, away_from, layer_names, numbered
from grader.checks.steps import Done

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
        # --- likely mistakes (hints; no placeholders) ---------------------------------
        "backprop_not_from_cache": (
            "Likely mistake: the backward pass did not take what it needs from its cache. It "
            "returned the gradient for the inputs of the last forward call (the check made a "
            "second forward call in between), as if it read a global variable. Keep everything "
            "backward needs in the cache that forward returns.",
            "可能的错误：反向传播没有从它自己的缓存中取值。它返回的是最近一次前向调用的输入所对应的梯度"
            "（检查在两者之间又调用了一次前向），就像读取了全局变量一样。"
            "请把反向传播需要的一切都放进前向传播返回的缓存里。",
        ),
        "backprop_prelu_slope": (
            "Likely mistake: where x < 0 the layer is out = alpha·x, so its local slope there "
            "is alpha (and 1 where x > 0); dx is dout times that slope.",
            "可能的错误：x < 0 处该层为 out = alpha·x，局部斜率是 alpha（x > 0 处为 1）；"
            "dx 等于 dout 乘以这个斜率。",
        ),
        "backprop_prelu_mask": (
            "Likely mistake: alpha acts only where x < 0, so dalpha collects dout·x from the "
            "negative elements only.",
            "可能的错误：alpha 只在 x < 0 的位置起作用，所以 dalpha 只汇总负元素处的 dout·x。",
        ),
        "backprop_prelu_dalpha_x": (
            "Likely mistake: out = alpha·x is a multiply gate, so the gradient reaching alpha "
            "is dout times x (the other input), not dout alone or dout times alpha.",
            "可能的错误：out = alpha·x 是一个乘法门，传到 alpha 的梯度是 dout 乘以 x（另一个输入），"
            "而不是 dout 本身，也不是 dout 乘以 alpha。",
        ),
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
    }
)


def _ref():
    """The NumPy answers and mistakes: imported only while preparing a case."""
    from grader.checks.references import backprop

    return backprop


def _torch():
    return torchref.torch


# --------------------------------------------------------------------- cache guard


class _Unchecked:
    pass


def _snapshot(obj: Any, depth: int = 0) -> Any:
    """Copies of the arrays inside a cache (through tuples, lists and dicts).

    Only arrays are judged: they keep their identity when the grade of record runs student
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
    """``before``: the cache as the forward pass returned it; ``after``: after backward."""
    __tracebackhide__ = True
    changed = _first_change(_snapshot(before), after, "cache")
    if changed:
        raise case.failure("hdr_modified", M.bilingual("backprop_cache_mutated", indent="  ",
                                                       function=function, name=changed),
                           kind="mutated")


def _alternatives_with_upstream(reference, case: Case, grads: Sequence[str],
                                mutants) -> dict[str, list[tuple[str, np.ndarray]]]:
    """The mistakes' values for each gradient, and a backward that forgot ``dout``."""
    inputs, dout, params = case.inputs, case.data["dout"], case.data["params"]
    found: dict[str, list[tuple[str, np.ndarray]]] = {name: [] for name in grads}
    if mutants is not None:
        for name, options in mutants(inputs, dout, params).items():
            found.setdefault(name, []).extend(options)
    _, ones = torchref.evaluate(reference, inputs, grads, np.ones_like(dout), params)
    for name in grads:
        found[name].append(("hint_ignores_upstream", ones[name]))
    return found


@dataclass
class CachedLayerSpec(LayerSpec):
    """A LayerSpec whose backward must leave its cache (and its dout) as it found them; the
    known mistakes' values are prepared with the reference, never computed while judging."""

    needs_solution: ClassVar[bool] = True

    def draw(self, case: Case, rng: np.random.Generator) -> None:
        super().draw(case, rng)
        # Other inputs for a second forward pass made before the backward pass: a backward
        # that reads anything but its own cache (a global, the last call) gets those. They are
        # drawn afresh: a function of the first inputs (their negation) would make this
        # diagnosis coincide with others (a flipped sign).
        case.data["other"] = self.make_inputs(rng, case.data["shape"])

    def prepare(self, case: Case) -> None:
        super().prepare(case)
        found = _alternatives_with_upstream(self.reference, case, self.grads, self.mutants)
        _, other = torchref.evaluate(self.reference, case.data["other"], self.grads,
                                     case.data["dout"], case.data["params"])
        for name in self.grads:
            found[name].append(("backprop_not_from_cache", other[name]))
        case.data["alternatives"] = found

    def drive(self, steps, case, forward, backward):
        __tracebackhide__ = True
        names = layer_names(case, forward, backward)
        arg_names, params = list(case.inputs), case.data["params"]
        forward_call = steps.call(forward, *case.inputs.values(), name=names["forward"],
                                  arg_names=arg_names, **params)
        steps.call(forward, *case.data["other"].values(), name=names["forward"],
                   arg_names=arg_names, fetch=False, **params)
        backward_call = steps.call(backward, case.data["dout"], steps.item(forward_call, 1),
                                   name=names["backward"], arg_names=("dout", "cache"),
                                   unchanged=[forward_call])
        # The cache as backward left it: compared with the cache forward returned.
        return {"names": names, "forward": forward_call, "backward": backward_call,
                "cache_after": steps.item(forward_call, 1, fetch=True)}

    def check_backward(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        if done[plan["backward"]].status == "ok":  # a cache changed in place: its own story
            names = plan["names"]
            _, cache = _unpack(case, names["forward"], done.value(case, plan["forward"]),
                               ("out", "cache"))
            _check_cache(case, names["backward"], cache, done[plan["cache_after"]].value)


@dataclass
class PreparedLossSpec(LossSpec):
    """A LossSpec whose known mistakes' values are prepared with the reference."""

    needs_solution: ClassVar[bool] = True

    def prepare(self, case: Case) -> None:
        super().prepare(case)
        case.data["alternatives"] = (self.mutants(case.inputs, None, {})
                                     if self.mutants else {})


def _resample(make: Callable[[], dict], margin_of: Callable[[dict], float],
              margin: float) -> dict:
    """Draw ``make()`` until ``margin_of`` says every ReLU input is at least ``margin`` from 0."""
    for _ in range(1000):
        inputs = make()
        if margin_of(inputs) >= margin:
            return inputs
    raise RuntimeError("could not draw inputs away from the ReLU kink")  # pragma: no cover


# ------------------------------------------------------------- 3.3 - 3.6 the layers


def _affine_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, D, M): a batch of N rows of D features mapped to M outputs."""
    n, d, m = shape
    return {"x": rng.standard_normal((n, d)), "w": rng.standard_normal((d, m)) / np.sqrt(d),
            "b": rng.standard_normal(m)}


def _spread_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    return {"x": rng.standard_normal(shape) * 3.0}


register(CachedLayerSpec(
    id="affine", **numbered("3.3", "affine layer", "仿射层", ASSIGNMENT),
    make_inputs=_affine_inputs, reference=lambda x, w, b: x @ w + b,
    grads=("x", "w", "b"), mutants=lambda *a: _ref().affine_mutants(*a),
    answer_text=("x.T @ dout", "dout @ w.T", "dout.sum(axis=0)")))

register(CachedLayerSpec(
    id="relu", **numbered("3.4", "ReLU layer", "ReLU 层", ASSIGNMENT),
    make_inputs=lambda rng, shape: {"x": away_from(rng, shape, kinks=(0.0,), margin=1e-3)},
    reference=lambda x: x.clamp(min=0), grads=("x",), mutants=lambda *a: _ref().relu_mutants(*a),
    answer_text=("dout * (x > 0)",)))

register(CachedLayerSpec(
    id="sigmoid_layer", **numbered("3.5", "sigmoid layer", "sigmoid 层", ASSIGNMENT),
    make_inputs=_spread_inputs, reference=lambda x: x.sigmoid(),
    grads=("x",), mutants=lambda *a: _ref().sigmoid_mutants(*a),
    answer_text=("out * (1 - out)",)))

register(CachedLayerSpec(
    id="tanh_layer", **numbered("3.6", "tanh layer", "tanh 层", ASSIGNMENT),
    make_inputs=_spread_inputs, reference=lambda x: x.tanh(),
    grads=("x",), mutants=lambda *a: _ref().tanh_mutants(*a),
    answer_text=("1 - out**2", "1 - \\tanh^2")))


# ------------------------------------------------------------- 3.7 / 3.8 the losses


def _softmax_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, C) or (N, C, offset): N rows of C logits, all shifted by ``offset``."""
    n, c, *rest = shape
    offset = float(rest[0]) if rest else 0.0
    return {"x": rng.standard_normal((n, c)) * 2.0 + offset, "y": rng.integers(0, c, size=n)}


register(PreparedLossSpec(
    id="softmax_ce_loss", **numbered("3.7", "softmax cross-entropy loss", "softmax 交叉熵损失", ASSIGNMENT),
    make_inputs=_softmax_inputs,
    reference=lambda x, y: _torch().nn.functional.cross_entropy(x, y), grads=("x",),
    mutants=lambda *a: _ref().softmax_mutants(*a),
    answer_text=("p_{n,c} - [c = y_n]", "prediction minus target", "softmax(x) - onehot")))

register(PreparedLossSpec(
    id="mse_loss", **numbered("3.8", "mean squared error loss", "均方误差损失", ASSIGNMENT),
    make_inputs=lambda rng, shape: {"y_hat": rng.standard_normal(tuple(shape)),
                                    "y": rng.standard_normal(tuple(shape))},
    reference=lambda y_hat, y: ((y_hat - y) ** 2).mean(), grads=("y_hat",),
    mutants=lambda *a: _ref().mse_mutants(*a),
    answer_text=("2 (\\hat y_{n,k} - y_{n,k})", "2 * (y_hat - y)")))


# --------------------------------------------------------------- 3.9 residual block


def _residual_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, D): out = x + relu(x @ w + b) keeps the width D."""
    n, d = shape
    return _resample(lambda: {"x": rng.standard_normal((n, d)),
                              "w": rng.standard_normal((d, d)) / np.sqrt(d),
                              "b": rng.standard_normal(d) * 0.1},
                     lambda t: float(np.min(np.abs(t["x"] @ t["w"] + t["b"]))), 1e-3)


register(CachedLayerSpec(
    id="residual_block", **numbered("3.9", "residual block", "残差块", ASSIGNMENT),
    make_inputs=_residual_inputs,
    reference=lambda x, w, b: x + (x @ w + b).clamp(min=0), grads=("x", "w", "b"),
    mutants=lambda *a: _ref().residual_mutants(*a),
    answer_text=("dout + dx_branch", "dout plus the gradient")))


# ---------------------------------------------------- 3.13 a new layer: parametric ReLU


def _prelu_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, D): N rows of D channels, one learned slope per channel."""
    n, d = shape
    return {"x": away_from(rng, (n, d), kinks=(0.0,), margin=1e-3),
            "alpha": rng.uniform(0.1, 0.6, size=d)}


register(CachedLayerSpec(
    id="prelu_layer", **numbered("3.13", "parametric ReLU (PReLU)", "参数化 ReLU（PReLU）", ASSIGNMENT),
    make_inputs=_prelu_inputs,
    reference=lambda x, alpha: _torch().where(x > 0, x, alpha * x), grads=("x", "alpha"),
    mutants=lambda *a: _ref().prelu_mutants(*a),
    answer_text=("dout * x * (x <= 0)", "alpha * dout")))
