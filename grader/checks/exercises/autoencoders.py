"""Assignment 06 · 自编码器: autoencoders, sparse / contractive penalties and the VAE.

Every expected value and gradient comes from PyTorch autograd in float64. The
contractive penalty is computed the long way in torch: the encoder Jacobian is
built with ``torch.autograd.grad(..., create_graph=True)`` and its squared norm
is differentiated again, so the closed form the student writes is checked
against a definition, not against another closed form.

Known wrong answers (the bug zoo) are recognised through ``mutants``: what the
mistake returns, computed in ``prepare`` by running the torch reference with a flag
that makes the mistake (a path ``detach``-ed, a factor changed, two arguments
swapped); autograd then gives the mistake's gradients, so no backward formula is
written here. Every check call runs all its cases as one list of steps (one message
to the grading sandbox).
"""

from __future__ import annotations

import functools
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
    compare_array,
    require_callable,
)
from grader.checks.exercises import register
from grader.checks.specs import Exercise, LayerSpec, _unpack, away_from, function_name
from grader.checks.steps import Done, Ref, Steps

ASSIGNMENT = "06_autoencoders"

M.register(
    {
        "ae_hint_mean_over_pixels": (
            "Likely mistake: the squared error is averaged over the pixels as well. Sum over "
            "the D pixels of each image, then average over the N images of the batch.",
            "可能的错误：平方误差在像素维度上也取了平均。应先对每张图像的 D 个像素求和，"
            "再对批量中的 N 张图像取平均。",
        ),
        "ae_hint_code_gradient": (
            "Likely mistake: `dh`, the gradient that arrives at the code directly (from a "
            "penalty on the code), is not added to the gradient coming back from the decoder.",
            "可能的错误：没有把直接到达编码的梯度 `dh`（来自对编码的惩罚项）"
            "与从解码器传回的梯度相加。",
        ),
        "ae_hint_l1_sign": (
            "Likely mistake: every entry got the same derivative, as if |h| were h. The slope "
            "of |h| depends on the side of 0 that h is on (Hint 1 after Exercise 6.3).",
            "可能的错误：每个元素的导数都一样，就好像 |h| 等于 h。|h| 的斜率取决于 h 在 0 的哪一侧"
            "（见练习 6.3 之后的提示 1）。",
        ),
        "ae_hint_kl_swapped": (
            "Likely mistake: the target ρ and the mean activation ρ̂ are swapped. The "
            "penalty is KL(ρ‖ρ̂_j), the target first: ρ·log(ρ/ρ̂_j) + (1-ρ)·log((1-ρ)/(1-ρ̂_j)).",
            "可能的错误：目标值 ρ 与平均激活 ρ̂ 写反了。惩罚项是目标在前的 KL(ρ‖ρ̂_j)："
            "ρ·log(ρ/ρ̂_j) + (1-ρ)·log((1-ρ)/(1-ρ̂_j))。",
        ),
        "ae_hint_rho_hat_mean": (
            "Likely mistake: ρ̂_j must be the mean activation of unit j over the batch "
            "(axis 0), not each example's own activation.",
            "可能的错误：ρ̂_j 应当是第 j 个单元在整个批量上的平均激活（axis 0），"
            "而不是每个样本各自的激活。",
        ),
        "ae_hint_cae_activation": (
            "Likely mistake: the activation derivative is missing. h = σ(X W1 + b1), so every "
            "entry of the Jacobian ∂h/∂x carries the sigmoid's derivative; without it the "
            "penalty is plain weight decay.",
            "可能的错误：漏掉了激活函数的导数。h = σ(X W1 + b1)，所以雅可比矩阵 ∂h/∂x 的每个元素"
            "都带有 sigmoid 的导数；没有它，惩罚项就退化成了普通的权重衰减。",
        ),
        "ae_hint_cae_through_h": (
            "Likely mistake: h(1-h) was treated as a constant. The penalty depends on W1 "
            "also through h, which adds a term of the form X.T @ (...) to dW1 (Hint 2 after "
            "Exercise 6.5).",
            "可能的错误：把 h(1-h) 当成了常数。惩罚项还通过 h 依赖于 W1，因此 dW1 中还要加上"
            "形如 X.T @ (...) 的一项（见练习 6.5 之后的提示 2）。",
        ),
        "ae_hint_cae_direct": (
            "Likely mistake: only the path through h reaches dW1. The penalty also depends on "
            "W1 directly, through the weights that multiply h(1-h) in the Jacobian.",
            "可能的错误：dW1 只包含了经过 h 的那条路径。惩罚项还直接依赖于 W1："
            "雅可比矩阵中与 h(1-h) 相乘的正是权重本身。",
        ),
        "ae_hint_cae_db1_zero": (
            "Likely mistake: db1 is zero, but b1 moves z = X W1 + b1 and with it h(1-h), so "
            "the penalty depends on b1 through h. Its gradient comes from the same path "
            "through h as the X.T @ (...) term of dW1.",
            "可能的错误：db1 为零。但 b1 会改变 z = X W1 + b1，从而改变 h(1-h)，"
            "所以惩罚项经由 h 依赖于 b1。它的梯度与 dW1 中 X.T @ (...) 那一项来自同一条路径。",
        ),
        "ae_hint_cae_not_squared": (
            "Likely mistake: the norm is not squared. The squared Frobenius norm squares each "
            "Jacobian entry, activation derivative (h_j(1-h_j))² included.",
            "可能的错误：范数没有平方。弗罗贝尼乌斯范数的平方要对雅可比矩阵的每个元素平方，"
            "包括激活导数在内：(h_j(1-h_j))²。",
        ),
        "ae_hint_reparam_blocked_mu": (
            "Likely mistake: no gradient reaches μ. z is μ plus something, and an add gate "
            "passes the upstream gradient on unchanged (assignment 03).",
            "可能的错误：梯度没有传到 μ。z 等于 μ 加上另一项，而加法门会把上游梯度原样传下去"
            "（作业 03）。",
        ),
        "ae_hint_reparam_blocked_sigma": (
            "Likely mistake: no gradient reaches log σ². z depends on it through "
            "σ = exp(½·log σ²): chain the local derivative of σ·ε and that of σ (Hint 2 "
            "after Exercise 6.6).",
            "可能的错误：梯度没有传到 log σ²。z 通过 σ = exp(½·log σ²) 依赖于它：把 σ·ε 的局部导数"
            "与 σ 的局部导数串联起来（见练习 6.6 之后的提示 2）。",
        ),
        "ae_hint_reparam_half": (
            "Likely mistake: the factor ½ from σ = exp(½·log σ²) is missing: the derivative "
            "of exp(a·t) with respect to t is a·exp(a·t).",
            "可能的错误：漏掉了 σ = exp(½·log σ²) 带来的因子 ½：exp(a·t) 对 t 的导数是 a·exp(a·t)。",
        ),
        "ae_hint_reparam_wrt_sigma": (
            "Likely mistake: this is the gradient with respect to σ, not log σ². One link of "
            "the chain, the derivative of σ with respect to log σ², is missing.",
            "可能的错误：这是对 σ 的梯度，而不是对 log σ² 的梯度。链条中少了一环："
            "σ 对 log σ² 的导数。",
        ),
        "ae_hint_kl_sign": (
            "Likely mistake: the KL divergence has the wrong sign. "
            "KL = -½·Σ(1 + log σ² - μ² - σ²) is never negative.",
            "可能的错误：KL 散度的符号反了。KL = -½·Σ(1 + log σ² - μ² - σ²) 永远不会是负数。",
        ),
        "ae_hint_kl_half": (
            "Likely mistake: the factor ½ in KL = -½·Σ(1 + log σ² - μ² - σ²) is missing.",
            "可能的错误：漏掉了 KL = -½·Σ(1 + log σ² - μ² - σ²) 中的因子 ½。",
        ),
        "ae_hint_elbo_kl_sign": (
            "Likely mistake: the negative ELBO is reconstruction loss PLUS the KL term; "
            "the KL was subtracted.",
            "可能的错误：负 ELBO 是重建损失“加上”KL 项；你把 KL 减掉了。",
        ),
        "ae_hint_elbo_probs": (
            "Likely mistake: the decoder output is treated as probabilities. `logits` are "
            "before the sigmoid; the cross-entropy is "
            "max(l, 0) - l·x + log(1 + exp(-|l|)).",
            "可能的错误：把解码器的输出当成了概率。`logits` 是 sigmoid 之前的值；"
            "交叉熵是 max(l, 0) - l·x + log(1 + exp(-|l|))。",
        ),
        "ae_hint_vae_kl_grad": (
            "Likely mistake: the gradients of the KL term (from `gaussian_kl`) are not "
            "added to dmu and dlogvar; only the reconstruction path reaches the encoder.",
            "可能的错误：KL 项的梯度（来自 `gaussian_kl`）没有加到 dmu 和 dlogvar 上；"
            "只有重建路径的梯度传到了编码器。",
        ),
        "ae_hint_vae_fanout": (
            "Likely mistake: the hidden layer feeds both heads (μ and log σ²), so its "
            "gradient is the SUM of what comes back from both.",
            "可能的错误：隐藏层同时连接两个输出头（μ 和 log σ²），"
            "所以它的梯度是两条路径传回梯度之和。",
        ),
        "ae_grads_not_dict": (
            "`grads` should be a dict from parameter name to gradient, but your function "
            "returned {found}.",
            "`grads` 应当是一个从参数名到梯度的字典，但你的函数返回了 {found}。",
        ),
        "ae_missing_grad": (
            "`grads` has no entry {name!r}. Expected one gradient per parameter: {keys}.",
            "`grads` 中没有 {name!r} 这一项。每个参数都需要一个梯度：{keys}。",
        ),
        "ae_grad_table": (
            "Gradients that agree with autograd: {good}. Gradients that do not: {bad}. "
            "Backpropagation runs from the loss back to W1: the first wrong one on that "
            "path is where to look.",
            "与自动微分一致的梯度：{good}。不一致的梯度：{bad}。"
            "反向传播从损失一路传回 W1：沿这条路径第一个出错的梯度就是该检查的地方。",
        ),
        "ae_none": ("none", "无"),
        "ae_reuses": (
            "`{function}` calls your {others}: a float32 step or a finite difference in any "
            "of them shows up here too. Their own checks above tell you which one; keep "
            "float64 in all of them.",
            "`{function}` 调用了你写的 {others}：其中任何一个用了 float32 或有限差分，"
            "都会在这里表现出来。它们各自的检查会告诉你是哪一个；请在所有函数中保持 float64。",
        ),
    }
)


