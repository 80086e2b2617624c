"""Reference values computed when the release was made · 发布时计算好的参考值.

Some exercises are checked against a NumPy implementation of the exercise itself
(:mod:`grader.checks.references`): the perceptron, XOR. The student release must not
carry those answers as code, so ``python -m grader release`` runs every *visible* check
call of the course once, keeps what each case's ``prepare`` computed (expected values,
the known mistakes' values) in ``recorded/<exercise>.json`` next to this module, and
leaves the references out. In the release, such an exercise takes its case data from
there (:func:`lookup`); everything else about the check is the same code.

The data is plain: numbers, strings, lists, tuples, dicts and NumPy arrays, written as
JSON (arrays as dtype, shape and values), so nothing here executes when it is read.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np

from grader.checks import messages as M

__all__ = ["FOLDER", "references_available", "call_key", "lookup", "write", "encode",
           "decode", "NotRecorded"]

FOLDER = Path(__file__).with_name("recorded")

M.register(
    {
        "recorded_missing": (
            "In the student release this check runs the cases of the notebook's own check "
            "cell only (the answers it compares with were computed when the course was "
            "released). Run the check cell as it is written: {call}.",
            "在学生版中，这个检查只能运行 notebook 检查单元格里原有的用例（用来比较的答案是在发布课程时"
            "算好的）。请按原样运行检查单元格：{call}。",
        ),
    }
)


class NotRecorded(LookupError):
    """A case the release did not record (a check called with other literal data)."""


def references_available() -> bool:
    """Whether the NumPy references are installed (the repository; not the release)."""
    try:
        return importlib.util.find_spec("grader.checks.references") is not None
    except (ImportError, ValueError):
        return False


def call_key(literal: dict[str, Any]) -> str:
    """The literal data of a check call, written the same way every time."""
    return json.dumps(encode(dict(sorted(literal.items()))), sort_keys=True)


def encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__array__": [value.dtype.str, list(value.shape), value.ravel().tolist()]}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[encode(k), encode(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot record a {type(value).__name__}")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "__array__" in value:
            dtype, shape, items = value["__array__"]
            return np.asarray(items, dtype=np.dtype(dtype)).reshape(shape)
        if "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        if "__dict__" in value:
            return {decode(k): decode(v) for k, v in value["__dict__"]}
    return value


_CACHE: dict[str, dict] = {}


def lookup(exercise: str, literal: dict[str, Any], index: int) -> dict:
    """The recorded data of case ``index`` of the call with this literal data."""
    if exercise not in _CACHE:
        path = FOLDER / f"{exercise}.json"
        _CACHE[exercise] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    cases = _CACHE[exercise].get(call_key(literal))
    if cases is None or index >= len(cases):
        shown = ", ".join(f"{k}={v!r}" for k, v in literal.items())
        raise NotRecorded(M.bilingual("recorded_missing", call=f"check({exercise!r}, ..., {shown})"))
    return decode(cases[index])


def write(folder: Path, exercise: str, calls: dict[str, list[dict]]) -> Path:
    """Write ``{call key: [case data, ...]}`` for one exercise (the release builder)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{exercise}.json"
    data = {key: [encode(case) for case in cases] for key, cases in calls.items()}
    path.write_text(json.dumps(data, sort_keys=True, indent=0), encoding="utf-8")
    return path
