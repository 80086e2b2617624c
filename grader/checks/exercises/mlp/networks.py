"""2.8–2.11, from scores to a network · 从得分到网络: softmax and log-softmax, the dense layer,
the MLP's forward pass, each a :class:`~.common.ValueSpec` against a torch expression.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from grader.checks import torchref
from grader.checks.exercises import register
from grader.checks.exercises.mlp.activations import torch_leaky_relu
from grader.checks.exercises.mlp.common import (
    ASSIGNMENT,
    Alternatives,
    Inputs,
    ValueSpec,
    tensors,
)
from grader.checks.specs import numbered


def _logits(rng: np.random.Generator, shape: tuple) -> Inputs:
    return {"Z": rng.standard_normal(tuple(shape)) * 3.0}


def _softmax_edges(params) -> list[Inputs]:
    return [
        {"Z": np.array([[1e4, 0.0, -1e4]])},
        {"Z": np.array([[1e4, 1e4 - 1.0, 1e4 - 2.0], [-1e4, -1e4 + 1.0, -1e4 + 2.0]])},
        {"Z": np.array([[1000.0, 1000.0], [-5.0, 5.0], [0.0, 0.0]])},
        {"Z": np.array([[3.0]])},
    ]


def _softmax_mutants(inputs, params) -> Alternatives:
    torch = torchref.torch
    Z = torch.tensor(inputs["Z"])
    # normalised down the columns (with N = 1 every entry is 1)
    out: Alternatives = [("mlp_hint_softmax_axis", torch.softmax(Z, dim=0).numpy().copy())]
    # one maximum for the whole batch: rows far below it underflow to 0 / 0
    e = torch.exp(Z - Z.max())
    out.append(("mlp_hint_global_max", (e / e.sum(dim=1, keepdim=True)).numpy().copy()))
    return out


def _log_softmax_mutants(inputs, params) -> Alternatives:
    torch = torchref.torch
    return [("mlp_hint_softmax_axis",
             torch.log_softmax(torch.tensor(inputs["Z"]), dim=0).numpy().copy())]


# softmax and log-softmax normalise the same rows of logits: the same inputs and edge rows,
# and a numerical warning fails the check (an overflow: the shift was forgotten)
_LOGIT_ROWS = {"make_inputs": _logits, "edges": _softmax_edges, "strict_warnings": True}

register(
    ValueSpec(
        id="softmax", **numbered("2.8", "softmax", "softmax", ASSIGNMENT), **_LOGIT_ROWS,
        reference=lambda Z: torchref.torch.softmax(Z, dim=1), mutants=_softmax_mutants,
        hint="mlp_hint_max_shift",
        answer_text=("Z - Z.max(axis=1, keepdims=True)", "c = -\\max_k z_k"),
    )
)
register(
    ValueSpec(
        id="log_softmax", **numbered("2.9", "log-softmax", "log-softmax", ASSIGNMENT), **_LOGIT_ROWS,
        reference=lambda Z: torchref.torch.log_softmax(Z, dim=1), mutants=_log_softmax_mutants,
        hint="mlp_hint_logsumexp",
        answer_text=("z_j - m - \\log \\sum_{k} e^{z_k - m}",
                     "shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))"),
    )
)


# --- dense layer and MLP forward ---------------------------------------------------


ACTIVATION_NAMES = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "softmax")


def _torch_activation(name: str) -> Callable[[Any], Any]:
    torch = torchref.torch
    table = {
        "identity": lambda Z: Z,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": torch_leaky_relu,
        "softplus": lambda Z: torch.logaddexp(Z, torch.zeros_like(Z)),
        "softmax": lambda Z: torch.softmax(Z, dim=1),
    }
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; use one of {ACTIVATION_NAMES}")
    return table[name]


def _dense_inputs(rng: np.random.Generator, shape: tuple) -> Inputs:
    """shape = (N, num_inputs, num_outputs)."""
    n, d, m = shape
    return {
        "X": rng.standard_normal((n, d)),
        "W": rng.standard_normal((d, m)) / np.sqrt(d),
        "b": rng.standard_normal(m),
    }


def _dense_mutants(inputs, params) -> Alternatives:
    act = _torch_activation(params.get("activation", "relu"))
    t = tensors(inputs)
    return [
        ("mlp_hint_missing_bias", act(t["X"] @ t["W"]).numpy().copy()),
        ("mlp_hint_bias_after_activation", (act(t["X"] @ t["W"]) + t["b"]).numpy().copy()),
    ]


register(
    ValueSpec(
        id="dense", **numbered("2.10", "dense layer", "全连接层（dense layer）", ASSIGNMENT),
        make_inputs=_dense_inputs,
        reference=lambda X, W, b, activation="relu": _torch_activation(activation)(X @ W + b),
        mutants=_dense_mutants, answer_text=("activation_fn(activation)(X @ W + b)",),
    )
)


def _mlp_inputs(rng: np.random.Generator, shape: tuple) -> Inputs:
    """shape = (N, num_inputs, num_hiddens..., num_outputs): one weight pair per layer."""
    n, *sizes = shape
    inputs = {"X": rng.standard_normal((n, sizes[0]))}
    for layer, (d, m) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        inputs[f"W{layer}"] = rng.standard_normal((d, m)) / np.sqrt(d)
        inputs[f"b{layer}"] = rng.standard_normal(m) * 0.5
    return inputs


def _mlp_params(inputs: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    layers = (len(inputs) - 1) // 2
    return [(inputs[f"W{i}"], inputs[f"b{i}"]) for i in range(1, layers + 1)]


def _mlp_forward(inputs, hidden, output) -> Any:
    """The network in torch, with the activations named (the reference and its mistakes)."""
    H = inputs["X"]
    params = _mlp_params(inputs)
    for W, b in params[:-1]:
        H = _torch_activation(hidden)(H @ W + b)
    W, b = params[-1]
    return _torch_activation(output)(H @ W + b)


def _mlp_reference(hidden_activation="relu", output_activation="identity", **inputs):
    return _mlp_forward(inputs, hidden_activation, output_activation)


def _mlp_mutants(inputs, params) -> Alternatives:
    hidden = params.get("hidden_activation", "relu")
    output = params.get("output_activation", "identity")
    t = tensors(inputs)
    out: Alternatives = []
    if hidden != output:
        out.append(("mlp_hint_output_activation",
                    _mlp_forward(t, hidden, hidden).numpy().copy()))
    if hidden != "identity" and len(inputs) > 3:
        out.append(("mlp_hint_no_hidden_activation",
                    _mlp_forward(t, "identity", output).numpy().copy()))
    if output != "identity":
        out.append(("mlp_hint_no_output_activation",
                    _mlp_forward(t, hidden, "identity").numpy().copy()))
    return out


register(
    ValueSpec(
        id="mlp_forward", **numbered("2.11", "MLP forward pass", "多层感知机的前向传播", ASSIGNMENT),
        make_inputs=_mlp_inputs,
        reference=_mlp_reference, mutants=_mlp_mutants, output_name="y_hat",
        call_args=lambda given: (given["X"], _mlp_params(given)), arg_names=("X", "params"),
        answer_text=("for W, b in params[:-1]", "dense(H, W, b, output_activation)"),
    )
)
