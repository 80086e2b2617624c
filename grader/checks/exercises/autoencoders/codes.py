"""Exercises 6.1-6.5 · 练习 6.1-6.5: the reconstruction loss, the autoencoder, the sparsity
penalties and the contractive penalty, each against PyTorch autograd in float64."""

from __future__ import annotations

import numpy as np

from grader.checks import torchref
from grader.checks.exercises import register
from grader.checks.exercises.autoencoders.common import (
    ASSIGNMENT,
    MultiOutputLayerSpec,
    ScalarSpec,
    digits_like,
    replayed,
)
from grader.checks.specs import away_from, numbered

# --------------------------------------------------------- 6.1 reconstruction loss


def _recon_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, D): reconstructions in (0, 1) and digits-like targets."""
    n, d = shape
    return {
        "X_hat": 1 / (1 + np.exp(-rng.standard_normal((n, d)))),
        "X": digits_like(rng, n, d),
    }


def _recon_mutants(inputs, params, value, grads):
    d = inputs["X"].shape[1]  # averaged over the D pixels too: 1/D of the right answer
    return {"loss": [("ae_hint_mean_over_pixels", value / d)],
            "X_hat": [("ae_hint_mean_over_pixels", grads["X_hat"] / d)]}


register(
    ScalarSpec(
        id="reconstruction_loss",
        **numbered("6.1", "reconstruction loss", "重建损失", ASSIGNMENT),
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
        "X": digits_like(rng, n, d),
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
        **numbered("6.2", "undercomplete autoencoder", "欠完备自编码器", ASSIGNMENT),
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
        **numbered("6.3", "L1 sparsity penalty", "L1 稀疏惩罚", ASSIGNMENT),
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
    both = ("penalty", "h")
    return replayed(_kl_sparsity_reference, inputs, params, ("h",), "penalty",
                    (("ae_hint_kl_swapped", {"swapped": True}, both),
                     ("ae_hint_rho_hat_mean", {"per_example": "sum"}, both),
                     ("ae_hint_rho_hat_mean", {"per_example": "mean"}, both)))


register(
    ScalarSpec(
        id="kl_sparsity",
        **numbered("6.4", "KL sparsity penalty", "KL 稀疏惩罚", ASSIGNMENT),
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
        "X": digits_like(rng, n, d),
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
    found = replayed(_contractive_reference, inputs, params, ("W1", "b1"), "penalty", (
        ("ae_hint_cae_activation", {"mistake": "no_activation"}, ("penalty", "W1")),
        ("ae_hint_cae_not_squared", {"mistake": "not_squared"}, ("penalty",)),
        ("ae_hint_cae_through_h", {"mistake": "constant_h"}, ("W1",)),
        ("ae_hint_cae_direct", {"mistake": "no_direct"}, ("W1",))))
    # db1 is compared after dW1, so a zero db1 here means dW1 was right: only the path
    # of b1 through h was forgotten (issue #16: no other diagnosis for this pattern).
    found["b1"].append(("ae_hint_cae_db1_zero", np.zeros_like(inputs["b1"])))
    return found


register(
    ScalarSpec(
        id="contractive_penalty",
        **numbered("6.5", "contractive penalty", "收缩惩罚", ASSIGNMENT),
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
