"""2.2–2.7, the activations · 激活函数: sigmoid, tanh, ReLU, leaky ReLU, parametric ReLU,
softplus, each a function and its elementwise derivative.

Activations follow one contract, stated in the notebook:

* ``f(z, **params)`` returns the activation, elementwise, same shape as ``z``;
* ``f_grad(z, **params)`` returns the elementwise derivative f'(z), so that the
  chain rule reads ``dz = dout * f_grad(z)``.

The expected derivative is read off ``torch.autograd``: the torch expression is
back-propagated with a random upstream gradient ``dout`` (kept at least 0.25 away
from 0) and the gradient is divided by ``dout``. At a kink the derivative is the one
PyTorch uses: ReLU'(0) = 0 and LeakyReLU'(0) = alpha (the left slope).
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
    Tolerance,
    is_plain,
    require_callable,
)
from grader.checks.exercises import register
from grader.checks.exercises.mlp.common import (
    ASSIGNMENT,
    Alternatives,
    compare_with_hint,
    describe,
    fail_on_warnings,
)
from grader.checks.specs import Exercise, _unpack, away_from, function_name, numbered, seeded
from grader.checks.steps import Done, Steps

EDGE_Z = np.array([-1000.0, -100.0, -30.0, -2.0, -0.5, 0.0, 0.5, 2.0, 30.0, 100.0, 1000.0])


@dataclass
class ActivationSpec(Exercise):
    """``f(z, **params)`` and ``f_grad(z, **params)`` (the elementwise derivative) vs autograd.

    Random cases come from ``seeds`` x ``shapes`` (kept away from kinks); then the edge
    case ``EDGE_Z`` (±1000, ±30, exactly 0) always runs, since stability is part of
    the exercise. Both functions of every case run in one batch of steps.
    """

    reference: Callable[..., Any] = None  # type: ignore[assignment]
    function: str = ""  # the notebook's name for f; the derivative is f"{function}_grad"
    kinks: Sequence[float] = ()
    stability_hint: str | None = None
    #: the hint when the derivative warns or is not finite (default: ``stability_hint``)
    grad_stability_hint: str | None = None
    value_mutants: Callable[[np.ndarray, Mapping[str, Any]], Alternatives] | None = None
    grad_mutants: Callable[[np.ndarray, Mapping[str, Any]], Alternatives] | None = None
    tol: Tolerance = field(default_factory=Tolerance)

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   **params: Any) -> list[Case]:
        found = []
        for seed, shape, rng in seeded(seeds, shapes):
            z = away_from(rng, shape, kinks=self.kinks, margin=1e-3, scale=3.0)
            dout = away_from(rng, z.shape, kinks=(0.0,), margin=0.25)
            found.append(self.case(seed=seed, inputs={"z": z},
                                   data={"params": params, "dout": dout}))
        z = EDGE_Z.copy()
        dout = away_from(np.random.default_rng(0), z.shape, kinks=(0.0,), margin=0.25)
        found.append(self.case(description=describe({"z": z}), inputs={"z": z},
                               data={"params": params, "dout": dout}))
        return found

    def prepare(self, case: Case) -> None:
        z, dout, params = case.inputs["z"], case.data["dout"], case.data["params"]
        out_ref, grads = torchref.evaluate(lambda z: self.reference(z, **params), {"z": z},
                                           ["z"], dout)
        case.data["out"] = out_ref
        case.data["dz"] = grads["z"] / dout + 0.0  # f'(z), read off autograd (+ 0.0: no -0)
        case.data["value_alternatives"] = (list(self.value_mutants(z, params))
                                           if self.value_mutants else [])
        case.data["grad_alternatives"] = [("mlp_hint_returned_activation", out_ref)] + (
            list(self.grad_mutants(z, params)) if self.grad_mutants else [])

    def drive(self, steps: Steps, case: Case, fn: Any, fn_grad: Any) -> dict:
        __tracebackhide__ = True
        names = (function_name(fn, self.function or self.id),
                 function_name(fn_grad, f"{self.function or self.id}_grad"))
        require_callable(case, names[0], fn)
        require_callable(case, names[1], fn_grad)
        z, params = case.inputs["z"], case.data["params"]
        return {"names": names,
                "f": steps.call(fn, z, name=names[0], arg_names=("z",), **params),
                "grad": steps.call(fn_grad, z, name=names[1], arg_names=("z",), **params)}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        """The activation's values (no numerical warning), then its derivative."""
        __tracebackhide__ = True
        caught: list = []
        out = done.value(case, plan["f"], record_warnings=caught)
        compare_with_hint(case, "out", case.data["out"], out, tol=self.tol,
                          alternatives=case.data["value_alternatives"],
                          nonfinite_hint=self.stability_hint,
                          header_key="hdr_mismatch_autograd")
        fail_on_warnings(case, plan["names"][0], caught, self.stability_hint)
        caught = []
        derivative = done.value(case, plan["grad"], record_warnings=caught)
        self.check_derivative(case, plan["names"][1], derivative)
        fail_on_warnings(case, plan["names"][1], caught,
                         self.grad_stability_hint or self.stability_hint)

    def check_derivative(self, case: Case, grad_name: str, derivative: Any) -> None:
        """What ``f_grad`` returned: f'(z) against autograd."""
        __tracebackhide__ = True
        compare_with_hint(case, f"{grad_name}(z)", case.data["dz"], derivative, tol=self.tol,
                          alternatives=case.data["grad_alternatives"],
                          nonfinite_hint=self.grad_stability_hint or self.stability_hint,
                          header_key="hdr_mismatch_autograd")