# --------------------------------------------------------------------------- helpers


def _digits_like(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Pixel intensities k/16 as in scikit-learn's digits, about half of them zero."""
    pixels = rng.integers(0, 17, size=(n, d)) / 16.0
    return np.where(rng.random((n, d)) < 0.45, 0.0, pixels)


def _describe(seed: int, inputs: Mapping[str, Any], options: Mapping[str, Any]) -> str:
    shapes = ", ".join(f"{k}.shape={tuple(np.shape(v))}" for k, v in inputs.items())
    extra = "".join(f", {k}={v!r}" for k, v in options.items())
    return f"seed={seed}, {shapes}{extra}"


def _flagged(reference: Callable[..., Any], inputs: Mapping[str, np.ndarray],
             wrt: Sequence[str], params: Mapping[str, Any], upstream=None, **flags):
    """What the reference run with ``flags`` (a known mistake) returns, and its gradients."""
    return torchref.evaluate(functools.partial(reference, **flags), inputs, wrt, upstream,
                             params)


def _noting_reuse(case: Case, function: str, reuses: Sequence[str]):
    """A context that adds, to a failure that says "float32 or finite differences", which of
    the student's other functions this one calls (issue #16: a float32 helper shows here)."""

    class _Note:
        def __enter__(self):
            return self

        def __exit__(self, kind, failure, tb):
            __tracebackhide__ = True
            if kind is not None and issubclass(kind, CheckFailure) and reuses and \
                    failure.kind == "numerical":
                others = ", ".join(f"`{name}`" for name in reuses)
                note = M.bilingual("ae_reuses", indent="  ", function=function, others=others)
                raise CheckFailure(f"{failure.args[0]}\n{note}", kind=failure.kind,
                                   exercise=failure.exercise) from None
            return False

    return _Note()


# ---------------------------------------------------------------------------- specs


@dataclass
class ScalarSpec(Exercise):
    """``fn(*inputs, **params) -> (value, d<grad1>, d<grad2>, ...)`` for a scalar value.

    ``input_options`` are literal keywords of the test call that shape the inputs
    (for example ``scale=5.0`` for edge inputs) rather than being passed to ``fn``.
    ``mutants(inputs, params, value, grads)`` returns ``{value_name or grad name:
    [(hint, array)]}``: what known mistakes return, from the reference (see ``_flagged``).
    """

    make_inputs: Callable[..., dict[str, np.ndarray]] = None  # type: ignore[assignment]
    reference: Callable[..., Any] = None  # type: ignore[assignment]
    grads: Sequence[str] = ()
    value_name: str = "loss"
    params: Mapping[str, Any] = field(default_factory=dict)
    input_options: Sequence[str] = ()
    tol: Tolerance = field(default_factory=Tolerance)
    mutants: Callable[..., dict[str, list[tuple[str, np.ndarray]]]] | None = None
    reuses: Sequence[str] = ()  # the student's other graded functions this one calls
    answer_text: Sequence[str] = ()

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   **params: Any) -> list[Case]:
        params = {**self.params, **params}
        options = {k: params.pop(k) for k in self.input_options if k in params}
        found = []
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
                inputs = self.make_inputs(rng, tuple(shape), **options)
                found.append(self.case(
                    seed=seed, inputs=inputs, data={"params": params},
                    description=_describe(seed, inputs, {**options, **params})))
        return found

    def prepare(self, case: Case) -> None:
        params = case.data["params"]
        value, grads = torchref.evaluate(self.reference, case.inputs, self.grads, None, params)
        alternatives = self.mutants(case.inputs, params, value, grads) if self.mutants else {}
        case.data.update(value=value, grads=grads, alternatives=alternatives)

    def drive(self, steps: Steps, case: Case, fn: Any) -> tuple[str, Ref]:
        __tracebackhide__ = True
        name = function_name(fn, self.id)
        require_callable(case, name, fn)
        return name, steps.call(fn, *case.inputs.values(), name=name,
                                arg_names=list(case.inputs), **case.data["params"])

    def judge(self, case: Case, done: Done, plan: tuple[str, Ref]) -> None:
        __tracebackhide__ = True
        name, call = plan
        names = [self.value_name, *[f"d{g}" for g in self.grads]]
        parts = _unpack(case, name, done.value(case, call), names)
        alternatives = case.data["alternatives"]
        batch = next(iter(case.inputs.values())).shape[0]
        with _noting_reuse(case, name, self.reuses):
            compare_array(case, self.value_name, case.data["value"], parts[0], tol=self.tol,
                          batch_size=batch, alternatives=alternatives.get(self.value_name, []),
                          header_key="hdr_mismatch_autograd")
            for grad_name, grad in zip(self.grads, parts[1:], strict=True):
                compare_array(case, f"d{grad_name}", case.data["grads"][grad_name], grad,
                              tol=self.tol, batch_size=batch,
                              alternatives=alternatives.get(grad_name, []),
                              header_key="hdr_mismatch_autograd")


