"""Kinds of graded exercise and how each is checked · 练习的类型及其检查方式.

A spec knows how to make inputs from a seed and a shape, what the right answer
is (a PyTorch expression run through autograd, or a trusted NumPy reference for
non-differentiable exercises), and which known wrong answers to recognise.
Its ``run`` method takes the student's functions plus literal data and raises a
:class:`~grader.checks.compare.CheckFailure` on the first problem, or prints a pass line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from grader.checks import messages as M
from grader.checks import recorded, torchref
from grader.checks.compare import (
    Case,
    CheckFailure,
    Tolerance,
    as_tuple,
    compare_array,
    compare_value,
    report_pass,
    require_callable,
)
from grader.checks.steps import Done, Ref, Steps

__all__ = [
    "Exercise",
    "SeededSpec",
    "LayerSpec",
    "LossSpec",
    "FunctionSpec",
    "away_from",
    "function_name",
    "layer_names",
    "numbered",
    "seeded",
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


def layer_names(case: Case, forward: Any, backward: Any) -> dict[str, str]:
    """How messages name a layer's two functions (``<exercise>_forward`` if they have no
    name of their own); both must be functions."""
    __tracebackhide__ = True
    names = {"forward": function_name(forward, f"{case.exercise}_forward"),
             "backward": function_name(backward, f"{case.exercise}_backward")}
    require_callable(case, names["forward"], forward)
    require_callable(case, names["backward"], backward)
    return names


def seeded(seeds: Sequence[int], shapes: Sequence[tuple]
           ) -> Iterator[tuple[int, tuple, np.random.Generator]]:
    """(seed, shape, a generator seeded with it) for every seed and shape: a case's inputs
    depend on its seed and shape only, whatever the other cases of the call."""
    for seed in seeds:
        for shape in shapes:
            yield seed, tuple(shape), np.random.default_rng(seed)


def numbered(number: str, title_en: str, title_zh: str, assignment: str) -> dict[str, str]:
    """The fields every registration repeats: exercise ``number``'s two titles, "Exercise
    6.5 · …" and "练习 6.5 · …", and its assignment (``Spec(id=..., **numbered(...), ...)``)."""
    return {"title_en": f"Exercise {number} · {title_en}",
            "title_zh": f"练习 {number} · {title_zh}", "assignment": assignment}


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
    """What every exercise has: an id, a bilingual title, an assignment, and the case loop.

    ``run(*student, **literal)`` is the one loop every exercise shares:

    1. :meth:`make_cases` turns the literal data of the check call (seeds, shapes, ...)
       into cases with their inputs;
    2. :meth:`prepare` adds what the reference says (expected values, the values known
       mistakes give) to each case's ``data``; for an exercise whose reference is a
       solution (``needs_solution``), the student release reads this data from what was
       recorded when the course was released (:mod:`grader.checks.recorded`);
    3. :meth:`drive` writes down the calls each case makes on the student's code; they
       all run at once (one crossing in the grade of record);
    4. :meth:`judge` compares each case in order and raises the first CheckFailure;
    5. one pass line is printed.

    An exercise keeps only what is its own: its inputs, its reference, its comparison
    and its messages. Exercises whose calls depend on what the student returned
    override :meth:`run` and still use :class:`~grader.checks.steps.Steps`.
    """

    id: str
    title_en: str
    title_zh: str
    assignment: str = ""
    #: the formula text of the answer, which the release must not print above the exercise
    #: (tests/test_pedagogy.py; folded hints after the exercise may hold it)
    answer_text: Sequence[str] = ()
    #: True when :meth:`prepare` runs one of grader.checks.references (an answer): judging
    #: then never calls a reference, so the release can do without them.
    needs_solution: ClassVar[bool] = False

    @property
    def title(self) -> M.Text:
        return M.Text(self.title_en, self.title_zh)

    def case(self, **kwargs: Any) -> Case:
        return Case(exercise=self.id, title=self.title, **kwargs)

    def run(self, *student: Any, **literal: Any) -> None:
        __tracebackhide__ = True
        cases = self.cases(**literal)
        done, plans = self.drive_all(cases, student)
        self.judge_all(cases, done, plans)
        report_pass(self.title, len(cases))

    def drive_all(self, cases: Sequence[Case], student: Sequence[Any]) -> tuple[Done, list]:
        """Every case's calls, run together; (what they did, each case's plan)."""
        __tracebackhide__ = True
        steps = Steps()
        plans = [self.drive(steps, case, *student) for case in cases]
        return steps.run(), plans

    def judge_all(self, cases: Sequence[Case], done: Done, plans: Sequence[Any]) -> None:
        """Judge the cases in order: the first problem ends the check."""
        __tracebackhide__ = True
        for case, plan in zip(cases, plans, strict=True):
            self.judge(case, done, plan)

    def cases(self, **literal: Any) -> list[Case]:
        """The cases of one check call, inputs and reference data included."""
        __tracebackhide__ = True
        found = self.make_cases(**literal)
        from_record = self.needs_solution and not recorded.references_available()
        for index, case in enumerate(found):
            if from_record:
                try:
                    case.data.update(recorded.lookup(self.id, literal, index))
                except recorded.NotRecorded as missing:
                    raise CheckFailure(str(missing), kind="type", exercise=self.id) from None
            else:
                self.prepare(case)
        return found

    def make_cases(self, **literal: Any) -> list[Case]:  # pragma: no cover - abstract
        raise NotImplementedError

    def prepare(self, case: Case) -> None:
        """Reference data for ``case`` (into ``case.data``); plain data only."""

    def drive(self, steps: Steps, case: Case, *student: Any) -> Any:  # pragma: no cover
        """Add the calls this case makes; return what :meth:`judge` needs to find them."""
        raise NotImplementedError

    def judge(self, case: Case, done: Done, plan: Any) -> None:  # pragma: no cover
        """Compare what the student's code returned with the reference; raise on a problem."""
        raise NotImplementedError


