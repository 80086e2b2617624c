"""Assignment 03's NumPy answers and the values its classic mistakes give · 作业 03 的参考实现与常见错误.

Every gradient of 03 is checked against PyTorch autograd (:mod:`grader.checks.torchref`);
what lives here is NumPy code that computes what a student's function returns: the
relative error (an exercise whose reference is its own answer), and the known wrong
answers (a transposed ``dw``, a sigmoid derivative taken on the input, a one-sided
difference ...) that let a failure name its mistake. They are answers, or one step away
from them, so they stay out of the student release like every reference; the checks
call them only while preparing a case.

Each ``*_mutants`` function returns ``{gradient name: [(hint key, what that mistake
returns), ...]}`` (a list for a function without named gradients).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

Arrays = Mapping[str, np.ndarray]
Hints = dict[str, list[tuple[str, np.ndarray]]]


def sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# ------------------------------------------------------------------ 3.1, 3.2a, 3.2b


def neuron_hints(expected: Mapping[str, np.ndarray], w: np.ndarray, x: np.ndarray) -> Hints:
    """For stacked neuron cases: the sigmoid derivative taken on z, dout forgotten, dw = dz."""
    z, h, dh, dz = expected["z"], expected["h"], expected["dh"], expected["dz"]
    return {
        "dz": [("backprop_sigmoid_from_input", dh * z * (1 - z)),
               ("hint_ignores_upstream", h * (1 - h))],
        "dw": [("backprop_dw_missing_x", dz), ("backprop_mul_swap", dz * w)],
        "db": [("backprop_db_is_dz", dz * x)],
    }


def gate_hints(dout: np.ndarray, x: np.ndarray, y: np.ndarray) -> dict[str, Hints]:
    """The gate rules' classic mistakes, per gate and input."""
    return {
        "add_backward": {"x": [("backprop_add_passes", dout / 2)],
                         "y": [("backprop_add_passes", dout / 2)]},
        "mul_backward": {"x": [("backprop_mul_swap", dout * x)],
                         "y": [("backprop_mul_swap", dout * y)]},
        "max_backward": {"x": [("backprop_max_route", dout * (x < y)),
                               ("backprop_max_route", dout)],
                         "y": [("backprop_max_route", dout * (y < x)),
                               ("backprop_max_route", dout)]},
    }


def copy_hints(dout_a: np.ndarray, dout_b: np.ndarray) -> list[tuple[str, np.ndarray]]:
    return [("backprop_copy_sum", dout_a), ("backprop_copy_sum", dout_b),
            ("backprop_copy_sum", (dout_a + dout_b) / 2)]


def graph_mutants(inputs: Arrays, dout: np.ndarray, params: Mapping[str, Any]) -> Hints:
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


# ------------------------------------------------------------------- 3.3 - 3.6 layers


def affine_mutants(inputs: Arrays, dout: np.ndarray, params: Mapping[str, Any]) -> Hints:
    w = inputs["w"]
    found: Hints = {"x": [], "w": [], "b": []}
    if dout.shape[1] == w.shape[0]:  # D == M: dout @ w has the right shape but is wrong
        found["x"].append(("backprop_affine_dx", dout @ w))
    if dout.shape[0] == dout.shape[1]:  # N == M: a sum over the wrong axis has the right shape
        found["b"].append(("backprop_db_axis", dout.sum(axis=1)))
    return found


def relu_mutants(inputs: Arrays, dout: np.ndarray, params: Mapping[str, Any]) -> Hints:
    out = np.maximum(inputs["x"], 0)
    # the mask built from dout, or from an output that was clipped with >= 0
    return {"x": [("hint_mask_from_output", dout * (dout > 0)),
                  ("hint_mask_from_output", dout * (out >= 0)),
                  ("hint_mask_from_output", np.maximum(dout, 0))]}


def sigmoid_mutants(inputs: Arrays, dout: np.ndarray, params: Mapping[str, Any]) -> Hints:
    x = inputs["x"]
    s = sigmoid(x)
    return {"x": [("backprop_sigmoid_from_input", dout * x * (1 - x)),
                  ("backprop_sigmoid_formula", dout * s),
                  ("backprop_sigmoid_formula", dout * (1 - s)),
                  ("backprop_sigmoid_formula", dout * s * (1 + s))]}


