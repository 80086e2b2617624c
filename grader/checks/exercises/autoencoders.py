"""Assignment 06 · 自编码器: autoencoders, sparse / contractive penalties and the VAE.

Every expected value and gradient comes from PyTorch autograd in float64. The
contractive penalty is computed the long way in torch: the encoder Jacobian is
built with ``torch.autograd.grad(..., create_graph=True)`` and its squared norm
is differentiated again, so the closed form the student writes is checked
against a definition, not against another closed form.

Known wrong answers (the bug zoo) are recognised through ``mutants``: what the
mistake returns, computed here, often by running the torch reference with one
path ``detach``-ed (a blocked gradient is exactly what ``detach`` does).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import (
    CheckFailure,
    Tolerance,
    as_tuple,
    call_student,
    check_inputs_unchanged,
    compare_array,
    report_pass,
)
from grader.checks.exercises import register
from grader.checks.specs import Exercise, LayerSpec, _unpack, away_from, function_name

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
            "Likely mistake: the derivative of |h| is sign(h), not 1; entries below zero "
            "get -1.",
            "可能的错误：|h| 的导数是 sign(h)，而不是 1；小于零的元素导数为 -1。",
        ),
        "ae_hint_kl_swapped": (
            "Likely mistake: the target ρ and the mean activation ρ̂ are swapped. The "
            "penalty is KL(ρ‖ρ̂_j) = ρ·log(ρ/ρ̂_j) + (1-ρ)·log((1-ρ)/(1-ρ̂_j)).",
            "可能的错误：目标值 ρ 与平均激活 ρ̂ 写反了。惩罚项是 "
            "KL(ρ‖ρ̂_j) = ρ·log(ρ/ρ̂_j) + (1-ρ)·log((1-ρ)/(1-ρ̂_j))。",
        ),
        "ae_hint_rho_hat_mean": (
            "Likely mistake: ρ̂_j must be the mean activation of unit j over the batch "
            "(axis 0), not each example's own activation.",
            "可能的错误：ρ̂_j 应当是第 j 个单元在整个批量上的平均激活（axis 0），"
            "而不是每个样本各自的激活。",
        ),
        "ae_hint_cae_activation": (
            "Likely mistake: the activation derivative is missing. For h = σ(X W1 + b1) the "
            "Jacobian entry is ∂h_j/∂x_i = h_j(1-h_j)·W1[i, j]; without h(1-h) the penalty "
            "is plain weight decay.",
            "可能的错误：漏掉了激活函数的导数。对 h = σ(X W1 + b1)，雅可比矩阵的元素是 "
            "∂h_j/∂x_i = h_j(1-h_j)·W1[i, j]；没有 h(1-h)，惩罚项就退化成了普通的权重衰减。",
        ),
        "ae_hint_cae_through_h": (
            "Likely mistake: h(1-h) was treated as a constant. The penalty depends on W1 "
            "and b1 also through h, which adds a term of the form X.T @ (...) to dW1 and "
            "its column sums to db1.",
            "可能的错误：把 h(1-h) 当成了常数。惩罚项还通过 h 依赖于 W1 和 b1，"
            "因此 dW1 中还要加上形如 X.T @ (...) 的一项，db1 中加上它按列的和。",
        ),
        "ae_hint_cae_not_squared": (
            "Likely mistake: the squared Frobenius norm needs (h_j(1-h_j))², the square of "
            "the activation derivative.",
            "可能的错误：弗罗贝尼乌斯范数的平方需要 (h_j(1-h_j))²，即激活导数的平方。",
        ),
        "ae_hint_reparam_blocked_mu": (
            "Likely mistake: no gradient reaches μ. Since z = μ + σ·ε is a sum, dmu = dz.",
            "可能的错误：梯度没有传到 μ。z = μ + σ·ε 是一个和，所以 dmu = dz。",
        ),
        "ae_hint_reparam_blocked_sigma": (
            "Likely mistake: no gradient reaches log σ². It flows through "
            "σ = exp(½·logvar): dlogvar = dz·ε·σ·½.",
            "可能的错误：梯度没有传到 log σ²。梯度经过 σ = exp(½·logvar) 传回："
            "dlogvar = dz·ε·σ·½。",
        ),
        "ae_hint_reparam_half": (
            "Likely mistake: the factor ½ from σ = exp(½·logvar) is missing: "
            "dσ/dlogvar = ½·σ.",
            "可能的错误：漏掉了 σ = exp(½·logvar) 带来的因子 ½：dσ/dlogvar = ½·σ。",
        ),
        "ae_hint_reparam_wrt_sigma": (
            "Likely mistake: this is the gradient with respect to σ, not log σ². Multiply "
            "by dσ/dlogvar = ½·σ.",
            "可能的错误：这是对 σ 的梯度，而不是对 log σ² 的梯度。还要乘以 dσ/dlogvar = ½·σ。",
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
    }
)


# ------------------------------------------------------------------ generic specs


def _digits_like(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Pixel intensities k/16 as in scikit-learn's digits, about half of them zero."""
    pixels = rng.integers(0, 17, size=(n, d)) / 16.0
    return np.where(rng.random((n, d)) < 0.45, 0.0, pixels)