@dataclass
class SeededSpec(Exercise):
    """Cases from ``seeds`` x ``shapes``: ``make_inputs(rng, shape)`` gives each its inputs."""

    make_inputs: Callable[[np.random.Generator, tuple], Inputs] = None  # type: ignore[assignment]
    params: Mapping[str, Any] = field(default_factory=dict)

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   **params: Any) -> list[Case]:
        params = {**self.params, **params}
        found = []
        for seed, shape, rng in seeded(seeds, shapes):
            case = self.case(seed=seed, inputs=self.make_inputs(rng, shape),
                             data={"params": params, "shape": shape})
            self.draw(case, rng)
            found.append(case)
        return found

    def draw(self, case: Case, rng: np.random.Generator) -> None:
        """More random data a case needs from its generator, after the inputs."""


@dataclass
class LayerSpec(SeededSpec):
    """``forward(*inputs, **params) -> (out, cache)`` and ``backward(dout, cache) -> grads``.

    ``grads`` names the inputs whose gradients backward returns, in order. The upstream
    gradient ``dout`` is random, so a backward that ignores it cannot pass.
    """

    reference: Callable[..., Any] = None  # type: ignore[assignment]
    grads: Sequence[str] = ()
    tol: Tolerance = field(default_factory=Tolerance)
    mutants: Mutants | None = None
    reference_text: str = ""

    def draw(self, case: Case, rng: np.random.Generator) -> None:
        out_shape = torchref.forward_only(self.reference, case.inputs, case.data["params"]).shape
        case.data["dout"] = rng.standard_normal(out_shape)

    def prepare(self, case: Case) -> None:
        out_ref, grads_ref = torchref.evaluate(self.reference, case.inputs, self.grads,
                                               case.data["dout"], case.data["params"])
        case.data.update(out=out_ref, grads=grads_ref, alternatives=self._alternatives(
            case.inputs, case.data["dout"], case.data["params"]))

    def drive(self, steps: Steps, case: Case, forward: Any, backward: Any) -> dict:
        __tracebackhide__ = True
        names = layer_names(case, forward, backward)
        forward_call = steps.call(forward, *case.inputs.values(), name=names["forward"],
                                  arg_names=list(case.inputs), **case.data["params"])
        cache = steps.item(forward_call, 1)
        backward_call = steps.call(backward, case.data["dout"], cache, name=names["backward"],
                                   arg_names=("dout", "cache"), unchanged=[forward_call])
        return {"names": names, "forward": forward_call, "backward": backward_call,
                "cache": cache}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        names = plan["names"]
        out, _ = _unpack(case, names["forward"], done.value(case, plan["forward"]),
                         ("out", "cache"))
        out_ref = case.data["out"]
        batch = out_ref.shape[0] if out_ref.ndim else None
        compare_array(case, "out", out_ref, out, tol=self.tol, batch_size=batch,
                      header_key="hdr_mismatch_autograd")
        self.check_backward(case, done, plan)
        returned = _unpack(case, names["backward"], as_tuple(done.value(case, plan["backward"])),
                           [f"d{name}" for name in self.grads])
        alternatives = case.data["alternatives"]
        for name, grad in zip(self.grads, returned, strict=True):
            compare_array(case, f"d{name}", case.data["grads"][name], grad, tol=self.tol,
                          batch_size=batch, alternatives=alternatives.get(name, []),
                          header_key="hdr_mismatch_autograd")

    def check_backward(self, case: Case, done: Done, plan: dict) -> None:
        """Subclasses add checks on the backward call (its cache) before its values."""

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
class LossSpec(SeededSpec):
    """``loss_fn(*inputs) -> (loss, dx)``: a scalar loss and its gradient w.r.t. ``grads``."""

    reference: Callable[..., Any] = None  # type: ignore[assignment]
    grads: Sequence[str] = ("x",)
    tol: Tolerance = field(default_factory=Tolerance)
    mutants: Mutants | None = None

    def prepare(self, case: Case) -> None:
        loss_ref, grads_ref = torchref.evaluate(self.reference, case.inputs, self.grads)
        case.data.update(loss=loss_ref, grads=grads_ref, alternatives=(
            self.mutants(case.inputs, np.ones(()), {}) if self.mutants else {}))

    def drive(self, steps: Steps, case: Case, loss_fn: Any) -> tuple[str, Ref]:
        __tracebackhide__ = True
        name = function_name(loss_fn, self.id)
        require_callable(case, name, loss_fn)
        return name, steps.call(loss_fn, *case.inputs.values(), name=name,
                                arg_names=list(case.inputs))

    def judge(self, case: Case, done: Done, plan: tuple[str, Ref]) -> None:
        __tracebackhide__ = True
        name, call = plan
        parts = _unpack(case, name, done.value(case, call),
                        ["loss", *[f"d{g}" for g in self.grads]])
        batch = next(iter(case.inputs.values())).shape[0]
        compare_array(case, "loss", case.data["loss"], parts[0], tol=self.tol,
                      batch_size=batch, header_key="hdr_mismatch_autograd")
        alternatives = case.data["alternatives"]
        for grad_name, grad in zip(self.grads, parts[1:], strict=True):
            compare_array(case, f"d{grad_name}", case.data["grads"][grad_name], grad,
                          tol=self.tol, batch_size=batch,
                          alternatives=alternatives.get(grad_name, []),
                          header_key="hdr_mismatch_autograd")


