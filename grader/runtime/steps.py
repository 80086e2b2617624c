"""Running a check's steps on the student's code · 在学生代码上执行检查的步骤.

One implementation, used in two places: in the student's kernel (through
:class:`grader.checks.steps.LocalExecutor`) and in the grading sandbox (through the
worker's ``steps`` request). Both therefore call, copy, compare and stop in exactly the
same way; see :mod:`grader.checks.steps` for what a step is.

A step is a dict: ``kind`` (call, method, attr, item, op), ``target`` (an object or a
:class:`Ref`), ``args``, ``kwargs``, ``fetch`` (return the value), ``unchanged`` (earlier
steps whose array arguments must still be as given). Its outcome is a dict: ``status``
(ok, error, skipped), ``value`` (when fetched, as it was when the step ended), ``error``,
``mutated``, ``mutated_earlier``, ``warnings`` (each left out when empty).
"""

from __future__ import annotations

import contextlib
import operator
import os
import sys
import traceback
import warnings
from typing import Any

import numpy as np

__all__ = ["Ref", "OPERATORS", "execute", "error_info"]

_HERE = os.path.dirname(os.path.abspath(__file__))


class Ref:
    """What step ``index`` produced."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index

    def __eq__(self, other: object) -> bool:
        return type(other) is Ref and other.index == self.index

    def __hash__(self) -> int:
        return hash(("Ref", self.index))

    def __repr__(self) -> str:
        return f"Ref({self.index})"


#: Operators a step may apply to the student's objects.
OPERATORS: dict[str, Any] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "pow": operator.pow, "matmul": operator.matmul, "neg": operator.neg, "pos": operator.pos,
    "abs": operator.abs, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
    "ge": operator.ge, "eq": operator.eq, "ne": operator.ne, "len": len, "float": float,
    "int": int, "bool": bool, "list": list, "tuple": tuple,
    "type_name": lambda value: type(value).__name__,
}


def error_info(exc: BaseException) -> dict:
    """An exception as plain data, with the student's frames only."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not os.path.abspath(f.filename).startswith(_HERE)]
    lines = traceback.format_list(frames[-6:])
    try:
        lines += traceback.format_exception_only(type(exc), exc)
        message = str(exc)
    except BaseException:  # noqa: BLE001 - a student's broken __str__
        lines.append(type(exc).__name__ + "\n")
        message = ""
    bases = [k.__name__ for k in type(exc).__mro__ if isinstance(k.__name__, str)][:12]
    return {"type": type(exc).__name__[:100], "bases": bases, "msg": message[:4000],
            "frames": "".join(lines)[-8000:], "not_done": isinstance(exc, NotImplementedError)}


def _copy(value: Any) -> Any:
    """An argument's values as they are before the call (a plain array, like :func:`_same`
    looks at: a student's array subclass runs none of its own code here)."""
    return np.ndarray.view(value, np.ndarray).copy() if isinstance(value, np.ndarray) else value


def snapshot(value: Any, depth: int = 0) -> Any:
    """A value as it is now: arrays (also inside tuples, lists and dicts) copied."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if depth < 20 and type(value) in (tuple, list):
        return type(value)(snapshot(v, depth + 1) for v in value)
    if depth < 20 and type(value) is dict:
        return {k: snapshot(v, depth + 1) for k, v in value.items()}
    return value


_BYTES_COMPARED = 2**20


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether argument ``a`` still holds what its copy ``b`` holds. No code of an array
    subclass runs (a student's own arrays may come back as arguments): both are looked at
    as plain arrays."""
    a, b = np.ndarray.view(a, np.ndarray), np.ndarray.view(b, np.ndarray)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    # An array of objects is unchanged when it holds the same objects: its copy is shallow,
    # and its bytes are the references (no object's __eq__ runs).
    if a.dtype.hasobject:
        return a.tobytes() == b.tobytes()
    # Equal bytes are equal values (the common case, and far cheaper than array_equal,
    # which a check's thousands of small steps each pay); unequal bytes may still be equal
    # values (0.0 and -0.0, two NaNs), which array_equal decides. Only small arrays are
    # copied to bytes: a large one would cost the sandbox its memory.
    if a.nbytes <= _BYTES_COMPARED and a.tobytes() == b.tobytes():
        return True
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _changed(given: list, originals: list) -> list[int]:
    return [i for i, (a, o) in enumerate(zip(given, originals))
            if isinstance(a, np.ndarray) and isinstance(o, np.ndarray) and not _same(a, o)]