def _forward_outputs(reference, inputs):
    torch = torchref.torch
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in inputs.items()}
    with torch.no_grad():
        outs = reference(**tensors)
    return [o.numpy().copy() for o in outs]


def _evaluate_outputs(reference, inputs, wrt, upstreams):
    """Forward values of a multi-output ``reference`` and the gradients of Σ out_k·upstream_k."""
    torch = torchref.torch
    tensors = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=name in wrt)
        for name, value in inputs.items()
    }
    outs = reference(**tensors)
    torch.autograd.backward(
        list(outs), [torch.tensor(u, dtype=torch.float64) for u in upstreams]
    )
    grads = {
        name: (np.zeros(tensors[name].shape) if tensors[name].grad is None
               else tensors[name].grad.detach().numpy().copy())
        for name in wrt
    }
    return [o.detach().numpy().copy() for o in outs], grads


@dataclass
class MultiOutputLayerSpec(Exercise):
    """``forward(*inputs) -> (out_1, ..., out_k, cache)`` and
    ``backward(dout_1, ..., dout_k, cache) -> (d<grad1>, ...)``, each upstream random."""

    make_inputs: Callable[[np.random.Generator, tuple], dict[str, np.ndarray]] = None  # type: ignore[assignment]
    reference: Callable[..., Any] = None  # type: ignore[assignment]
    outputs: Sequence[str] = ()
    grads: Sequence[str] = ()
    tol: Tolerance = field(default_factory=Tolerance)
    # mutants: (hint key, index of an upstream gradient the mistake forgets)
    mutants: Sequence[tuple[str, int]] = ()
    answer_text: Sequence[str] = ()

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> list[Case]:
        found = []
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
                inputs = self.make_inputs(rng, tuple(shape))
                outs = _forward_outputs(self.reference, inputs)
                upstreams = [rng.standard_normal(o.shape) for o in outs]
                found.append(self.case(seed=seed, inputs=inputs,
                                       data={"upstreams": upstreams}))
        return found

    def prepare(self, case: Case) -> None:
        upstreams = case.data["upstreams"]
        outs, grads = _evaluate_outputs(self.reference, case.inputs, self.grads, upstreams)
        alternatives: dict[str, list] = {g: [] for g in self.grads}
        variants = [(key, [np.zeros_like(u) if i == drop else u
                           for i, u in enumerate(upstreams)]) for key, drop in self.mutants]
        variants.append(("hint_ignores_upstream", [np.ones_like(u) for u in upstreams]))
        for key, ups in variants:
            _, wrong = _evaluate_outputs(self.reference, case.inputs, self.grads, ups)
            for g in self.grads:
                alternatives[g].append((key, wrong[g]))
        case.data.update(outs=outs, grads=grads, alternatives=alternatives)

    def drive(self, steps: Steps, case: Case, forward: Any, backward: Any) -> dict:
        __tracebackhide__ = True
        names = {"forward": function_name(forward, f"{self.id}_forward"),
                 "backward": function_name(backward, f"{self.id}_backward")}
        require_callable(case, names["forward"], forward)
        require_callable(case, names["backward"], backward)
        forward_call = steps.call(forward, *case.inputs.values(), name=names["forward"],
                                  arg_names=list(case.inputs))
        cache = steps.item(forward_call, len(self.outputs))
        upstream_names = [f"d{o}" for o in self.outputs]
        backward_call = steps.call(backward, *case.data["upstreams"], cache,
                                   name=names["backward"],
                                   arg_names=(*upstream_names, "cache"),
                                   unchanged=[forward_call])
        return {"names": names, "forward": forward_call, "backward": backward_call}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        names = plan["names"]
        *outs, _ = _unpack(case, names["forward"], done.value(case, plan["forward"]),
                           (*self.outputs, "cache"))
        batch = case.data["outs"][0].shape[0]
        for out_name, expected, actual in zip(self.outputs, case.data["outs"], outs,
                                              strict=True):
            compare_array(case, out_name, expected, actual, tol=self.tol, batch_size=batch,
                          header_key="hdr_mismatch_autograd")
        returned = _unpack(case, names["backward"],
                           as_tuple(done.value(case, plan["backward"])),
                           [f"d{g}" for g in self.grads])
        for grad_name, grad in zip(self.grads, returned, strict=True):
            compare_array(case, f"d{grad_name}", case.data["grads"][grad_name], grad,
                          tol=self.tol, batch_size=batch,
                          alternatives=case.data["alternatives"][grad_name],
                          header_key="hdr_mismatch_autograd")