def _describe(seed: int, inputs: Mapping[str, Any], options: Mapping[str, Any]) -> str:
    shapes = ", ".join(f"{k}.shape={tuple(np.shape(v))}" for k, v in inputs.items())
    extra = "".join(f", {k}={v!r}" for k, v in options.items())
    return f"seed={seed}, {shapes}{extra}"


_MEANINGFUL_FACTORS = (2.0, 0.5, -2.0, -0.5)


def compare_scalar(case, name, expected, actual, **kwargs) -> None:
    """``compare_array`` for a scalar, without the "constant factor" hint when it says nothing.

    Any wrong scalar is some multiple of the right one, so for a single number the
    generic hint only helps when the factor is one a student can act on (2 or ½).
    """
    __tracebackhide__ = True
    try:
        compare_array(case, name, expected, actual, **kwargs)
    except CheckFailure as failure:
        message = failure.args[0]
        try:
            value = np.asarray(actual, dtype=np.float64)
            factor = float(value) / float(expected) if value.ndim == 0 else math.nan
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            raise failure from None
        if math.isfinite(factor) and not any(abs(factor - f) < 1e-6
                                             for f in _MEANINGFUL_FACTORS):
            hint = M.bilingual("hint_constant_factor", indent="  ", factor=f"{factor:.6g}")
            message = message.replace(hint + "\n", "")
        raise CheckFailure(message, kind=failure.kind, exercise=failure.exercise) from None


@dataclass
class ScalarSpec(Exercise):
    """``fn(*inputs, **params) -> (value, d<grad1>, d<grad2>, ...)`` for a scalar value.

    ``input_options`` are literal keywords of the test call that shape the inputs
    (for example ``scale=5.0`` for edge inputs) rather than being passed to ``fn``.
    ``mutants(inputs, params)`` returns ``{value_name or grad name: [(hint, array)]}``.
    """

    make_inputs: Callable[..., dict[str, np.ndarray]] = None  # type: ignore[assignment]
    reference: Callable[..., Any] = None  # type: ignore[assignment]
    grads: Sequence[str] = ()
    value_name: str = "loss"
    params: Mapping[str, Any] = field(default_factory=dict)
    input_options: Sequence[str] = ()
    tol: Tolerance = field(default_factory=Tolerance)
    mutants: Callable[..., dict[str, list[tuple[str, np.ndarray]]]] | None = None

    def run(self, fn, *, seeds: Sequence[int], shapes: Sequence[tuple], **params: Any) -> None:
        __tracebackhide__ = True
        params = {**self.params, **params}
        options = {k: params.pop(k) for k in self.input_options if k in params}
        name = function_name(fn, self.id)
        names = [self.value_name, *[f"d{g}" for g in self.grads]]
        count = 0
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
                inputs = self.make_inputs(rng, tuple(shape), **options)
                case = self.case(seed=seed, inputs=inputs,
                                 description=_describe(seed, inputs, {**options, **params}))
                value_ref, grads_ref = torchref.evaluate(self.reference, inputs, self.grads,
                                                         None, params)
                given = {k: v.copy() for k, v in inputs.items()}
                result = call_student(case, name, fn, *given.values(), **params,
                                      arg_names=list(inputs))
                parts = _unpack(case, name, result, names)
                alternatives = self.mutants(inputs, params) if self.mutants else {}
                batch = next(iter(inputs.values())).shape[0]
                compare_scalar(case, self.value_name, value_ref, parts[0], tol=self.tol,
                               batch_size=batch,
                               alternatives=alternatives.get(self.value_name, []),
                               header_key="hdr_mismatch_autograd")
                for grad_name, grad in zip(self.grads, parts[1:], strict=True):
                    compare_array(case, f"d{grad_name}", grads_ref[grad_name], grad,
                                  tol=self.tol, batch_size=batch,
                                  alternatives=alternatives.get(grad_name, []),
                                  header_key="hdr_mismatch_autograd")
                count += 1
        report_pass(self.title, count)


