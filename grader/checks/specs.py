"""Kinds of graded exercise and how each is checked · 练习的类型及其检查方式.

A spec knows how to make inputs from a seed and a shape, what the right answer
is (a PyTorch expression run through autograd, or a trusted NumPy reference for
non-differentiable exercises), and which known wrong answers to recognise.
Its ``run`` method takes the student's functions plus literal data and raises a
:class:`~grader.checks.compare.CheckFailure` on the first problem, or prints a pass line.
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
    as_tuple,
    call_student,
    check_inputs_unchanged,
    compare_array,
    report_pass,
)

__all__ = [
    "Exercise",
    "LayerSpec",
    "LossSpec",
    "FunctionSpec",
    "away_from",
    "function_name",
]

Inputs = dict[str, np.ndarray]
# mutants(inputs, dout, params) -> {gradient name: [(hint key, what that mistake returns)]}
Mutants = Callable[[Inputs, np.ndarray, Mapping[str, Any]], dict[str, list[tuple[str, np.ndarray]]]]


def away_from(
    rng: np.random.Generator,
    shape: Sequence[int],
    kinks: Sequence[float] = (0.0,),
    margin: float = 0.05,
    scale: float = 1.0,
) -> np.ndarray:
    """Standard normal samples (times ``scale``) pushed at least ``margin`` away from each kink.

    Checks of max, ReLU and friends use these so that a derivative is never asked
    at the point where it is not defined, unless the test is about that point.
    """
    x = rng.standard_normal(tuple(shape)) * scale
    for kink in kinks:
        near = np.abs(x - kink) < margin
        x = np.where(near, kink + np.where(x >= kink, margin, -margin) * 2, x)
    return x


def function_name(function: Any, default: str) -> str:
    name = getattr(function, "__name__", None)
    return name if isinstance(name, str) and name.isidentifier() else default


def _unpack(case: Case, function: str, result: Any, names: Sequence[str]) -> tuple:
    """Split a student's return value into ``len(names)`` parts, or fail with a clear message."""
    __tracebackhide__ = True
    parts = result if isinstance(result, (tuple, list)) else (result,)
    if len(parts) != len(names):
        raise CheckFailure(
            "\n".join(
                [
                    case.header("hdr_wrong", name=function),
                    M.bilingual(
                        "wrong_arity",
                        indent="  ",
                        function=function,
                        expected=len(names),
                        names=", ".join(names),
                        found=len(parts) if isinstance(result, (tuple, list)) else 1,
                    ),
                ]
            ),
            kind="type",
            exercise=case.exercise,
        )
    return tuple(parts)