# --------------------------------------------------------- 6.1 reconstruction loss


def _recon_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, D): reconstructions in (0, 1) and digits-like targets."""
    n, d = shape
    return {
        "X_hat": 1 / (1 + np.exp(-rng.standard_normal((n, d)))),
        "X": _digits_like(rng, n, d),
    }


def _recon_mutants(inputs, params, value, grads):
    d = inputs["X"].shape[1]  # averaged over the D pixels too: 1/D of the right answer
    return {"loss": [("ae_hint_mean_over_pixels", value / d)],
            "X_hat": [("ae_hint_mean_over_pixels", grads["X_hat"] / d)]}


register(
    ScalarSpec(
        id="reconstruction_loss",
        title_en="Exercise 6.1 · reconstruction loss",
        title_zh="练习 6.1 · 重建损失",
        assignment=ASSIGNMENT,
        make_inputs=_recon_inputs,
        reference=lambda X_hat, X: ((X_hat - X) ** 2).sum() / X.shape[0],
        grads=("X_hat",),
        mutants=_recon_mutants,
        answer_text=("2 * diff / N", "2 * (X_hat - X) / N", "2(X_hat - X)/N",
                     r"\frac{2}{N}(\hat X - X)"),
    )
)


# ------------------------------------------------------ 6.2 undercomplete autoencoder


def _ae_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, D, H): N digits-like images of D pixels, a code of H units."""
    n, d, h = shape
    return {
        "X": _digits_like(rng, n, d),
        "W1": rng.standard_normal((d, h)) * 2 / np.sqrt(d),
        "b1": rng.standard_normal(h) * 0.5,
        "W2": rng.standard_normal((h, d)) * 2 / np.sqrt(h),
        "b2": rng.standard_normal(d) * 0.5,
    }


def _ae_reference(X, W1, b1, W2, b2):
    torch = torchref.torch
    h = torch.sigmoid(X @ W1 + b1)
    X_hat = torch.sigmoid(h @ W2 + b2)
    return X_hat, h


register(
    MultiOutputLayerSpec(
        id="autoencoder",
        title_en="Exercise 6.2 · undercomplete autoencoder",
        title_zh="练习 6.2 · 欠完备自编码器",
        assignment=ASSIGNMENT,
        make_inputs=_ae_inputs,
        reference=_ae_reference,
        outputs=("X_hat", "h"),
        grads=("W1", "b1", "W2", "b2"),
        mutants=(("ae_hint_code_gradient", 1),),
        answer_text=("dh_decoder + dh",),
    )
)


# ------------------------------------------------------------- 6.3 L1 sparsity


def _code_inputs(rng: np.random.Generator, shape: tuple):
    """shape = (N, H): a code of H units for N examples, away from 0 (the kink of |h|)."""
    return {"h": away_from(rng, shape, kinks=(0.0,), margin=1e-3)}


def _l1_mutants(inputs, params, value, grads):
    h, lam = inputs["h"], params["lam"]
    return {"h": [("ae_hint_l1_sign", np.full_like(h, lam / h.shape[0]))]}