@dataclass
class FunctionSpec(SeededSpec):
    """``fn(*inputs, **params) -> array`` compared with a reference (torch or trusted NumPy)."""

    reference: Callable[..., Any] = None  # type: ignore[assignment]
    tol: Tolerance = field(default_factory=Tolerance)
    numpy_reference: bool = False  # True: reference takes and returns NumPy arrays
    exact: bool = False  # compare exactly (labels, counts)
    output_name: str = "out"
    mutants: Callable[[Inputs, Mapping[str, Any]], list[tuple[str, np.ndarray]]] | None = None

    def __post_init__(self) -> None:
        # a NumPy reference of the exercise itself is an answer (see grader.checks.references)
        self.needs_solution = self.numpy_reference

    def expected(self, inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
        if self.numpy_reference:
            return np.asarray(self.reference(**{k: v.copy() for k, v in inputs.items()}, **params))
        return torchref.forward_only(self.reference, inputs, params)

    def prepare(self, case: Case) -> None:
        inputs, params = case.inputs, case.data["params"]
        case.data["expected"] = self.expected(inputs, params)
        case.data["alternatives"] = list(self.mutants(inputs, params)) if self.mutants else []

    def drive(self, steps: Steps, case: Case, fn: Any) -> tuple[str, Ref]:
        __tracebackhide__ = True
        name = function_name(fn, self.id)
        require_callable(case, name, fn)
        return name, steps.call(fn, *case.inputs.values(), name=name, arg_names=list(case.inputs),
                                **case.data["params"])

    def judge(self, case: Case, done: Done, plan: tuple[str, Ref]) -> None:
        __tracebackhide__ = True
        _, call = plan
        actual = done.value(case, call)
        expected = case.data["expected"]
        if self.exact:
            compare_value(case, self.output_name, expected, actual)
            return
        batch = expected.shape[0] if expected.ndim else None
        compare_array(case, self.output_name, expected, actual, tol=self.tol,
                      batch_size=batch, alternatives=case.data["alternatives"])