def _evaluate_outputs(reference, inputs, wrt, upstreams, **flags):
    """Forward values of a multi-output ``reference`` and the gradients of Σ out_k·upstream_k."""
    torch = torchref.torch
    tensors = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=name in wrt)
        for name, value in inputs.items()
    }
    outs = reference(**tensors, **flags)
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
    # mutants: (hint key, flags for the reference) — the reference run with those flags
    # gives what that mistake returns
    mutants: Sequence[tuple[str, dict[str, Any]]] = ()

    def run(self, forward, backward, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> None:
        __tracebackhide__ = True
        fwd_name = function_name(forward, f"{self.id}_forward")
        bwd_name = function_name(backward, f"{self.id}_backward")
        upstream_names = [f"d{o}" for o in self.outputs]
        count = 0
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
                inputs = self.make_inputs(rng, tuple(shape))
                case = self.case(seed=seed, inputs=inputs)
                outs_ref = _forward_outputs(self.reference, inputs)
                upstreams = [rng.standard_normal(o.shape) for o in outs_ref]
                outs_ref, grads_ref = _evaluate_outputs(self.reference, inputs, self.grads,
                                                        upstreams)
                given = {k: v.copy() for k, v in inputs.items()}
                result = call_student(case, fwd_name, forward, *given.values(),
                                      arg_names=list(inputs))
                *outs, cache = _unpack(case, fwd_name, result, (*self.outputs, "cache"))
                batch = outs_ref[0].shape[0]
                for out_name, expected, actual in zip(self.outputs, outs_ref, outs, strict=True):
                    compare_array(case, out_name, expected, actual, tol=self.tol,
                                  batch_size=batch, header_key="hdr_mismatch_autograd")
                returned = call_student(case, bwd_name, backward,
                                        *[u.copy() for u in upstreams], cache,
                                        arg_names=(*upstream_names, "cache"))
                returned = _unpack(case, bwd_name, as_tuple(returned),
                                   [f"d{g}" for g in self.grads])
                check_inputs_unchanged(case, bwd_name, given, inputs)
                alternatives = self._alternatives(inputs, upstreams)
                for grad_name, grad in zip(self.grads, returned, strict=True):
                    compare_array(case, f"d{grad_name}", grads_ref[grad_name], grad,
                                  tol=self.tol, batch_size=batch,
                                  alternatives=alternatives[grad_name],
                                  header_key="hdr_mismatch_autograd")
                count += 1
        report_pass(self.title, count)

    def _alternatives(self, inputs, upstreams):
        found: dict[str, list] = {g: [] for g in self.grads}
        variants = [(key, flags, upstreams) for key, flags in self.mutants]
        variants.append(("hint_ignores_upstream", {}, [np.ones_like(u) for u in upstreams]))
        for key, flags, ups in variants:
            if "drop" in flags:  # a mistake that forgets one upstream gradient
                ups = [np.zeros_like(u) if i == flags["drop"] else u for i, u in enumerate(ups)]
                flags = {k: v for k, v in flags.items() if k != "drop"}
            _, grads = _evaluate_outputs(self.reference, inputs, self.grads, ups, **flags)
            for g in self.grads:
                found[g].append((key, grads[g]))
        return found


def _forward_outputs(reference, inputs):
    torch = torchref.torch
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in inputs.items()}
    with torch.no_grad():
        outs = reference(**tensors)
    return [o.numpy().copy() for o in outs]