register(
    ScalarSpec(
        id="l1_penalty",
        title_en="Exercise 6.3 · L1 sparsity penalty",
        title_zh="练习 6.3 · L1 稀疏惩罚",
        assignment=ASSIGNMENT,
        make_inputs=_code_inputs,
        reference=lambda h, lam: lam * h.abs().sum() / h.shape[0],
        grads=("h",),
        value_name="penalty",
        params={"lam": 0.1},
        mutants=_l1_mutants,
        answer_text=("np.sign(h)", r"\operatorname{sign}(h)", "sign(h)"),
    )
)


# ------------------------------------------------------------- 6.4 KL sparsity


def _activation_inputs(rng: np.random.Generator, shape: tuple, shift: float = 0.0):
    """shape = (N, H): sigmoid activations in (0, 1); ``shift`` moves the pre-activations."""
    z = rng.standard_normal(shape) * 1.5 + shift
    return {"h": 1 / (1 + np.exp(-z))}


def _kl_sparsity_reference(h, rho, beta, swapped=False, per_example=""):
    """β·Σ_j KL(ρ‖ρ̂_j); ``swapped``: KL(ρ̂‖ρ); ``per_example``: ρ̂ replaced by each h (summed
    or averaged over the batch) - two classic mistakes."""
    torch = torchref.torch
    rho_hat = h if per_example else h.mean(dim=0)
    target = torch.tensor(rho, dtype=torch.float64)
    p, q = (rho_hat, target) if swapped else (target, rho_hat)
    kl = p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))
    total = beta * kl.sum()
    return total / h.shape[0] if per_example == "mean" else total


def _kl_sparsity_mutants(inputs, params, value, grads):
    found: dict[str, list] = {"penalty": [], "h": []}
    for key, flags in (("ae_hint_kl_swapped", {"swapped": True}),
                       ("ae_hint_rho_hat_mean", {"per_example": "sum"}),
                       ("ae_hint_rho_hat_mean", {"per_example": "mean"})):
        wrong, wrong_grads = _flagged(_kl_sparsity_reference, inputs, ("h",), params, **flags)
        found["penalty"].append((key, wrong))
        found["h"].append((key, wrong_grads["h"]))
    return found


register(
    ScalarSpec(
        id="kl_sparsity",
        title_en="Exercise 6.4 · KL sparsity penalty",
        title_zh="练习 6.4 · KL 稀疏惩罚",
        assignment=ASSIGNMENT,
        make_inputs=_activation_inputs,
        reference=_kl_sparsity_reference,
        grads=("h",),
        value_name="penalty",
        params={"rho": 0.05, "beta": 3.0},
        input_options=("shift",),
        mutants=_kl_sparsity_mutants,
        answer_text=("-rho / rho_hat + (1 - rho) / (1 - rho_hat)",
                     r"-\frac{\rho}{\hat\rho_j} + \frac{1-\rho}{1-\hat\rho_j}"),
    )
)


# ------------------------------------------------------- 6.5 contractive penalty


def _contractive_inputs(rng: np.random.Generator, shape: tuple, scale: float = 1.0):
    """shape = (N, D, H): digits-like X, encoder weights W1 (D, H) and b1 (H,)."""
    n, d, h = shape
    return {
        "X": _digits_like(rng, n, d),
        "W1": rng.standard_normal((d, h)) * scale * 2 / np.sqrt(d),
        "b1": rng.standard_normal(h) * scale * 0.5,
    }


def _contractive_reference(X, W1, b1, lam, mistake=""):
    """λ/N · Σ_n ‖∂h_n/∂x_n‖²_F with the Jacobian from autograd (create_graph=True).

    ``mistake`` replays a known wrong answer (for the diagnoses only), in closed form with
    one factor changed or ``detach``-ed.
    """
    torch = torchref.torch
    n = X.shape[0]
    if mistake:
        h = torch.sigmoid(X @ W1 + b1)
        slope = h * (1 - h)
        weights = (W1**2).sum(dim=0)
        if mistake == "no_activation":  # the Jacobian taken as W1 alone
            return lam * (W1**2).sum()
        if mistake == "not_squared":
            return lam / n * (slope * weights).sum()
        if mistake == "constant_h":  # h(1-h) held fixed: only the direct path
            return lam / n * (slope.detach() ** 2 * weights).sum()
        if mistake == "no_direct":  # only the path through h
            return lam / n * (slope**2 * weights.detach()).sum()
        raise ValueError(mistake)
    Xg = X.detach().clone().requires_grad_(True)
    h = torch.sigmoid(Xg @ W1 + b1)
    total = torch.zeros((), dtype=torch.float64)
    for j in range(h.shape[1]):
        # row j of every example's Jacobian: ∂h_nj/∂x_n (examples do not interact)
        (row,) = torch.autograd.grad(h[:, j].sum(), Xg, create_graph=True)
        total = total + (row**2).sum()
    return lam * total / n


def _contractive_mutants(inputs, params, value, grads):
    found: dict[str, list] = {"penalty": [], "W1": [], "b1": []}
    for key, mistake, where in (("ae_hint_cae_activation", "no_activation", ("penalty", "W1")),
                                ("ae_hint_cae_not_squared", "not_squared", ("penalty",)),
                                ("ae_hint_cae_through_h", "constant_h", ("W1",)),
                                ("ae_hint_cae_direct", "no_direct", ("W1",))):
        wrong, wrong_grads = _flagged(_contractive_reference, inputs, ("W1", "b1"), params,
                                      mistake=mistake)
        for name in where:
            found[name].append((key, wrong if name == "penalty" else wrong_grads[name]))
    # db1 is compared after dW1, so a zero db1 here means dW1 was right: only the path
    # of b1 through h was forgotten (issue #16: no other diagnosis for this pattern).
    found["b1"].append(("ae_hint_cae_db1_zero", np.zeros_like(inputs["b1"])))
    return found


