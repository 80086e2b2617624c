"""What assignment 06's exercises share · 作业 06 各练习共用的部分.

Data like the digits, the flagged references that replay known mistakes, and two kinds of
exercise: a scalar with its gradients (:class:`ScalarSpec`) and a layer with several outputs
(:class:`MultiOutputLayerSpec`). Each check call runs all its cases as one list of steps.
"""

from __future__ import annotations

import functools
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
    compare_array,
    require_callable,
)
from grader.checks.exercises.autoencoders import messages  # noqa: F401  (the catalogue)
from grader.checks.specs import Exercise, _unpack, function_name, layer_names, seeded
from grader.checks.steps import Done, Ref, Steps

ASSIGNMENT = "06_autoencoders"


def digits_like(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Pixel intensities k/16 as in scikit-learn's digits, about half of them zero."""
    pixels = rng.integers(0, 17, size=(n, d)) / 16.0
    return np.where(rng.random((n, d)) < 0.45, 0.0, pixels)


def _describe(seed: int, inputs: Mapping[str, Any], options: Mapping[str, Any]) -> str:
    shapes = ", ".join(f"{k}.shape={tuple(np.shape(v))}" for k, v in inputs.items())
    extra = "".join(f", {k}={v!r}" for k, v in options.items())
    return f"seed={seed}, {shapes}{extra}"


def flagged(reference: Callable[..., Any], inputs: Mapping[str, np.ndarray],
             wrt: Sequence[str], params: Mapping[str, Any], upstream=None, **flags):
    """What the reference run with ``flags`` (a known mistake) returns, and its gradients."""
    return torchref.evaluate(functools.partial(reference, **flags), inputs, wrt, upstream,
                             params)


def replayed(reference: Callable[..., Any], inputs: Mapping[str, np.ndarray],
             params: Mapping[str, Any], wrt: Sequence[str], value_name: str,
             mistakes: Sequence[tuple[str, Mapping[str, Any], Sequence[str]]]
             ) -> dict[str, list[tuple[str, np.ndarray]]]:
    """What known mistakes return, for a :class:`ScalarSpec`'s ``mutants``: each ``(hint key,
    flags, names)`` runs the reference with ``flags`` (see ``flagged``) and offers its value
    (under ``value_name``) and its gradients for the ``names`` that mistake explains."""
    found: dict[str, list] = {value_name: [], **{name: [] for name in wrt}}
    for key, flags, where in mistakes:
        wrong, wrong_grads = flagged(reference, inputs, wrt, params, **flags)
        for name in where:
            found[name].append((key, wrong if name == value_name else wrong_grads[name]))
    return found


def noting_reuse(case: Case, function: str, reuses: Sequence[str]):
    """A context that adds, to a failure that says "float32 or finite differences", which of
    the student's other functions this one calls (issue #16: a float32 helper shows here)."""

    class _Note:
        def __enter__(self):
            return self

        def __exit__(self, kind, failure, tb):
            __tracebackhide__ = True
            if kind is not None and issubclass(kind, CheckFailure) and reuses and \
                    failure.kind == "numerical":
                others = ", ".join(f"`{name}`" for name in reuses)
                note = M.bilingual("ae_reuses", indent="  ", function=function, others=others)
                raise CheckFailure(f"{failure.args[0]}\n{note}", kind=failure.kind,
                                   exercise=failure.exercise) from None
            return False

    return _Note()


# ---------------------------------------------------------------------------- specs


@dataclass
class ScalarSpec(Exercise):
    """``fn(*inputs, **params) -> (value, d<grad1>, d<grad2>, ...)`` for a scalar value.

    ``input_options`` are literal keywords of the test call that shape the inputs
    (for example ``scale=5.0`` for edge inputs) rather than being passed to ``fn``.
    ``mutants(inputs, params, value, grads)`` returns ``{value_name or grad name:
    [(hint, array)]}``: what known mistakes return, from the reference (see ``flagged``).
    """

    make_inputs: Callable[..., dict[str, np.ndarray]] = None  # type: ignore[assignment]
    reference: Callable[..., Any] = None  # type: ignore[assignment]
    grads: Sequence[str] = ()
    value_name: str = "loss"
    params: Mapping[str, Any] = field(default_factory=dict)
    input_options: Sequence[str] = ()
    tol: Tolerance = field(default_factory=Tolerance)
    mutants: Callable[..., dict[str, list[tuple[str, np.ndarray]]]] | None = None
    reuses: Sequence[str] = ()  # the student's other graded functions this one calls

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   **params: Any) -> list[Case]:
        params = {**self.params, **params}
        options = {k: params.pop(k) for k in self.input_options if k in params}
        found = []
        for seed, shape, rng in seeded(seeds, shapes):
            inputs = self.make_inputs(rng, shape, **options)
            found.append(self.case(
                seed=seed, inputs=inputs, data={"params": params},
                description=_describe(seed, inputs, {**options, **params})))
        return found

    def prepare(self, case: Case) -> None:
        params = case.data["params"]
        value, grads = torchref.evaluate(self.reference, case.inputs, self.grads, None, params)
        alternatives = self.mutants(case.inputs, params, value, grads) if self.mutants else {}
        case.data.update(value=value, grads=grads, alternatives=alternatives)

    def drive(self, steps: Steps, case: Case, fn: Any) -> tuple[str, Ref]:
        __tracebackhide__ = True
        name = function_name(fn, self.id)
        require_callable(case, name, fn)
        return name, steps.call(fn, *case.inputs.values(), name=name,
                                arg_names=list(case.inputs), **case.data["params"])

    def judge(self, case: Case, done: Done, plan: tuple[str, Ref]) -> None:
        __tracebackhide__ = True
        name, call = plan
        names = [self.value_name, *[f"d{g}" for g in self.grads]]
        parts = _unpack(case, name, done.value(case, call), names)
        alternatives = case.data["alternatives"]
        batch = next(iter(case.inputs.values())).shape[0]
        with noting_reuse(case, name, self.reuses):
            compare_array(case, self.value_name, case.data["value"], parts[0], tol=self.tol,
                          batch_size=batch, alternatives=alternatives.get(self.value_name, []),
                          header_key="hdr_mismatch_autograd")
            for grad_name, grad in zip(self.grads, parts[1:], strict=True):
                compare_array(case, f"d{grad_name}", case.data["grads"][grad_name], grad,
                              tol=self.tol, batch_size=batch,
                              alternatives=alternatives.get(grad_name, []),
                              header_key="hdr_mismatch_autograd")