def tanh_mutants(inputs: Arrays, dout: np.ndarray, params: Mapping[str, Any]) -> Hints:
    x = inputs["x"]
    t = np.tanh(x)
    return {"x": [("backprop_tanh_from_input", dout * (1 - x**2)),
                  ("backprop_tanh_square", dout * (1 - t)),
                  ("backprop_tanh_square", dout * (1 - np.abs(t)))]}


def prelu_mutants(inputs: Arrays, dout: np.ndarray, params: Mapping[str, Any]) -> Hints:
    x, alpha = inputs["x"], inputs["alpha"]
    negative = x < 0
    return {
        "x": [("backprop_prelu_slope", dout * (x > 0)),
              ("backprop_prelu_slope", dout * np.where(negative, 1.0, alpha))],
        "alpha": [("backprop_prelu_mask", (dout * x).sum(axis=0)),
                  ("backprop_prelu_dalpha_x", (dout * negative).sum(axis=0)),
                  ("backprop_prelu_dalpha_x", (dout * alpha * negative).sum(axis=0))],
    }


# ------------------------------------------------------------------ 3.7, 3.8 losses


def softmax_mutants(inputs: Arrays, dout: Any, params: Mapping[str, Any]) -> Hints:
    x = inputs["x"]
    n = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return {"x": [("backprop_softmax_onehot", p / n), ("backprop_softmax_onehot", p)]}


def mse_mutants(inputs: Arrays, dout: Any, params: Mapping[str, Any]) -> Hints:
    y_hat, y = inputs["y_hat"], inputs["y"]
    n = y_hat.shape[0]
    diff = y_hat - y
    found = [("backprop_mse_two", diff / diff.size)]
    if diff.size != n:
        found += [("backprop_mse_mean", 2 * diff / n), ("backprop_mse_mean", diff / n)]
    return {"y_hat": found}


# ------------------------------------------------------------------- 3.9 residual


def residual_mutants(inputs: Arrays, dout: np.ndarray, params: Mapping[str, Any]) -> Hints:
    x, w, b = inputs["x"], inputs["w"], inputs["b"]
    da = dout * (x @ w + b > 0)
    return {
        "x": [("backprop_skip_missing", da @ w.T), ("backprop_branch_missing", dout),
              ("backprop_relu_mask_missing", dout + dout @ w.T),
              ("backprop_affine_dx", dout + da @ w)],
        "w": [("backprop_relu_mask_missing", x.T @ dout)],
        "b": [("backprop_relu_mask_missing", dout.sum(axis=0))],
    }


# ----------------------------------------------------- 3.11, 3.12 gradient checking


def one_sided(f: Callable[[np.ndarray], float], x: np.ndarray, h: float,
              sign: float) -> np.ndarray:
    """(f(x + h e_i) − f(x)) / h (sign=1) or (f(x) − f(x − h e_i)) / h (sign=−1)."""
    grad = np.zeros_like(x)
    base = f(x)
    for index in np.ndindex(x.shape):
        shifted = x.copy()
        shifted[index] += sign * h
        grad[index] = sign * (f(shifted) - base) / h
    return grad


def numerical_gradient_mutants(f: Callable[[np.ndarray], float], x: np.ndarray, h: float,
                               exact: np.ndarray) -> list[tuple[str, np.ndarray]]:
    whole = (f(x + h) - f(x - h)) / (2 * h)
    return [("backprop_fd_forward", one_sided(f, x, h, 1.0)),
            ("backprop_fd_forward", one_sided(f, x, h, -1.0)),
            ("backprop_fd_two_h", 2 * exact),
            ("backprop_fd_all_at_once", np.full(x.shape, whole))]


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max over elements of |a − b| / max(1e-8, |a| + |b|)."""
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def relative_error_mutants(inputs: Arrays, params: Mapping[str, Any]
                           ) -> list[tuple[str, np.ndarray]]:
    a, b = inputs["a"], inputs["b"]
    ratio = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    with np.errstate(all="ignore"):
        return [
            ("backprop_relerr_max", np.mean(ratio)),
            ("backprop_relerr_abs", np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a + b)))),
            ("backprop_relerr_norm",
             np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))),
        ]