def _sigmoid_grad_mutants(z, params) -> Alternatives:
    return [("mlp_hint_grad_on_z", z * (1 - z))]


def _tanh_grad_mutants(z, params) -> Alternatives:
    return [("mlp_hint_grad_on_z", 1 - z**2), ("mlp_hint_missing_square", 1 - np.tanh(z))]


def _relu_grad_mutants(z, params) -> Alternatives:
    return [
        ("mlp_hint_relu_grad_at_zero", (z >= 0).astype(float)),
        ("mlp_hint_relu_grad_sign", np.sign(z)),
        ("mlp_hint_relu_grad_from_output", np.ones_like(z)),
    ]


def _leaky_grad_mutants(z, params) -> Alternatives:
    alpha = params.get("alpha", 0.01)
    found = [("mlp_hint_leaky_at_zero", np.where(z >= 0, 1.0, alpha)),
             ("mlp_hint_leaky_slope", (z > 0).astype(float))]
    if alpha != 0.01:
        found.append(("mlp_hint_leaky_alpha", np.where(z > 0, 1.0, 0.01)))
    return found


def _leaky_value_mutants(z, params) -> Alternatives:
    alpha = params.get("alpha", 0.01)
    found = [("mlp_hint_leaky_slope", np.maximum(z, 0.0))]
    if alpha != 0.01:
        found.append(("mlp_hint_leaky_alpha", np.where(z > 0, z, 0.01 * z)))
    return found


def torch_leaky_relu(z, alpha=0.01):
    return torchref.torch.nn.functional.leaky_relu(z, negative_slope=alpha)


for _spec in (
    ActivationSpec(
        id="sigmoid_activation", function="sigmoid",
        **numbered("2.2", "sigmoid", "sigmoid", ASSIGNMENT), reference=lambda z: torchref.torch.sigmoid(z),
        stability_hint="mlp_hint_stable_sigmoid", grad_mutants=_sigmoid_grad_mutants,
        answer_text=("s * (1 - s)", "\\sigma(z)\\,\\bigl(1 - \\sigma(z)\\bigr)",
                     "\\sigma(z)(1 - \\sigma(z))", "e / (1 + e)"),
    ),
    ActivationSpec(
        id="tanh_activation", function="tanh",
        **numbered("2.3", "tanh", "tanh", ASSIGNMENT), reference=lambda z: torchref.torch.tanh(z),
        stability_hint="mlp_hint_stable_tanh", grad_mutants=_tanh_grad_mutants,
        answer_text=("1 - np.tanh(z) ** 2", "1 - \\tanh^2(z)", "1 - tanh(z)**2"),
    ),
    ActivationSpec(
        id="relu_activation", function="relu",
        **numbered("2.4", "ReLU", "ReLU", ASSIGNMENT),
        reference=lambda z: torchref.torch.relu(z), kinks=(0.0,),
        grad_mutants=_relu_grad_mutants,
        answer_text=("(z > 0).astype(float)", "\\begin{cases} 1 & z > 0 \\\\ 0 & z \\le 0"),
    ),
    ActivationSpec(
        id="leaky_relu_activation", function="leaky_relu",
        **numbered("2.5", "leaky ReLU", "带泄露的 ReLU（即 leaky ReLU）", ASSIGNMENT),
        reference=torch_leaky_relu, kinks=(0.0,),
        value_mutants=_leaky_value_mutants, grad_mutants=_leaky_grad_mutants,
        answer_text=("np.where(z > 0, 1.0, alpha)",
                     "\\begin{cases} 1 & z > 0 \\\\ \\alpha & z \\le 0"),
    ),
    ActivationSpec(
        id="softplus_activation", function="softplus",
        **numbered("2.7", "softplus", "softplus", ASSIGNMENT),
        reference=lambda z: torchref.torch.logaddexp(z, torchref.torch.zeros_like(z)),
        stability_hint="mlp_hint_stable_softplus",
        grad_stability_hint="mlp_hint_softplus_grad_sigmoid",
        answer_text=("\\mathrm{softplus}'(z) = \\sigma(z)", "np.log1p(np.exp(-np.abs(z)))",
                     "\\log\\bigl(1 + e^{-|z|}\\bigr)"),
    ),
):
    register(_spec)


