"""What assignment 02's exercises share · 作业 02 的共用部分: torch tensors of a case's inputs,
numerical warnings and non-finite answers turned into failures, and :class:`ValueSpec`
(a function's values against a torch expression).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import (
    Case,
    CheckFailure,
    Tolerance,
    compare_array,
    is_plain,
    mutated_failure,
    require_callable,
)
from grader.checks.specs import Exercise, function_name
from grader.checks.steps import Done, Steps

ASSIGNMENT = "02_mlp"

Inputs = dict[str, np.ndarray]
Alternatives = list[tuple[str, np.ndarray]]


def tensors(inputs: Mapping[str, np.ndarray]) -> dict[str, Any]:
    torch = torchref.torch
    return {name: torch.tensor(np.asarray(v)) for name, v in inputs.items()}


def _numeric_warnings(caught: list) -> list:
    return [w for w in caught if isinstance(w.category, type)
            and issubclass(w.category, RuntimeWarning)]


def fail_on_warnings(case: Case, function: str, caught: list, hint: str | None) -> None:
    """A correct answer raises no numerical warning: fail with the first one seen."""
    __tracebackhide__ = True
    numeric = _numeric_warnings(caught)
    if not numeric:
        return
    raise case.failure("mlp_hdr_warning",
                       M.bilingual("mlp_warning", indent="  ", function=function,
                                   warning=str(numeric[0].message)),
                       *([M.bilingual(hint, indent="  ")] if hint else []), function=function)


def compare_with_hint(case: Case, name: str, expected: np.ndarray, actual: Any, *,
                      nonfinite_hint: str | None = None, **kwargs: Any) -> None:
    """``compare_array``, plus a specific hint when the answer is NaN/inf where it should not be."""
    __tracebackhide__ = True
    try:
        compare_array(case, name, expected, actual, **kwargs)
    except CheckFailure as failure:
        if nonfinite_hint and _nonfinite_where_finite(expected, actual):
            lines = failure.args[0].split("\n")
            # After the header and the "not finite" lines, before "Reproduce with".
            lines[4:4] = M.bilingual(nonfinite_hint, indent="  ").split("\n")
            raise CheckFailure("\n".join(lines), kind=failure.kind,
                               exercise=failure.exercise) from None
        raise


def _nonfinite_where_finite(expected: np.ndarray, actual: Any) -> bool:
    if not is_plain(actual):
        return False
    try:
        array = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=np.float64)
    if array.shape != expected.shape:
        return False
    return bool((~np.isfinite(array) & np.isfinite(expected)).any())


def describe(inputs: Mapping[str, Any]) -> str:
    parts = []
    for name, value in inputs.items():
        array = np.asarray(value)
        text = np.array2string(array, threshold=24, separator=", ", max_line_width=10_000,
                               formatter={"float_kind": lambda v: f"{v:.6g}"})
        parts.append(f"{name} = {text.replace(chr(10), '')}")  # one line, even for 2-D
    return "; ".join(parts)


def rows_to_distribution(logits: np.ndarray) -> np.ndarray:
    """Rows of probabilities (torch's softmax: the check's inputs, not an answer)."""
    torch = torchref.torch
    return torch.softmax(torch.tensor(logits), dim=1).numpy().copy()


# ---------------------------------------------------------------- value exercises


@dataclass
class ValueSpec(Exercise):
    """``fn(*inputs, **params)`` against a torch expression, on random and edge cases.

    ``edges`` are always checked after the random cases. With ``strict_warnings`` a
    numerical warning fails the check even when the values are right.
    """

    make_inputs: Callable[[np.random.Generator, tuple], Inputs] = None  # type: ignore[assignment]
    reference: Callable[..., Any] = None  # type: ignore[assignment]
    edges: Callable[[Mapping[str, Any]], list[Inputs]] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    mutants: Callable[[Inputs, Mapping[str, Any]], Alternatives] | None = None
    tol: Tolerance = field(default_factory=Tolerance)
    output_name: str = "out"
    strict_warnings: bool = False
    hint: str | None = None  # shown for NaN/inf and for warnings
    call_args: Callable[[Inputs], tuple] | None = None  # how inputs become arguments
    arg_names: Sequence[str] = ()  # the arguments' names when call_args regroups them
    scalar_batch: bool = False  # the output is one number: N is the first input's length

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   **params: Any) -> list[Case]:
        full = {**self.params, **params}
        data = {"params": full, "passed": params}
        found = [self.case(seed=seed, inputs=self.make_inputs(np.random.default_rng(seed),
                                                              tuple(shape)), data=dict(data))
                 for seed in seeds for shape in shapes]
        for inputs in self.edges(full) if self.edges else []:
            found.append(self.case(description=describe(inputs), inputs=inputs,
                                   data=dict(data)))
        return found

    def prepare(self, case: Case) -> None:
        torch = torchref.torch
        with torch.no_grad():
            expected = self.reference(**tensors(case.inputs), **case.data["params"])
        case.data["expected"] = expected.numpy().copy()
        case.data["alternatives"] = (list(self.mutants(case.inputs, case.data["params"]))
                                     if self.mutants else [])

    def drive(self, steps: Steps, case: Case, fn: Any) -> dict:
        __tracebackhide__ = True
        name = function_name(fn, self.id)
        require_callable(case, name, fn)
        inputs = case.inputs
        args = list(self.call_args(inputs) if self.call_args else inputs.values())
        nested = {}
        for position, value in enumerate(args):
            if isinstance(value, list):
                # A list of arrays (the MLP's params) is made in the student's process and
                # passed as itself, so that what the function does to it can be looked at.
                args[position] = steps.op("list", value, name="list", fetch=False)
                nested[position] = args[position]
        call = steps.call(fn, *args, name=name, arg_names=tuple(self.arg_names or inputs),
                          **case.data["passed"])
        after = {position: steps.op("list", ref, name="list") for position, ref in nested.items()}
        return {"name": name, "call": call, "after": after}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        name, call = plan["name"], plan["call"]
        caught: list = []
        actual = done.value(case, call, record_warnings=caught)
        for position, ref in plan["after"].items():
            self._unchanged(case, name, position, done.value(case, ref))
        expected = case.data["expected"]
        first = next(iter(case.inputs.values()))
        batch = first.shape[0] if self.scalar_batch else (
            expected.shape[0] if expected.ndim else None)
        compare_with_hint(case, self.output_name, expected, actual, tol=self.tol,
                          batch_size=batch, alternatives=case.data["alternatives"],
                          nonfinite_hint=self.hint, header_key="mlp_hdr_mismatch_torch")
        if self.strict_warnings:
            fail_on_warnings(case, name, caught, self.hint)


    def _unchanged(self, case: Case, name: str, position: int, after: Any) -> None:
        """A list argument (the MLP's params) must be as it was given, arrays included."""
        __tracebackhide__ = True
        given = (self.call_args(case.inputs) if self.call_args
                 else tuple(case.inputs.values()))[position]
        if not _same_nested(given, after):
            names = tuple(self.arg_names or case.inputs)
            raise mutated_failure(case, name, names[position] if position < len(names)
                                  else f"argument {position + 1}")


def _same_nested(given: Any, found: Any, depth: int = 0) -> bool:
    """Whether ``found`` (plain data from the student's process) equals ``given``."""
    if isinstance(given, np.ndarray):
        return (type(found) is np.ndarray and found.shape == given.shape
                and bool(np.array_equal(found, given)))
    if isinstance(given, (list, tuple)):
        return (type(found) in (list, tuple) and len(found) == len(given) and depth < 20
                and all(_same_nested(g, f, depth + 1) for g, f in zip(given, found)))
    return bool(type(found) is type(given) and found == given)