# --------------------------------------------------------- 6.1 reconstruction loss


def _recon_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, D): reconstructions in (0, 1) and digits-like targets."""
    n, d = shape
    return {
        "X_hat": 1 / (1 + np.exp(-rng.standard_normal((n, d)))),
        "X": _digits_like(rng, n, d),
    }


def _recon_mutants(inputs, params):
    X_hat, X = inputs["X_hat"], inputs["X"]
    n, d = X.shape
    diff = X_hat - X
    return {
        "loss": [("ae_hint_mean_over_pixels", (diff**2).mean())],
        "X_hat": [("ae_hint_mean_over_pixels", 2 * diff / (n * d))],
    }


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
        mutants=(("ae_hint_code_gradient", {"drop": 1}),),
    )
)


# ------------------------------------------------------------- 6.3 L1 sparsity


def _code_inputs(rng: np.random.Generator, shape: tuple, shift: float = 0.0):
    """shape = (N, H): a code of H units for N examples, away from 0 (the kink of |h|)."""
    return {"h": away_from(rng, shape, kinks=(0.0,), margin=1e-3) + shift}


def _l1_mutants(inputs, params):
    h, lam = inputs["h"], params["lam"]
    n = h.shape[0]
    return {"h": [("ae_hint_l1_sign", np.full_like(h, lam / n))]}


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
    )
)


# ------------------------------------------------------------- 6.4 KL sparsity


def _activation_inputs(rng: np.random.Generator, shape: tuple, shift: float = 0.0):
    """shape = (N, H): sigmoid activations in (0, 1); ``shift`` moves the pre-activations."""
    z = rng.standard_normal(shape) * 1.5 + shift
    return {"h": 1 / (1 + np.exp(-z))}


def _bernoulli_kl(p, q):
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


def _kl_sparsity_reference(h, rho, beta):
    torch = torchref.torch
    rho_hat = h.mean(dim=0)
    rho_t = torch.tensor(rho, dtype=torch.float64)
    kl = rho_t * torch.log(rho_t / rho_hat) + (1 - rho_t) * torch.log((1 - rho_t) / (1 - rho_hat))
    return beta * kl.sum()


def _kl_sparsity_mutants(inputs, params):
    h, rho, beta = inputs["h"], params["rho"], params["beta"]
    n = h.shape[0]
    rho_hat = h.mean(axis=0)
    # KL(ρ̂‖ρ): dKL/dρ̂ = log(ρ̂/ρ) - log((1-ρ̂)/(1-ρ))
    swapped_value = beta * _bernoulli_kl(rho_hat, rho).sum()
    swapped_grad = np.broadcast_to(
        beta * (np.log(rho_hat / rho) - np.log((1 - rho_hat) / (1 - rho))) / n, h.shape
    )
    # ρ̂ replaced by each example's own h, the KLs summed or averaged over the batch
    per_example_sum = beta * _bernoulli_kl(rho, h).sum()
    per_example_grad = beta * (-rho / h + (1 - rho) / (1 - h)) / n
    return {
        "penalty": [("ae_hint_kl_swapped", swapped_value),
                    ("ae_hint_rho_hat_mean", per_example_sum),
                    ("ae_hint_rho_hat_mean", per_example_sum / n)],
        "h": [("ae_hint_kl_swapped", swapped_grad), ("ae_hint_rho_hat_mean", per_example_grad)],
    }


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


def _contractive_reference(X, W1, b1, lam):
    """λ/N · Σ_n ‖∂h_n/∂x_n‖²_F with the Jacobian from autograd (create_graph=True)."""
    torch = torchref.torch
    Xg = X.detach().clone().requires_grad_(True)
    h = torch.sigmoid(Xg @ W1 + b1)
    total = torch.zeros((), dtype=torch.float64)
    for j in range(h.shape[1]):
        # row j of every example's Jacobian: ∂h_nj/∂x_n (examples do not interact)
        (row,) = torch.autograd.grad(h[:, j].sum(), Xg, create_graph=True)
        total = total + (row**2).sum()
    return lam * total / X.shape[0]


def _contractive_mutants(inputs, params):
    X, W1, b1, lam = inputs["X"], inputs["W1"], inputs["b1"], params["lam"]
    n = X.shape[0]
    h = 1 / (1 + np.exp(-(X @ W1 + b1)))
    a = h * (1 - h)
    s = (W1**2).sum(axis=0)
    constant_h_dW1 = lam / n * 2 * W1 * (a**2).sum(axis=0)
    return {
        "penalty": [("ae_hint_cae_activation", lam * (W1**2).sum()),
                    ("ae_hint_cae_not_squared", lam / n * (a * s).sum())],
        "W1": [("ae_hint_cae_activation", 2 * lam * W1),
               ("ae_hint_cae_through_h", constant_h_dW1)],
        "b1": [("ae_hint_cae_activation", np.zeros_like(b1)),
               ("ae_hint_cae_through_h", np.zeros_like(b1))],
    }


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


def _reparam_mutants(inputs, dout, params):
    eps, logvar = inputs["eps"], inputs["logvar"]
    std = np.exp(0.5 * logvar)
    return {
        "mu": [("ae_hint_reparam_blocked_mu", np.zeros_like(dout))],
        "logvar": [
            ("ae_hint_reparam_blocked_sigma", np.zeros_like(dout)),
            ("ae_hint_reparam_half", dout * eps * std),
            ("ae_hint_reparam_wrt_sigma", dout * eps),
        ],
    }


register(
    LayerSpec(
        id="reparameterize",
        title_en="Exercise 6.6 · reparameterisation",
        title_zh="练习 6.6 · 重参数化",
        assignment=ASSIGNMENT,
        make_inputs=_reparam_inputs,
        reference=lambda mu, logvar, eps: mu + (0.5 * logvar).exp() * eps,
        grads=("mu", "logvar"),
        mutants=_reparam_mutants,
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


def _gaussian_kl_mutants(inputs, params):
    mu, logvar = inputs["mu"], inputs["logvar"]
    n = mu.shape[0]
    kl = -0.5 * (1 + logvar - mu**2 - np.exp(logvar)).sum() / n
    dmu = mu / n
    dlogvar = 0.5 * (np.exp(logvar) - 1) / n
    return {
        "kl": [("ae_hint_kl_sign", -kl), ("ae_hint_kl_half", 2 * kl)],
        "mu": [("ae_hint_kl_sign", -dmu), ("ae_hint_kl_half", 2 * dmu)],
        "logvar": [("ae_hint_kl_sign", -dlogvar), ("ae_hint_kl_half", 2 * dlogvar)],
    }


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


def _negative_elbo_reference(X, logits, mu, logvar):
    torch = torchref.torch
    n = X.shape[0]
    recon = torch.nn.functional.binary_cross_entropy_with_logits(logits, X, reduction="sum") / n
    return recon + _gaussian_kl_reference(mu, logvar)


def _negative_elbo_mutants(inputs, params):
    X, logits, mu, logvar = inputs["X"], inputs["logits"], inputs["mu"], inputs["logvar"]
    n = X.shape[0]
    recon = (np.maximum(logits, 0) - logits * X + np.log1p(np.exp(-np.abs(logits)))).sum() / n
    kl = -0.5 * (1 + logvar - mu**2 - np.exp(logvar)).sum() / n
    # the cross-entropy taken on the logits as if they were probabilities
    p = np.clip(logits, 1e-12, 1 - 1e-12)
    probs_recon = -(X * np.log(p) + (1 - X) * np.log(1 - p)).sum() / n
    return {
        "loss": [("ae_hint_elbo_kl_sign", recon - kl), ("ae_hint_elbo_probs", probs_recon)],
        "mu": [("ae_hint_elbo_kl_sign", -mu / n)],
        "logvar": [("ae_hint_elbo_kl_sign", -0.5 * (np.exp(logvar) - 1) / n)],
        "logits": [("ae_hint_elbo_probs", (p - X) / (p * (1 - p)) / n)],
    }


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
                   heads=("mu", "logvar"), sigma_grad_factor=1.0):
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
    return recon + (kl if kl_grad else kl.detach())


def _vae_evaluate(params, X, eps, **flags):
    torch = torchref.torch
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
               for k, v in params.items()}
    loss = _vae_reference(tensors, torch.tensor(X), torch.tensor(eps), **flags)
    loss.backward()
    return loss.detach().numpy().copy(), {k: t.grad.numpy().copy() for k, t in tensors.items()}


VAE_MUTANTS = (
    ("ae_hint_vae_kl_grad", {"kl_grad": False}),
    ("ae_hint_reparam_blocked_mu", {"block_mu": True}),
    ("ae_hint_reparam_blocked_sigma", {"block_sigma": True}),
    ("ae_hint_reparam_half", {"sigma_grad_factor": 2.0}),
    ("ae_hint_vae_fanout", {"heads": ("mu",)}),
    ("ae_hint_vae_fanout", {"heads": ("logvar",)}),
)


@dataclass
class LossAndGradsSpec(Exercise):
    """``fn(params, X, eps) -> (loss, grads)`` with ``grads`` a dict keyed like ``params``."""

    make_inputs: Callable[[np.random.Generator, tuple], tuple] = None  # type: ignore[assignment]
    evaluate: Callable[..., tuple] = None  # type: ignore[assignment]
    mutants: Sequence[tuple[str, dict[str, Any]]] = ()
    tol: Tolerance = field(default_factory=Tolerance)

    def run(self, fn, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> None:
        __tracebackhide__ = True
        name = function_name(fn, self.id)
        count = 0
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
                params, X, eps = self.make_inputs(rng, tuple(shape))
                shown = {"X": X, "eps": eps, **params}
                case = self.case(seed=seed, inputs=shown)
                loss_ref, grads_ref = self.evaluate(params, X, eps)
                given = {k: v.copy() for k, v in params.items()}
                result = call_student(case, name, fn, given, X.copy(), eps.copy(),
                                      arg_names=("params", "X", "eps"))
                loss, grads = _unpack(case, name, result, ("loss", "grads"))
                check_inputs_unchanged(case, name, given, params)
                batch = X.shape[0]
                compare_scalar(case, "loss", loss_ref, loss, tol=self.tol, batch_size=batch,
                               header_key="hdr_mismatch_autograd")
                self._check_keys(case, grads)
                alternatives: dict[str, list] = {k: [] for k in params}
                for key, flags in self.mutants:
                    _, wrong = self.evaluate(params, X, eps, **flags)
                    for k in params:
                        alternatives[k].append((key, wrong[k]))
                for k in params:
                    compare_array(case, f"grads[{k!r}]", grads_ref[k], grads[k], tol=self.tol,
                                  batch_size=batch, alternatives=alternatives[k],
                                  header_key="hdr_mismatch_autograd")
                count += 1
        report_pass(self.title, count)

    def _check_keys(self, case, grads) -> None:
        __tracebackhide__ = True
        if not isinstance(grads, Mapping):
            raise CheckFailure(
                "\n".join([case.header("hdr_wrong_type", name="grads"),
                           M.bilingual("ae_grads_not_dict", indent="  ",
                                       found=type(grads).__name__)]),
                kind="type", exercise=case.exercise)
        for k in VAE_PARAMS:
            if k not in grads:
                raise CheckFailure(
                    "\n".join([case.header("hdr_wrong", name="grads"),
                               M.bilingual("ae_missing_grad", indent="  ", name=k,
                                           keys=", ".join(VAE_PARAMS)),
                               *case.reproduce_lines()]),
                    kind="wrong", exercise=case.exercise)


register(
    LossAndGradsSpec(
        id="vae_loss_and_grads",
        title_en="Exercise 6.9 · VAE loss and gradients",
        title_zh="练习 6.9 · VAE 的损失与梯度",
        assignment=ASSIGNMENT,
        make_inputs=_vae_inputs,
        evaluate=_vae_evaluate,
        mutants=VAE_MUTANTS,
    )
)
