"""Run a PyTorch reference expression and its autograd gradients · 运行 PyTorch 参考表达式.

The grader never contains hand-written backward code: every expected gradient is
what ``torch.autograd`` says for the reference expression, in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["evaluate", "forward_only"]


def _torch():
    import torch  # imported lazily: the first check pays for it, `import grader` does not

    return torch


def __getattr__(name: str):
    if name == "torch":
        return _torch()
    raise AttributeError(name)


def evaluate(
    reference: Callable[..., Any],
    inputs: Mapping[str, np.ndarray],
    wrt: Iterable[str],
    upstream: np.ndarray | None = None,
    params: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Forward value of ``reference(**inputs, **params)`` and d(out·upstream)/d(input) for ``wrt``.

    With ``upstream=None`` the output must be a scalar (a loss) and is back-propagated as is.
    """
    torch = _torch()
    wrt = list(wrt)
    tensors = {
        name: torch.tensor(np.asarray(value), dtype=torch.float64, requires_grad=name in wrt)
        if np.asarray(value).dtype.kind == "f"
        else torch.tensor(np.asarray(value))
        for name, value in inputs.items()
    }
    out = reference(**tensors, **(params or {}))
    if upstream is None:
        out.backward()
    else:
        out.backward(torch.tensor(upstream, dtype=torch.float64))
    grads = {}
    for name in wrt:
        grad = tensors[name].grad
        grads[name] = (
            np.zeros(tensors[name].shape) if grad is None else grad.detach().numpy().copy()
        )
    return out.detach().numpy().copy(), grads


def forward_only(reference: Callable[..., Any], inputs: Mapping[str, np.ndarray],
                 params: Mapping[str, Any] | None = None) -> np.ndarray:
    torch = _torch()
    tensors = {name: torch.tensor(np.asarray(v)) for name, v in inputs.items()}
    with torch.no_grad():
        return reference(**tensors, **(params or {})).numpy().copy()