@dataclass
class PreluSpec(ActivationSpec):
    """``prelu(z, alpha)`` and ``prelu_grad(z, alpha) -> (dz, dalpha)``, both elementwise.

    ``dz`` is d out / d z and ``dalpha`` is d out / d alpha, element by element, so that
    the chain rule reads ``dz = dout * dz`` and ``dalpha = (dout * dalpha).sum()`` (one
    learned slope, as ``torch.nn.PReLU()``). The reference is ``F.prelu``; ``dz`` is read
    off autograd as for the other activations, ``dalpha`` off autograd's Jacobian of the
    output with respect to the slope.
    """

    def prepare(self, case: Case) -> None:
        torch = torchref.torch
        z, dout, params = case.inputs["z"], case.data["dout"], case.data["params"]
        alpha = float(params["alpha"])
        prelu = torch.nn.functional.prelu
        out_ref, grads = torchref.evaluate(
            lambda z, weight: prelu(z, weight), {"z": z, "weight": np.array([alpha])},
            ["z"], dout)
        zt = torch.tensor(z)
        jac = torch.autograd.functional.jacobian(lambda w: prelu(zt, w),
                                                 torch.tensor([alpha], dtype=torch.float64))
        case.data["out"] = out_ref
        case.data["dz"] = grads["z"] / dout + 0.0
        case.data["dalpha"] = jac.reshape(z.shape).numpy().copy() + 0.0
        written_in = [a for a in (0.25, 0.01) if a != alpha]
        case.data["value_alternatives"] = (
            [("mlp_hint_leaky_slope", np.maximum(z, 0.0))]
            + [("mlp_hint_prelu_alpha_written_in", np.where(z > 0, z, a * z))
               for a in written_in])
        case.data["grad_alternatives"] = (
            [("mlp_hint_returned_activation", out_ref),
             ("mlp_hint_leaky_at_zero", np.where(z >= 0, 1.0, alpha)),
             ("mlp_hint_leaky_slope", (z > 0).astype(float))]
            + [("mlp_hint_prelu_alpha_written_in", np.where(z > 0, 1.0, a))
               for a in written_in])
        case.data["dalpha_alternatives"] = [
            ("mlp_hint_prelu_dalpha_zero", np.zeros_like(z)),
            ("mlp_hint_prelu_dalpha_everywhere", z.copy()),
            ("mlp_hint_prelu_dalpha_is_slope", np.where(z > 0, 1.0, alpha)),
            ("mlp_hint_prelu_dalpha_is_slope", np.where(z > 0, 0.0, alpha)),
        ]

    def check_derivative(self, case: Case, grad_name: str, derivative: Any) -> None:
        """``(dz, dalpha)``, each elementwise against autograd; one summed number is named."""
        __tracebackhide__ = True
        dz, dalpha = _unpack(case, grad_name, derivative, ("dz", "dalpha"))
        compare_with_hint(case, f"dz ({grad_name})", case.data["dz"], dz, tol=self.tol,
                          alternatives=case.data["grad_alternatives"],
                          header_key="hdr_mismatch_autograd")
        if is_plain(dalpha) and np.ndim(dalpha) == 0:
            raise case.failure("hdr_wrong_shape",
                               M.bilingual("wrong_shape", indent="  ", name=f"dalpha ({grad_name})",
                                           found=(), expected=tuple(np.shape(case.inputs["z"]))),
                               M.bilingual("mlp_hint_prelu_dalpha_summed", indent="  "),
                               name=f"dalpha ({grad_name})")
        compare_with_hint(case, f"dalpha ({grad_name})", case.data["dalpha"], dalpha,
                          tol=self.tol, alternatives=case.data["dalpha_alternatives"],
                          header_key="hdr_mismatch_autograd")


register(
    PreluSpec(
        id="prelu_activation", function="prelu",
        **numbered("2.6", "parametric ReLU", "参数化 ReLU（PReLU）", ASSIGNMENT),
        reference=None, kinks=(0.0,),  # type: ignore[arg-type]
        answer_text=("np.where(z > 0, 0.0, z)", "z * (z <= 0)",
                     "\\frac{\\partial\\,\\mathrm{PReLU}}{\\partial \\alpha}"),
    )
)
