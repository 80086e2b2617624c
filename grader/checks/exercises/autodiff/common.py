"""What every check of assignment 04 shares: tracing a program into Steps, reading the
student's ``.data`` and ``.grad`` back as plain data, and the case loop."""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks.compare import Case, CheckFailure, Tolerance, compare_array, is_plain
from grader.checks.exercises.autodiff.programs import TOL
from grader.checks.specs import Exercise
from grader.checks.steps import Done, Ref, Steps

# ----------------------------------------------------------------- tracing programs


class Traced:
    """A student's object made by an earlier step, while a check writes down a program.

    Python's operators on it add steps instead of computing anything: ``a * b`` adds
    ``steps.op("mul", a, b)`` (so the student's ``__mul__`` runs, or ``__rmul__`` for
    ``2 * a``), ``a.tanh()`` adds ``steps.method(a, "tanh")``. An expression written once as
    a Python function therefore runs on torch tensors for the reference and, traced, on the
    student's engine, where all of its steps travel in one message.
    """

    __slots__ = ("_steps", "ref", "_cls")

    def __init__(self, steps: Steps, ref: Ref, cls: str):
        self._steps = steps
        self.ref = ref
        self._cls = cls

    def _op(self, operator: str, operands: tuple, method: str) -> Traced:
        ref = self._steps.op(operator, *[_unwrap(x) for x in operands],
                             name=f"{self._cls}.{method}", fetch=False)
        return Traced(self._steps, ref, self._cls)

    def __add__(self, other: Any) -> Traced:
        return self._op("add", (self, other), "__add__")

    def __radd__(self, other: Any) -> Traced:
        return self._op("add", (other, self), "__radd__")

    def __sub__(self, other: Any) -> Traced:
        return self._op("sub", (self, other), "__sub__")

    def __rsub__(self, other: Any) -> Traced:
        return self._op("sub", (other, self), "__rsub__")

    def __mul__(self, other: Any) -> Traced:
        return self._op("mul", (self, other), "__mul__")

    def __rmul__(self, other: Any) -> Traced:
        return self._op("mul", (other, self), "__rmul__")

    def __truediv__(self, other: Any) -> Traced:
        return self._op("truediv", (self, other), "__truediv__")

    def __rtruediv__(self, other: Any) -> Traced:
        return self._op("truediv", (other, self), "__rtruediv__")

    def __pow__(self, other: Any) -> Traced:
        return self._op("pow", (self, other), "__pow__")

    def __matmul__(self, other: Any) -> Traced:
        return self._op("matmul", (self, other), "__matmul__")

    def __neg__(self) -> Traced:
        return self._op("neg", (self,), "__neg__")

    def __getattr__(self, method: str) -> Callable[..., Traced]:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Traced:
            ref = self._steps.method(self.ref, method, *[_unwrap(a) for a in args],
                                     name=f"{self._cls}.{method}", fetch=False,
                                     **{k: _unwrap(v) for k, v in kwargs.items()})
            return Traced(self._steps, ref, self._cls)

        return call