def _apply(kind: str, target: Any, args: list, kwargs: dict) -> Any:
    if kind == "call":
        return target(*args, **kwargs)
    if kind == "method":
        return getattr(target, args[0])(*args[1:], **kwargs)
    if kind == "attr":
        return getattr(target, args[0])
    if kind == "item":
        return target[args[0]]
    if kind == "op":
        return OPERATORS[target](*args)
    raise ValueError(f"unknown step {kind!r}")


def _warning(w: warnings.WarningMessage) -> list:
    category = w.category.__name__ if isinstance(w.category, type) else "UserWarning"
    return [category[:100], str(w.message)[:1000], str(w.filename)[:200], int(w.lineno or 0)]


def execute(items: list[dict], catch: type[BaseException] = Exception
            ) -> tuple[list[dict], list[Any]]:
    """Run the steps in order, up to the first that raises; (outcomes, the objects made).

    ``catch`` is what counts as the student's error: in the sandbox everything
    (``SystemExit`` included); in a kernel, an interrupt still interrupts.
    """
    values: list[Any] = []
    given: list[list] = []
    originals: list[list] = []
    outcomes: list[dict] = []
    failed = False
    for item in items:
        outcome: dict[str, Any] = {"status": "skipped"}
        outcomes.append(outcome)
        values.append(None)
        given.append([])
        originals.append([])
        if failed:
            continue

        def given_value(value: Any) -> Any:
            # What an earlier step made is passed as itself (a cache, a node); what the
            # check supplied is copied, so that each call gets it as the check wrote it.
            return values[value.index] if type(value) is Ref else snapshot(value)

        args = [given_value(a) for a in item.get("args", ())]
        kwargs = {k: given_value(v) for k, v in item.get("kwargs", {}).items()}
        given[-1], originals[-1] = args, [_copy(a) for a in args]
        target = item["target"]
        target = values[target.index] if type(target) is Ref else target
        with warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stderr(sys.stdout):
            warnings.simplefilter("always")
            try:
                value = _apply(item["kind"], target, args, kwargs)
            except catch as exc:  # the student's, reported as data
                outcome.update(status="error", error=error_info(exc))
                failed = True
                continue
        values[-1] = value
        outcome["status"] = "ok"
        # an empty list is left out (read as empty): most steps change nothing and warn
        # nothing, and a check makes thousands of them (05's update rules)
        mutated = _changed(args, originals[-1])
        earlier = [[j, i] for j in item.get("unchanged", ()) if 0 <= j < len(given)
                   for i in _changed(given[j], originals[j])]
        for key, found in (("mutated", mutated), ("mutated_earlier", earlier),
                           ("warnings", [_warning(w) for w in caught[:50]])):
            if found:
                outcome[key] = found
        if item.get("fetch", True):
            size = _array_bytes(value)
            if size > MAX_RESULT_BYTES:  # what no check needs: refused before it is copied
                outcome.update(status="error", error=_too_large(size))
                failed = True
                continue
            outcome["value"] = snapshot(value)
    return outcomes, values


#: The largest result a step may return (its arrays together); a check's data is far smaller.
MAX_RESULT_BYTES = 64 * 2**20


def _array_bytes(value: Any, depth: int = 0) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if depth < 20 and type(value) in (tuple, list):
        return sum(_array_bytes(v, depth + 1) for v in value)
    if depth < 20 and type(value) is dict:
        return sum(_array_bytes(v, depth + 1) for v in value.values())
    return 0


def _too_large(size: int) -> dict:
    message = (f"the result holds {size / 2**20:.0f} MiB of arrays; no check needs more than "
               f"{MAX_RESULT_BYTES // 2**20} MiB · 结果中的数组共 {size / 2**20:.0f} MiB，"
               f"任何检查都用不到超过 {MAX_RESULT_BYTES // 2**20} MiB")
    return {"type": "ValueError", "bases": ["ValueError", "Exception", "BaseException",
                                            "object"],
            "msg": message, "frames": f"ValueError: {message}\n", "not_done": False}