def _forward_outputs(reference, inputs):
    torch = torchref.torch
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in inputs.items()}
    with torch.no_grad():
        outs = reference(**tensors)
    return [o.numpy().copy() for o in outs]


def _evaluate_outputs(reference, inputs, wrt, upstreams):
    """Forward values of a multi-output ``reference`` and the gradients of Σ out_k·upstream_k."""
    torch = torchref.torch
    tensors = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=name in wrt)
        for name, value in inputs.items()
    }
    outs = reference(**tensors)
    torch.autograd.backward(
        list(outs), [torch.tensor(u, dtype=torch.float64) for u in upstreams]
    )
    grads = {
        name: (np.zeros(tensors[name].shape) if tensors[name].grad is None
               else tensors[name].grad.detach().numpy().copy())
        for name in wrt
    }
    return [o.detach().numpy().copy() for o in outs], grads


@dataclass
class MultiOutputLayerSpec(Exercise):
    """``forward(*inputs) -> (out_1, ..., out_k, cache)`` and
    ``backward(dout_1, ..., dout_k, cache) -> (d<grad1>, ...)``, each upstream random."""

    make_inputs: Callable[[np.random.Generator, tuple], dict[str, np.ndarray]] = None  # type: ignore[assignment]
    reference: Callable[..., Any] = None  # type: ignore[assignment]
    outputs: Sequence[str] = ()
    grads: Sequence[str] = ()
    tol: Tolerance = field(default_factory=Tolerance)
    # mutants: (hint key, index of an upstream gradient the mistake forgets)
    mutants: Sequence[tuple[str, int]] = ()

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> list[Case]:
        found = []
        for seed, shape, rng in seeded(seeds, shapes):
            inputs = self.make_inputs(rng, shape)
            outs = _forward_outputs(self.reference, inputs)
            upstreams = [rng.standard_normal(o.shape) for o in outs]
            found.append(self.case(seed=seed, inputs=inputs, data={"upstreams": upstreams}))
        return found

    def prepare(self, case: Case) -> None:
        upstreams = case.data["upstreams"]
        outs, grads = _evaluate_outputs(self.reference, case.inputs, self.grads, upstreams)
        alternatives: dict[str, list] = {g: [] for g in self.grads}
        variants = [(key, [np.zeros_like(u) if i == drop else u
                           for i, u in enumerate(upstreams)]) for key, drop in self.mutants]
        variants.append(("hint_ignores_upstream", [np.ones_like(u) for u in upstreams]))
        for key, ups in variants:
            _, wrong = _evaluate_outputs(self.reference, case.inputs, self.grads, ups)
            for g in self.grads:
                alternatives[g].append((key, wrong[g]))
        case.data.update(outs=outs, grads=grads, alternatives=alternatives)

    def drive(self, steps: Steps, case: Case, forward: Any, backward: Any) -> dict:
        __tracebackhide__ = True
        names = layer_names(case, forward, backward)
        forward_call = steps.call(forward, *case.inputs.values(), name=names["forward"],
                                  arg_names=list(case.inputs))
        cache = steps.item(forward_call, len(self.outputs))
        upstream_names = [f"d{o}" for o in self.outputs]
        backward_call = steps.call(backward, *case.data["upstreams"], cache,
                                   name=names["backward"],
                                   arg_names=(*upstream_names, "cache"),
                                   unchanged=[forward_call])
        return {"names": names, "forward": forward_call, "backward": backward_call}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        names = plan["names"]
        *outs, _ = _unpack(case, names["forward"], done.value(case, plan["forward"]),
                           (*self.outputs, "cache"))
        batch = case.data["outs"][0].shape[0]
        for out_name, expected, actual in zip(self.outputs, case.data["outs"], outs,
                                              strict=True):
            compare_array(case, out_name, expected, actual, tol=self.tol, batch_size=batch,
                          header_key="hdr_mismatch_autograd")
        returned = _unpack(case, names["backward"],
                           as_tuple(done.value(case, plan["backward"])),
                           [f"d{g}" for g in self.grads])
        for grad_name, grad in zip(self.grads, returned, strict=True):
            compare_array(case, f"d{grad_name}", case.data["grads"][grad_name], grad,
                          tol=self.tol, batch_size=batch,
                          alternatives=case.data["alternatives"][grad_name],
                          header_key="hdr_mismatch_autograd")