def _unwrap(value: Any) -> Any:
    return value.ref if isinstance(value, Traced) else value


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while one check call runs.

    A check makes thousands of small objects (steps, outcomes, torch references, and the
    student's nodes, whose ``_backward`` closures form cycles) in a process that also
    holds PyTorch's large heap; every full collection walks that heap, which cost about
    half of a check's time. What the check left is collected once it is over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class EngineExercise(Exercise):
    """An exercise of this assignment: the shared case loop, with the collector paused.

    ``answer_text``: the formula text of the answer, which the notebook must not print
    before the exercise (tests/test_pedagogy.py); the folded hints after it may."""

    def run(self, *student: Any, **literal: Any) -> None:
        __tracebackhide__ = True
        with paused_gc():
            super().run(*student, **literal)


# ------------------------------------------------------------------- reading results


_FRAME = re.compile(r'File "[^"]*", line \d+, in (\w+)')


def step_value(case: Case, done: Done, ref: Ref) -> Any:
    """``done.value``; when the student's code says "not done yet" from inside another of
    their functions (``Tensor.backward`` running ``unbroadcast``), that function is named."""
    __tracebackhide__ = True
    try:
        return done.value(case, ref)
    except CheckFailure as failure:
        if failure.kind != "not_done":
            raise
        failing = next((i for i, o in enumerate(done.outcomes) if o.status == "error"), None)
        if failing is None:
            raise
        step = done.steps.items[failing]
        frames = _FRAME.findall(str((done.outcomes[failing].error or {}).get("frames", "")))
        inner = frames[-1] if frames else ""
        if not inner or inner.startswith("<") or step.name.split(".")[-1] == inner:
            raise
        raise CheckFailure(M.bilingual("autodiff_not_done_inside", exercise=case.title,
                                       function=inner, caller=step.name),
                           kind="not_done", exercise=case.exercise) from None


def as_number(value: Any) -> float | None:
    """A plain number (or a one-element numeric array) as a float; None for anything else.

    Only plain data is read: an object of the student's own type is not asked to convert
    itself (in the grade of record it lives in the sandbox)."""
    if isinstance(value, bool) or not is_plain(value):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        return float(value.reshape(()))
    return None


def _found(value: Any, attr: str) -> M.Text | str:
    if value is None:
        return "None"
    if is_plain(value):
        text = repr(value)
        return text if len(text) <= 60 else text[:59] + "…"
    return M.text("autodiff_found_other", attr=attr)


_NO_ATTRIBUTE = re.compile(r"^'(\w+)' object has no attribute")


def _missing_attribute(case: Case, done: Done, ref: Ref) -> tuple[M.Text | str, bool] | None:
    """If reading ``.data``/``.grad`` (step ``ref``) failed because the object has no such
    attribute: (what the object was, whether it was None). Otherwise None."""
    outcome, step = done[ref], done.steps.items[ref.index]
    error = outcome.error or {}
    if outcome.status != "error" or step.kind != "attr" or error.get("type") != "AttributeError":
        return None
    kind = _NO_ATTRIBUTE.match(str(error.get("msg", "")))
    if kind and kind.group(1) == "NoneType":
        return "None", True
    return M.text("autodiff_found_object", attr=step.args[0]), False


def _not_a_node(case: Case, function: str, cls: str, attr: str, found: Any,
                returned_none: bool, what: str = "autodiff_what_number") -> CheckFailure:
    lines = [case.header("autodiff_hdr_not_value", function=function),
             M.bilingual("autodiff_not_value", indent="  ", function=function, cls=cls,
                         attr=attr, found=found, what=M.text(what))]
    if returned_none:
        lines.append(M.bilingual("autodiff_hint_return", indent="  "))
    return CheckFailure("\n".join(lines + case.reproduce_lines()), kind="type",
                        exercise=case.exercise)


def read_number(case: Case, done: Done, ref: Ref, function: str, cls: str) -> float:
    """The number a ``.data`` step read, or the failure that explains why there is none."""
    __tracebackhide__ = True
    missing = _missing_attribute(case, done, ref)
    if missing is not None:
        raise _not_a_node(case, function, cls, "data", missing[0], missing[1])
    value = step_value(case, done, ref)
    number = as_number(value)
    if number is None:
        raise _not_a_node(case, function, cls, "data", _found(value, "data"), False)
    return number


def read_grad(case: Case, done: Done, ref: Ref, node: str) -> float:
    """The number a ``.grad`` step read after backward()."""
    __tracebackhide__ = True
    missing = _missing_attribute(case, done, ref)
    value = None if missing is not None else step_value(case, done, ref)
    number = None if missing is not None else as_number(value)
    if number is None:
        found = missing[0] if missing is not None else _found(value, "grad")
        raise CheckFailure(
            "\n".join([case.header("autodiff_hdr_grad", node=node),
                       M.bilingual("autodiff_bad_grad", indent="  ", node=node, found=found)]),
            kind="type", exercise=case.exercise)
    return number


def read_array(case: Case, done: Done, ref: Ref, function: str, cls: str) -> Any:
    """What a ``.data``/``.grad`` step of the tensor engine read (compare_array judges it)."""
    __tracebackhide__ = True
    missing = _missing_attribute(case, done, ref)
    if missing is not None:
        raise _not_a_node(case, function, cls, done.steps.items[ref.index].args[0], missing[0],
                          missing[1], what="autodiff_what_array")
    return step_value(case, done, ref)




def backward(case: Case, done: Done, ref: Ref) -> None:
    """The ``backward()`` step's outcome; a TypeError on None (``grad += ...`` before a
    gradient exists) gets the hint about lazy gradients."""
    __tracebackhide__ = True
    try:
        step_value(case, done, ref)
    except CheckFailure as failure:
        error = done[ref].error or {}
        if failure.kind == "exception" and error.get("type") == "TypeError" and \
                "NoneType" in str(error.get("msg", "")):
            raise CheckFailure(failure.args[0] + "\n"
                               + M.bilingual("autodiff_hint_grad_none", indent="  "),
                               kind=failure.kind, exercise=failure.exercise) from None
        raise


def _describe_grad(value: Any) -> M.Text | str:
    if isinstance(value, np.ndarray):
        return M.text("autodiff_found_array", shape=tuple(value.shape))
    return _found(value, "grad")


def expect_no_grad(case: Case, done: Done, ref: Ref, name: str, cls: str, key: str) -> None:
    """A ``.grad`` step must have read None: before backward() (gradients are made when they
    arrive) or for a leaf made without requires_grad (no gradient is computed for it)."""
    __tracebackhide__ = True
    missing = _missing_attribute(case, done, ref)
    if missing is not None:
        raise _not_a_node(case, cls, cls, "grad", missing[0], missing[1],
                          what="autodiff_what_array")
    value = step_value(case, done, ref)
    if value is None:
        return
    raise case.failure("autodiff_hdr_grad_none",
                       M.bilingual(key, indent="  ", name=name, found=_describe_grad(value)),
                       name=name)


def fmt(x: float) -> str:
    return f"{x:.6g}"


def class_name(cls: Any, default: str) -> str:
    name = getattr(cls, "__name__", None)
    return name if isinstance(name, str) and name.isidentifier() else default


def compare(case: Case, name: str, expected: Any, actual: Any, *, tol: Tolerance = TOL,
            **kwargs: Any) -> None:
    """``compare_array``, except that a wrong finite scalar gets a plain two-number message
    (for one number, "every element is k times the expected value" says nothing)."""
    __tracebackhide__ = True
    expected = np.asarray(expected, dtype=np.float64)
    value = as_number(actual) if is_plain(actual) else None
    if expected.ndim or value is None or np.ndim(actual) != 0 or not np.isfinite(value):
        compare_array(case, name, expected, actual, tol=tol, **kwargs)
        return
    if tol.close(np.float64(value), expected):
        compare_array(case, name, expected, actual, tol=tol, **kwargs)  # the gradient rule
        return
    lines = [
        case.header(kwargs.get("header_key", "hdr_mismatch"), name=name),
        M.bilingual("autodiff_scalar", indent="  ", name=name, expected=fmt(float(expected)),
                    found=fmt(value)),
    ]
    for key, alternative in kwargs.get("alternatives", ()):
        if Tolerance(tol.rtol * 10, tol.atol * 10).close(np.float64(value),
                                                         np.float64(alternative)):
            lines.append(M.bilingual(key, indent="  "))
            break
    lines += case.reproduce_lines()
    lines.append(M.bilingual("tolerance", indent="  ", rtol=tol.rtol, atol=tol.atol))
    raise CheckFailure("\n".join(lines), exercise=case.exercise)


def leaf_steps(steps: Steps, Tensor: Any, cls: str, arrays: dict[str, np.ndarray],
               requires: Sequence[str] | None = None) -> dict[str, Ref]:
    """``Tensor(array, requires_grad=True)`` for each array named in ``requires`` (all by
    default), plain ``Tensor(array)`` for the others (data, which needs no gradient)."""
    wanted = set(arrays) if requires is None else set(requires)
    return {name: steps.call(Tensor, value, name=cls, arg_names=(name,), fetch=False,
                             **({"requires_grad": True} if name in wanted else {}))
            for name, value in arrays.items()}


def dict_step(steps: Steps, items: dict[str, Ref], name: str) -> Ref:
    """A dict of the student's objects, made in the student's process: ``{}.copy()``, then
    one ``__setitem__`` per key (steps pass what earlier steps made only as arguments)."""
    made = steps.method({}, "copy", name=name, fetch=False)
    for key, ref in items.items():
        steps.method(made, "__setitem__", key, ref, name=name, fetch=False)
    return made


