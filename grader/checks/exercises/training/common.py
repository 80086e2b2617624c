"""What assignment 05's exercises share: failures, unpacking, the digits · 作业 05 的共用部分."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import Case, CheckFailure
from grader.checks.steps import Ref, Steps

ASSIGNMENT = "05_training"


def ref():
    """The references (answers): imported only while preparing a case."""
    from grader.checks.references import training

    return training


def torch():
    """torch, imported on first use (importing grader stays cheap)."""
    return torchref.torch


def fail(case: Case, header: str, lines: Sequence[str], *, hint: str | None = None,
         kind: str = "wrong", name: str = "", **values: Any) -> CheckFailure:
    """A CheckFailure made of a header, body lines, an optional hint and the reproduction."""
    body = [case.header(header, name=name), *lines]
    if hint:
        body.append(M.bilingual(hint, indent="  ", **values))
    body += case.reproduce_lines()
    return CheckFailure("\n".join(body), kind=kind, exercise=case.exercise)


def at(case: Case, description: str) -> Case:
    """``case`` described more precisely (one step, one epoch) for its messages."""
    return dataclasses.replace(case, description=description)


def pair(case: Case, function: str, result: Any, expected: str) -> tuple[Any, Any]:
    """Split a ``(first, second)`` return value, or fail saying what was expected."""
    __tracebackhide__ = True
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return result[0], result[1]
    found = f"{type(result).__name__}" + (
        f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
    raise fail(case, "hdr_wrong", [M.bilingual("training_returns", indent="  ", function=function,
                                               expected=expected, found=found)],
               kind="type", name=function)


def require_dict(case: Case, function: str, name: str, value: Any) -> dict:
    __tracebackhide__ = True
    if not isinstance(value, dict):
        raise fail(case, "hdr_wrong_type", [M.bilingual(
            "training_not_dict", indent="  ", name=name, function=function,
            found=type(value).__name__)], kind="type", name=name)
    return value


def require_key(case: Case, name: str, mapping: dict, key: str, message: str = "training_missing_key",
                **values: Any) -> Any:
    """``mapping[key]``, or a failure that lists the keys found."""
    __tracebackhide__ = True
    if key not in mapping:
        raise fail(case, "hdr_wrong", [M.bilingual(message, indent="  ", name=name, entry=key,
                                                   found=sorted(map(str, mapping)), **values)],
                   kind="type", name=name)
    return mapping[key]


def float_array(case: Case, name: str, value: Any, shape: tuple) -> np.ndarray:
    """``value`` as a float64 array of ``shape``, or a failure saying what came back."""
    __tracebackhide__ = True
    try:
        array = np.asarray(value)
    except Exception:  # ragged lists and the like
        array = np.asarray(None, dtype=object)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == bool):
        found = type(value).__name__ if array.dtype == object else str(array.dtype)
        raise fail(case, "hdr_wrong_type", [M.bilingual(
            "wrong_type", indent="  ", name=name, expected=f"a float array of shape {shape}",
            found=found)], kind="type", name=name)
    if array.shape != tuple(shape):
        hint = "hint_transposed" if array.shape == tuple(shape)[::-1] and len(shape) == 2 else None
        raise fail(case, "hdr_wrong_shape", [M.bilingual(
            "wrong_shape", indent="  ", name=name, found=array.shape, expected=tuple(shape))],
            hint=hint, name=name)
    return array.astype(np.float64)


def as_number(case: Case, name: str, value: Any) -> float:
    """A Python float from a number (a float, a NumPy scalar, a 0-d array), or a failure."""
    __tracebackhide__ = True
    try:
        array = np.asarray(value)
        ok = array.shape == () and np.issubdtype(array.dtype, np.number) and not isinstance(
            value, bool)
    except Exception:
        ok = False
    if not ok:
        raise fail(case, "hdr_wrong_type", [M.bilingual(
            "wrong_type", indent="  ", name=name, expected="a float",
            found=type(value).__name__)], kind="type", name=name)
    return float(array)


def same_object(steps: Steps, value: Any, name: str) -> Ref:
    """``value`` as one object in the student's process, for several steps to share (a
    generator's state, arrays the check later changes in place): what the check supplies
    is otherwise copied for each call."""
    return steps.item([value], 0, name=name)


def fmt(x: float) -> str:
    return f"{x:.4g}"


def pct(x: float) -> str:
    return f"{100 * x:.2f}%"


# ------------------------------------------------------------------------------ the digits


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits (the trusted side and the kernel, never the sandbox), read from
    the file ``load_digits`` reads, without importing scikit-learn: that import took 1-2 s,
    paid by the first 05 notebook of every grading process (``load_digits`` where the file
    is not found)."""
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz" \
        if spec is not None and spec.origin else None
    if path is not None and path.is_file():
        with gzip.open(path, mode="rt", encoding="utf-8") as text:
            table = np.loadtxt(text, delimiter=",")
        data, target = table[:, :-1], table[:, -1].astype(int)
    else:
        from sklearn.datasets import load_digits

        digits = load_digits()
        data, target = digits.data, digits.target
    return data / 16.0, target.astype(np.int64)


def digits_split(seed: int) -> dict[str, np.ndarray]:
    """Digits scaled to [0, 1], shuffled by ``seed`` and split 60 / 20 / 20."""
    X, y = _digits()
    order = np.random.default_rng(seed).permutation(len(y))
    n_train, n_val = int(0.6 * len(y)), int(0.2 * len(y))
    parts = np.split(order, [n_train, n_train + n_val])
    out = {}
    for label, index in zip(("train", "val", "test"), parts, strict=True):
        out[f"X_{label}"], out[f"y_{label}"] = X[index], y[index]
    return out


def mlp_eval(params: dict, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of the affine-ReLU-affine MLP at ``params``, eval mode,
    computed by torch (the check's own forward pass)."""
    t = torch()
    with t.no_grad():
        p = {k: t.as_tensor(np.asarray(v, dtype=np.float64)) for k, v in params.items()}
        scores = t.relu(t.as_tensor(X) @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
        loss = t.nn.functional.cross_entropy(scores, t.as_tensor(y)).item()
        accuracy = (scores.argmax(dim=1).numpy() == y).mean()
    return float(loss), float(accuracy)