register(
    ScalarSpec(
        id="contractive_penalty",
        title_en="Exercise 6.5 · contractive penalty",
        title_zh="练习 6.5 · 收缩惩罚",
        assignment=ASSIGNMENT,
        make_inputs=_contractive_inputs,
        reference=_contractive_reference,
        grads=("W1", "b1"),
        value_name="penalty",
        params={"lam": 0.1},
        input_options=("scale",),
        mutants=_contractive_mutants,
        answer_text=("h_j(1-h_j)W_{1,ij}", "h_{nj}(1-h_{nj})\\,W_{1,ij}",
                     r"\big(h_{nj}(1-h_{nj})\big)^2\sum_i W_{1,ij}^2",
                     r"\sigma(z)(1-\sigma(z))(1-2\sigma(z))", "(1 - 2 * h)"),
    )
)


# --------------------------------------------------------- 6.6 reparameterisation


def _reparam_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, Z): means, log-variances and standard normal noise for N codes of Z units."""
    return {
        "mu": rng.standard_normal(shape),
        "logvar": rng.standard_normal(shape) * 2,
        "eps": rng.standard_normal(shape),
    }


def _reparam_reference(mu, logvar, eps, sigma_grad_factor=1.0):
    """z = μ + σ·ε with σ = exp(½·logvar); ``sigma_grad_factor`` scales the gradient through σ
    (2: the ½ of exp(½·logvar) forgotten) without changing z."""
    std = (0.5 * logvar).exp()
    std = std.detach() + sigma_grad_factor * (std - std.detach())
    return mu + std * eps


def _reparam_mutants(inputs, dout, params):
    _, half = _flagged(_reparam_reference, inputs, ("logvar",), params, upstream=dout,
                       sigma_grad_factor=2.0)
    std_inputs = {"mu": inputs["mu"], "std": np.exp(0.5 * inputs["logvar"]), "eps": inputs["eps"]}
    _, wrt_sigma = torchref.evaluate(lambda mu, std, eps: mu + std * eps, std_inputs, ("std",),
                                     dout)
    return {
        "mu": [("ae_hint_reparam_blocked_mu", np.zeros_like(dout))],
        "logvar": [
            ("ae_hint_reparam_blocked_sigma", np.zeros_like(dout)),
            ("ae_hint_reparam_half", half["logvar"]),
            ("ae_hint_reparam_wrt_sigma", wrt_sigma["std"]),
        ],
    }


@dataclass
class _ReparamSpec(LayerSpec):
    answer_text: Sequence[str] = ()


register(
    _ReparamSpec(
        id="reparameterize",
        title_en="Exercise 6.6 · reparameterisation",
        title_zh="练习 6.6 · 重参数化",
        assignment=ASSIGNMENT,
        make_inputs=_reparam_inputs,
        reference=_reparam_reference,
        grads=("mu", "logvar"),
        mutants=_reparam_mutants,
        answer_text=("dz * eps * std * 0.5", "dz·ε·σ·½", "dlogvar = dz", r"\tfrac12\sigma\varepsilon",
                     "dmu = dz"),
    )
)


# ---------------------------------------------------------------- 6.7 Gaussian KL


def _gaussian_inputs(rng: np.random.Generator, shape: tuple, scale: float = 1.0):
    """shape = (N, Z): the encoder's means and log-variances for N examples."""
    return {
        "mu": rng.standard_normal(shape) * scale,
        "logvar": rng.standard_normal(shape) * scale,
    }


def _gaussian_kl_reference(mu, logvar):
    return -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum() / mu.shape[0]


def _gaussian_kl_mutants(inputs, params, value, grads):
    found: dict[str, list] = {"kl": [("ae_hint_kl_sign", -value), ("ae_hint_kl_half", 2 * value)]}
    for name in ("mu", "logvar"):
        found[name] = [("ae_hint_kl_sign", -grads[name]), ("ae_hint_kl_half", 2 * grads[name])]
    return found


register(
    ScalarSpec(
        id="gaussian_kl",
        title_en="Exercise 6.7 · Gaussian KL divergence",
        title_zh="练习 6.7 · 高斯 KL 散度",
        assignment=ASSIGNMENT,
        make_inputs=_gaussian_inputs,
        reference=_gaussian_kl_reference,
        grads=("mu", "logvar"),
        value_name="kl",
        input_options=("scale",),
        mutants=_gaussian_kl_mutants,
        answer_text=("dmu = mu / N", "0.5 * (var - 1) / N", r"\frac{\mu}{N}",
                     r"\tfrac12(\sigma^2 - 1)", "(exp(logvar) - 1) / 2"),
    )
)


# ---------------------------------------------------------------- 6.8 negative ELBO


def _elbo_inputs(rng: np.random.Generator, shape: tuple, logit_scale: float = 2.0):
    """shape = (N, D, Z): digits-like X, decoder logits (N, D), encoder mu and logvar (N, Z)."""
    n, d, z = shape
    return {
        "X": _digits_like(rng, n, d),
        "logits": rng.standard_normal((n, d)) * logit_scale,
        "mu": rng.standard_normal((n, z)),
        "logvar": rng.standard_normal((n, z)),
    }


def _negative_elbo_reference(X, logits, mu, logvar, kl_sign=1.0, as_probabilities=False):
    """Reconstruction BCE (from logits) plus the Gaussian KL, averaged over the batch;
    the flags replay two mistakes: the KL subtracted, the logits taken as probabilities."""
    torch = torchref.torch
    n = X.shape[0]
    if as_probabilities:
        p = logits.clamp(1e-12, 1 - 1e-12)
        recon = -(X * torch.log(p) + (1 - X) * torch.log(1 - p)).sum() / n
    else:
        recon = torch.nn.functional.binary_cross_entropy_with_logits(logits, X,
                                                                     reduction="sum") / n
    return recon + kl_sign * _gaussian_kl_reference(mu, logvar)


