"""Assignment 03 · 手推反向传播: layers with forward/backward, checked against autograd."""

from __future__ import annotations

import numpy as np

from ..specs import LayerSpec, away_from
from . import register

ASSIGNMENT = "03_backprop"


def _affine_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, D, M): a batch of N rows of D features mapped to M outputs."""
    n, d, m = shape
    return {
        "x": rng.standard_normal((n, d)),
        "w": rng.standard_normal((d, m)) / np.sqrt(d),
        "b": rng.standard_normal(m),
    }


register(
    LayerSpec(
        id="affine",
        title_en="Exercise 3.3 · affine layer",
        title_zh="练习 3.3 · 仿射层",
        assignment=ASSIGNMENT,
        make_inputs=_affine_inputs,
        reference=lambda x, w, b: x @ w + b,
        grads=("x", "w", "b"),
    )
)


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
        ]
    }


register(
    LayerSpec(
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
