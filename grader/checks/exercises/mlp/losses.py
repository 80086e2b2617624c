"""2.12–2.15, the losses · 损失函数: mean squared error, cross-entropy, entropy and the KL
divergence, each a :class:`~.common.ValueSpec` against a torch expression.
"""

from __future__ import annotations

import numpy as np

from grader.checks import torchref
from grader.checks.exercises import register
from grader.checks.exercises.mlp.common import (
    ASSIGNMENT,
    Alternatives,
    Inputs,
    ValueSpec,
    rows_to_distribution,
    tensors,
)
from grader.checks.specs import numbered


def _regression_inputs(rng: np.random.Generator, shape: tuple) -> Inputs:
    return {"y_hat": rng.standard_normal(tuple(shape)), "y": rng.standard_normal(tuple(shape))}


def _mse_mutants(inputs, params) -> Alternatives:
    sq = (inputs["y_hat"] - inputs["y"]) ** 2
    out = [("mlp_hint_mse_half", np.asarray(sq.mean() / 2))]
    if sq.ndim == 2 and sq.shape[1] > 1:
        out.append(("mlp_hint_mean_over_all", np.asarray(sq.sum() / sq.shape[0])))
    return out


register(
    ValueSpec(
        id="mse", **numbered("2.12", "mean squared error", "均方误差（MSE）", ASSIGNMENT),
        make_inputs=_regression_inputs,
        reference=lambda y_hat, y: torchref.torch.nn.functional.mse_loss(y_hat, y),
        mutants=_mse_mutants, output_name="loss", scalar_batch=True,
        answer_text=("np.mean((y_hat - y) ** 2)",),
    )
)


def _classification_inputs(rng: np.random.Generator, shape: tuple) -> Inputs:
    n, c = shape
    return {"Z": rng.standard_normal((n, c)) * 3.0, "y": rng.integers(0, c, size=n)}


def _ce_edges(params) -> list[Inputs]:
    return [
        {"Z": np.array([[1e4, 0.0, -1e4]]), "y": np.array([2])},
        {"Z": np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]]), "y": np.array([0, 1])},
        {"Z": np.array([[-1e4, -1e4 + 3.0]]), "y": np.array([0])},
    ]


def _ce_mutants(inputs, params) -> Alternatives:
    Z, y = inputs["Z"], inputs["y"]
    # A missing mean (the sum over the batch) gets the shared batch-size hint.
    with np.errstate(all="ignore"):
        as_probabilities = -np.log(Z[np.arange(Z.shape[0]), y]).mean()
    return [("mlp_hint_ce_probabilities", np.asarray(as_probabilities))]


register(
    ValueSpec(
        id="softmax_cross_entropy", **numbered("2.13", "cross-entropy loss", "交叉熵损失", ASSIGNMENT),
        make_inputs=_classification_inputs,
        reference=lambda Z, y: torchref.torch.nn.functional.cross_entropy(Z, y),
        edges=_ce_edges, mutants=_ce_mutants, output_name="loss", scalar_batch=True,
        hint="mlp_hint_logsumexp",
        answer_text=("log_softmax(Z)[np.arange(N), y]", "[np.arange(N), y]"),
    )
)


def _distribution_inputs(rng: np.random.Generator, shape: tuple) -> Inputs:
    return {"q": rows_to_distribution(rng.standard_normal(tuple(shape)) * 2.0)}


def _entropy_edges(params) -> list[Inputs]:
    return [
        {"q": np.array([[0.0, 1.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0]])},
        {"q": np.array([[1.0]])},
    ]


def _entropy_mutants(inputs, params) -> Alternatives:
    torch = torchref.torch
    h = torch.special.entr(torch.tensor(inputs["q"])).sum(dim=1).numpy().copy()
    return [("mlp_hint_log_base", h / np.log(2)), ("mlp_hint_per_batch", h.sum()),
            ("mlp_hint_per_batch", h.mean())]


register(
    ValueSpec(
        id="entropy", **numbered("2.14", "entropy", "熵（entropy）", ASSIGNMENT),
        make_inputs=_distribution_inputs,
        reference=lambda q: torchref.torch.special.entr(q).sum(dim=1),
        edges=_entropy_edges, mutants=_entropy_mutants, output_name="H",
        hint="mlp_hint_zero_log_zero",
        answer_text=("np.where(q > 0, q, 1.0)", "q * np.log(safe)"),
    )
)


def _kl_inputs(rng: np.random.Generator, shape: tuple) -> Inputs:
    return {
        "q": rows_to_distribution(rng.standard_normal(tuple(shape)) * 2.0),
        "p": rows_to_distribution(rng.standard_normal(tuple(shape)) * 2.0),
    }


def _kl_edges(params) -> list[Inputs]:
    uniform = np.full((2, 3), 1 / 3)
    return [
        {"q": np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]), "p": uniform},
        {"q": np.array([[0.2, 0.3, 0.5]]), "p": np.array([[0.2, 0.3, 0.5]])},
    ]


def _torch_kl(q, p):
    # F.kl_div(input=log p, target=q) is KL(q‖p), elementwise; sum over classes.
    return torchref.torch.nn.functional.kl_div(p.log(), q, reduction="none").sum(dim=1)


def _kl_mutants(inputs, params) -> Alternatives:
    t = tensors(inputs)
    kl = _torch_kl(t["q"], t["p"]).numpy().copy()
    with np.errstate(all="ignore"):
        swapped = _torch_kl(t["p"], t["q"]).numpy().copy()
    return [("mlp_hint_kl_swapped", swapped), ("mlp_hint_log_base", kl / np.log(2)),
            ("mlp_hint_per_batch", kl.sum()), ("mlp_hint_per_batch", kl.mean())]


register(
    ValueSpec(
        id="kl_divergence", **numbered("2.15", "KL divergence", "KL 散度", ASSIGNMENT),
        make_inputs=_kl_inputs, reference=_torch_kl,
        edges=_kl_edges, mutants=_kl_mutants, output_name="KL",
        hint="mlp_hint_zero_log_zero",
        answer_text=("np.log(safe) - np.log(p)",),
    )
)