def _negative_elbo_mutants(inputs, params, value, grads):
    found: dict[str, list] = {"loss": [], "logits": [], "mu": [], "logvar": []}
    for key, flags, where in (("ae_hint_elbo_kl_sign", {"kl_sign": -1.0}, ("mu", "logvar")),
                              ("ae_hint_elbo_probs", {"as_probabilities": True}, ("logits",))):
        wrong, wrong_grads = _flagged(_negative_elbo_reference, inputs,
                                      ("logits", "mu", "logvar"), params, **flags)
        found["loss"].append((key, wrong))
        for name in where:
            found[name].append((key, wrong_grads[name]))
    return found


register(
    ScalarSpec(
        id="negative_elbo",
        title_en="Exercise 6.8 · negative ELBO",
        title_zh="练习 6.8 · 负 ELBO",
        assignment=ASSIGNMENT,
        make_inputs=_elbo_inputs,
        reference=_negative_elbo_reference,
        grads=("logits", "mu", "logvar"),
        value_name="loss",
        input_options=("logit_scale",),
        mutants=_negative_elbo_mutants,
        reuses=("gaussian_kl",),
        answer_text=("sigmoid(logits) - X", r"\sigma(\ell) - x", "(sigmoid(logits) - X) / N"),
    )
)


# ------------------------------------------------------ 6.9 VAE loss and gradients

VAE_PARAMS = ("W1", "b1", "W_mu", "b_mu", "W_logvar", "b_logvar", "W2", "b2", "W3", "b3")


def _vae_inputs(rng: np.random.Generator, shape: tuple):
    """shape = (N, D, H, Z): N images of D pixels, H hidden units, a latent code of Z units."""
    n, d, h, z = shape
    sizes = {
        "W1": (d, h), "b1": (h,), "W_mu": (h, z), "b_mu": (z,), "W_logvar": (h, z),
        "b_logvar": (z,), "W2": (z, h), "b2": (h,), "W3": (h, d), "b3": (d,),
    }
    params = {}
    for name, size in sizes.items():
        fan_in = size[0] if len(size) == 2 else 4
        params[name] = rng.standard_normal(size) / np.sqrt(fan_in)
    return params, _digits_like(rng, n, d), rng.standard_normal((n, z))


def _vae_reference(params, X, eps, *, kl_grad=True, block_mu=False, block_sigma=False,
                   heads=("mu", "logvar"), sigma_grad_factor=1.0, kl_sign=1.0):
    """The negative ELBO of the VAE; the flags reproduce known mistakes with ``detach``."""
    torch = torchref.torch
    p = params
    n = X.shape[0]
    h = torch.relu(X @ p["W1"] + p["b1"])
    mu = (h if "mu" in heads else h.detach()) @ p["W_mu"] + p["b_mu"]
    logvar = (h if "logvar" in heads else h.detach()) @ p["W_logvar"] + p["b_logvar"]
    std = torch.exp(0.5 * logvar)
    # same value, gradient through σ scaled (2: the ½ of exp(½·logvar) forgotten)
    std = std.detach() + sigma_grad_factor * (std - std.detach())
    z = (mu.detach() if block_mu else mu) + (std.detach() if block_sigma else std) * eps
    h2 = torch.relu(z @ p["W2"] + p["b2"])
    logits = h2 @ p["W3"] + p["b3"]
    recon = torch.nn.functional.binary_cross_entropy_with_logits(logits, X, reduction="sum") / n
    kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum() / n
    return recon + kl_sign * (kl if kl_grad else kl.detach())


def _vae_evaluate(params, X, eps, **flags):
    torch = torchref.torch
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
               for k, v in params.items()}
    loss = _vae_reference(tensors, torch.tensor(X), torch.tensor(eps), **flags)
    loss.backward()
    return loss.detach().numpy().copy(), {k: t.grad.numpy().copy() for k, t in tensors.items()}


VAE_MUTANTS = (
    ("ae_hint_elbo_kl_sign", {"kl_sign": -1.0}),
    ("ae_hint_vae_kl_grad", {"kl_grad": False}),
    ("ae_hint_reparam_blocked_mu", {"block_mu": True}),
    ("ae_hint_reparam_blocked_sigma", {"block_sigma": True}),
    ("ae_hint_reparam_half", {"sigma_grad_factor": 2.0}),
    ("ae_hint_vae_fanout", {"heads": ("mu",)}),
    ("ae_hint_vae_fanout", {"heads": ("logvar",)}),
)