@dataclass
class Exercise:
    """What every exercise has: an id, a bilingual title, and an assignment."""

    id: str
    title_en: str
    title_zh: str
    assignment: str = ""

    @property
    def title(self) -> M.Text:
        return M.Text(self.title_en, self.title_zh)

    def case(self, **kwargs: Any) -> Case:
        return Case(exercise=self.id, title=self.title, **kwargs)

    def run(self, *args: Any, **kwargs: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class LayerSpec(Exercise):
    """``forward(*inputs, **params) -> (out, cache)`` and ``backward(dout, cache) -> grads``.

    ``grads`` names the inputs whose gradients backward returns, in order. The upstream
    gradient ``dout`` is random, so a backward that ignores it cannot pass.
    """

    make_inputs: Callable[[np.random.Generator, tuple], Inputs] = None  # type: ignore[assignment]
    reference: Callable[..., Any] = None  # type: ignore[assignment]
    grads: Sequence[str] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    tol: Tolerance = field(default_factory=Tolerance)
    mutants: Mutants | None = None
    reference_text: str = ""

    def run(self, forward, backward, *, seeds: Sequence[int], shapes: Sequence[tuple],
            **params: Any) -> None:
        __tracebackhide__ = True
        params = {**self.params, **params}
        fwd_name = function_name(forward, f"{self.id}_forward")
        bwd_name = function_name(backward, f"{self.id}_backward")
        count = 0
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
                inputs = self.make_inputs(rng, tuple(shape))
                case = self.case(seed=seed, inputs=inputs)
                out_shape = torchref.forward_only(self.reference, inputs, params).shape
                dout = rng.standard_normal(out_shape)
                out_ref, grads_ref = torchref.evaluate(
                    self.reference, inputs, self.grads, dout, params
                )
                given = {k: v.copy() for k, v in inputs.items()}
                result = call_student(case, fwd_name, forward, *given.values(),
                                      arg_names=list(given), **params)
                out, cache = _unpack(case, fwd_name, result, ("out", "cache"))
                batch = out_ref.shape[0] if out_ref.ndim else None
                compare_array(case, "out", out_ref, out, tol=self.tol, batch_size=batch,
                              header_key="hdr_mismatch_autograd")
                returned = self.call_backward(case, bwd_name, backward, dout, cache)
                check_inputs_unchanged(case, bwd_name, given, inputs)
                returned = _unpack(case, bwd_name, as_tuple(returned),
                                   [f"d{name}" for name in self.grads])
                alternatives = self._alternatives(inputs, dout, params)
                for name, grad in zip(self.grads, returned, strict=True):
                    compare_array(
                        case,
                        f"d{name}",
                        grads_ref[name],
                        grad,
                        tol=self.tol,
                        batch_size=batch,
                        alternatives=alternatives.get(name, []),
                        header_key="hdr_mismatch_autograd",
                    )
                count += 1
        report_pass(self.title, count)

    def call_backward(self, case: Case, name: str, backward, dout: np.ndarray, cache: Any) -> Any:
        """Call the student's backward on a copy of ``dout``; subclasses add checks on the cache."""
        __tracebackhide__ = True
        return call_student(case, name, backward, dout.copy(), cache, arg_names=("dout", "cache"))

    def _alternatives(self, inputs, dout, params) -> dict[str, list[tuple[str, np.ndarray]]]:
        found: dict[str, list[tuple[str, np.ndarray]]] = {name: [] for name in self.grads}
        if self.mutants is not None:
            for name, options in self.mutants(inputs, dout, params).items():
                found.setdefault(name, []).extend(options)
        # A backward that forgets the upstream gradient returns d(sum(out))/d(input).
        _, ones_grads = torchref.evaluate(self.reference, inputs, self.grads,
                                          np.ones_like(dout), params)
        for name in self.grads:
            found[name].append(("hint_ignores_upstream", ones_grads[name]))
        return found


@dataclass
class LossSpec(Exercise):
    """``loss_fn(*inputs) -> (loss, dx)``: a scalar loss and its gradient w.r.t. ``grads``."""

    make_inputs: Callable[[np.random.Generator, tuple], Inputs] = None  # type: ignore[assignment]
    reference: Callable[..., Any] = None  # type: ignore[assignment]
    grads: Sequence[str] = ("x",)
    tol: Tolerance = field(default_factory=Tolerance)
    mutants: Mutants | None = None

    def run(self, loss_fn, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> None:
        __tracebackhide__ = True
        name = function_name(loss_fn, self.id)
        count = 0
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
                inputs = self.make_inputs(rng, tuple(shape))
                case = self.case(seed=seed, inputs=inputs)
                loss_ref, grads_ref = torchref.evaluate(self.reference, inputs, self.grads)
                given = {k: v.copy() for k, v in inputs.items()}
                result = call_student(case, name, loss_fn, *given.values())
                parts = _unpack(case, name, result,
                                ["loss", *[f"d{g}" for g in self.grads]])
                batch = next(iter(inputs.values())).shape[0]
                compare_array(case, "loss", loss_ref, parts[0], tol=self.tol,
                              batch_size=batch, header_key="hdr_mismatch_autograd")
                alternatives = self.mutants(inputs, np.ones(()), {}) if self.mutants else {}
                for grad_name, grad in zip(self.grads, parts[1:], strict=True):
                    compare_array(case, f"d{grad_name}", grads_ref[grad_name], grad,
                                  tol=self.tol, batch_size=batch,
                                  alternatives=alternatives.get(grad_name, []),
                                  header_key="hdr_mismatch_autograd")
                count += 1
        report_pass(self.title, count)


@dataclass
class FunctionSpec(Exercise):
    """``fn(*inputs, **params) -> array`` compared with a reference (torch or trusted NumPy)."""

    make_inputs: Callable[[np.random.Generator, tuple], Inputs] = None  # type: ignore[assignment]
    reference: Callable[..., Any] = None  # type: ignore[assignment]
    params: Mapping[str, Any] = field(default_factory=dict)
    tol: Tolerance = field(default_factory=Tolerance)
    numpy_reference: bool = False  # True: reference takes and returns NumPy arrays
    exact: bool = False  # compare exactly (labels, counts)
    output_name: str = "out"
    mutants: Callable[[Inputs, Mapping[str, Any]], list[tuple[str, np.ndarray]]] | None = None

    def expected(self, inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
        if self.numpy_reference:
            return np.asarray(self.reference(**{k: v.copy() for k, v in inputs.items()}, **params))
        return torchref.forward_only(self.reference, inputs, params)

    def run(self, fn, *, seeds: Sequence[int], shapes: Sequence[tuple], **params: Any) -> None:
        __tracebackhide__ = True
        from grader.checks.compare import compare_value

        params = {**self.params, **params}
        name = function_name(fn, self.id)
        count = 0
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
                inputs = self.make_inputs(rng, tuple(shape))
                case = self.case(seed=seed, inputs=inputs)
                expected = self.expected(inputs, params)
                given = {k: v.copy() for k, v in inputs.items()}
                actual = call_student(case, name, fn, *given.values(), **params)
                if self.exact:
                    compare_value(case, self.output_name, expected, actual)
                else:
                    alternatives = self.mutants(inputs, params) if self.mutants else []
                    batch = expected.shape[0] if expected.ndim else None
                    compare_array(case, self.output_name, expected, actual, tol=self.tol,
                                  batch_size=batch, alternatives=alternatives)
                count += 1
        report_pass(self.title, count)