@dataclass
class LossAndGradsSpec(Exercise):
    """``fn(params, X, eps) -> (loss, grads)`` with ``grads`` a dict keyed like ``params``.

    ``params`` is handed over as one dict that lives where the student's code runs; after
    the call it is fetched again, so a function that changes a parameter in place fails.
    """

    make_inputs: Callable[[np.random.Generator, tuple], tuple] = None  # type: ignore[assignment]
    evaluate: Callable[..., tuple] = None  # type: ignore[assignment]
    mutants: Sequence[tuple[str, dict[str, Any]]] = ()
    tol: Tolerance = field(default_factory=Tolerance)
    reuses: Sequence[str] = ()
    answer_text: Sequence[str] = ()

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> list[Case]:
        found = []
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
                params, X, eps = self.make_inputs(rng, tuple(shape))
                found.append(self.case(seed=seed, inputs={"X": X, "eps": eps, **params},
                                       data={"params": params}))
        return found

    def prepare(self, case: Case) -> None:
        params, X, eps = case.data["params"], case.inputs["X"], case.inputs["eps"]
        loss, grads = self.evaluate(params, X, eps)
        alternatives: dict[str, list] = {k: [] for k in ("loss", *params)}
        for key, flags in self.mutants:
            wrong_loss, wrong = self.evaluate(params, X, eps, **flags)
            if not np.isclose(wrong_loss, loss):
                alternatives["loss"].append((key, wrong_loss))
            for k in params:
                alternatives[k].append((key, wrong[k]))
        case.data.update(loss=loss, grads=grads, alternatives=alternatives)

    def drive(self, steps: Steps, case: Case, fn: Any) -> dict:
        __tracebackhide__ = True
        name = function_name(fn, self.id)
        require_callable(case, name, fn)
        given = {k: v.copy() for k, v in case.data["params"].items()}
        # one dict on the student's side, passed to the call and fetched again after it
        params = steps.method(given, "copy", name="dict.copy", fetch=False)
        call = steps.call(fn, params, case.inputs["X"], case.inputs["eps"], name=name,
                          arg_names=("params", "X", "eps"))
        after = steps.method(params, "copy", name="dict.copy")
        # grads as a list of (name, gradient) pairs: plain data in both graders, whatever
        # kind of mapping the student returned (a dict subclass would not cross as data)
        grads = steps.item(call, 1, name="grads")
        kind = steps.op("type_name", grads, name="type")
        pairs = steps.op("list", steps.method(grads, "items", name="grads.items", fetch=False),
                         name="list")
        return {"name": name, "call": call, "after": after, "kind": kind, "pairs": pairs}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        name = plan["name"]
        loss, _ = _unpack(case, name, done.value(case, plan["call"]), ("loss", "grads"))
        self._check_params_unchanged(case, name, done.value(case, plan["after"]))
        batch = case.inputs["X"].shape[0]
        with _noting_reuse(case, name, self.reuses):
            compare_array(case, "loss", case.data["loss"], loss, tol=self.tol,
                          batch_size=batch, alternatives=case.data["alternatives"]["loss"],
                          header_key="hdr_mismatch_autograd")
            grads = self._grads(case, done, plan)
            expected = case.data["grads"]
            try:
                for k in VAE_PARAMS:
                    compare_array(case, f"grads[{k!r}]", expected[k], grads[k], tol=self.tol,
                                  batch_size=batch, alternatives=case.data["alternatives"][k],
                                  header_key="hdr_mismatch_autograd")
            except CheckFailure as failure:
                table = self._table(expected, grads)
                raise CheckFailure(f"{failure.args[0]}\n{table}", kind=failure.kind,
                                   exercise=failure.exercise) from None

    def _grads(self, case: Case, done: Done, plan: dict) -> dict:
        """The student's gradients as a plain dict, or the failure that says why not."""
        __tracebackhide__ = True
        pairs = done[plan["pairs"]]
        if pairs.status != "ok" or not isinstance(pairs.value, list) or not all(
                isinstance(p, tuple) and len(p) == 2 for p in pairs.value):
            kind = done[plan["kind"]]
            found = kind.value if kind.status == "ok" and isinstance(kind.value, str) else "?"
            raise CheckFailure(
                "\n".join([case.header("hdr_wrong_type", name="grads"),
                           M.bilingual("ae_grads_not_dict", indent="  ", found=found[:60])]),
                kind="type", exercise=case.exercise)
        grads = {k: v for k, v in pairs.value if isinstance(k, str)}
        for k in VAE_PARAMS:
            if k not in grads:
                raise CheckFailure(
                    "\n".join([case.header("hdr_wrong", name="grads"),
                               M.bilingual("ae_missing_grad", indent="  ", name=k,
                                           keys=", ".join(VAE_PARAMS)),
                               *case.reproduce_lines()]),
                    kind="wrong", exercise=case.exercise)
        return grads

    def _table(self, expected: Mapping[str, np.ndarray], grads: Mapping[str, Any]) -> str:
        """Which gradients agree with autograd and which do not, from the loss backwards."""
        good, bad = [], []
        for k in reversed(VAE_PARAMS):
            try:
                actual = np.asarray(grads[k], dtype=np.float64)
                same = actual.shape == expected[k].shape and bool(
                    self.tol.close(actual, expected[k]).all())
            except (TypeError, ValueError):
                same = False
            (good if same else bad).append(k)
        none = M.text("ae_none")
        return M.bilingual("ae_grad_table", indent="  ",
                           good=M.Text(", ".join(good) or none.en, ", ".join(good) or none.zh),
                           bad=M.Text(", ".join(bad) or none.en, ", ".join(bad) or none.zh))

    def _check_params_unchanged(self, case: Case, name: str, after: Any) -> None:
        __tracebackhide__ = True
        for k, original in case.data["params"].items():
            now = after.get(k) if isinstance(after, dict) else None
            if not (isinstance(now, np.ndarray) and now.shape == original.shape
                    and np.array_equal(now, original)):
                raise CheckFailure(
                    "\n".join([case.header("hdr_modified"),
                               M.bilingual("mutated_input", indent="  ", function=name,
                                           name=f"params[{k!r}]"),
                               *case.reproduce_lines()]),
                    kind="mutated", exercise=case.exercise)


register(
    LossAndGradsSpec(
        id="vae_loss_and_grads",
        title_en="Exercise 6.9 · VAE loss and gradients",
        title_zh="练习 6.9 · VAE 的损失与梯度",
        assignment=ASSIGNMENT,
        make_inputs=_vae_inputs,
        evaluate=_vae_evaluate,
        mutants=VAE_MUTANTS,
        reuses=("reparameterize_forward", "reparameterize_backward", "negative_elbo",
                "gaussian_kl"),
        answer_text=("dmu + dmu_z", "dh_mu + dh_logvar"),
    )
)
