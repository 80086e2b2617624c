"""Exercise 6.0 · 练习 6.0: the student's own tools from assignment 03, pasted into 06.

Assignment 06 gives no layer and no gradient checker: the student brings their affine,
sigmoid and ReLU layers and their central-difference ``numerical_gradient`` from assignment
03 (the release of 06 would otherwise print 03's answers). This exercise checks them again,
against PyTorch, with checks of its own (assignment 03's checks compare with values recorded
for 03's notebook only), in one list of steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks import torchref
from grader.checks.compare import Case, Tolerance, compare_array, require_callable
from grader.checks.exercises import register
from grader.checks.exercises.autoencoders.common import ASSIGNMENT
from grader.checks.specs import Exercise, LayerSpec, away_from, function_name, numbered
from grader.checks.steps import Done, Steps


def checker_probe(x: np.ndarray) -> float:
    """log(sum(exp(x))): a smooth scalar function in which every element is coupled."""
    m = float(np.max(x))
    return float(m + np.log(np.sum(np.exp(x - m))))


def _affine_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    n, d, m = shape
    return {"x": rng.standard_normal((n, d)), "w": rng.standard_normal((d, m)) / np.sqrt(d),
            "b": rng.standard_normal(m)}


#: name -> (the student's forward and backward names, what the layer is, inputs, reference,
#: gradients, shape of the case)
LAYERS = {
    "affine": (("affine_forward", "affine_backward"), ("your affine layer", "你的仿射层"),
               _affine_inputs, lambda x, w, b: x @ w + b, ("x", "w", "b"), (4, 3, 2)),
    "sigmoid": (("sigmoid_forward", "sigmoid_backward"), ("your sigmoid layer", "你的 sigmoid 层"),
                lambda rng, shape: {"x": rng.standard_normal(shape) * 3.0},
                lambda x: x.sigmoid(), ("x",), (4, 5)),
    "relu": (("relu_forward", "relu_backward"), ("your ReLU layer", "你的 ReLU 层"),
             lambda rng, shape: {"x": away_from(rng, shape, kinks=(0.0,), margin=1e-3)},
             lambda x: x.clamp(min=0), ("x",), (4, 5)),
}


@dataclass
class ToolsSpec(Exercise):
    """``check("tools_from_03", affine_forward, affine_backward, sigmoid_forward,
    sigmoid_backward, relu_forward, relu_backward, numerical_gradient, seeds=[...])``."""

    checker_tol: Tolerance = field(default_factory=lambda: Tolerance(rtol=1e-6, atol=1e-7))
    answer_text: Sequence[str] = ("dout @ w.T", "x.T @ dout", "dout * (x > 0)",
                                  "dout * out * (1 - out)", "(f(x + h) - f(x - h)) / (2 * h)")

    def __post_init__(self) -> None:
        self.layers = {
            name: LayerSpec(id=self.id, title_en=f"Exercise 6.0 · {what[0]} from assignment 03",
                            title_zh=f"练习 6.0 · 作业 03 中{what[1]}", assignment=self.assignment,
                            make_inputs=make, reference=reference, grads=grads)
            for name, (_, what, make, reference, grads, _) in LAYERS.items()}

    def make_cases(self, *, seeds: Sequence[int]) -> list[Case]:
        found = []
        for name, layer in self.layers.items():
            for case in layer.make_cases(seeds=seeds, shapes=[LAYERS[name][5]]):
                case.data["tool"] = name
                found.append(case)
        for seed in seeds:
            x = np.random.default_rng(seed).standard_normal(3)
            found.append(self.case(seed=seed, inputs={"x": x}, data={"tool": "checker"},
                                   description=f"numerical_gradient(f, x) with f(x) = "
                                               f"log(sum(exp(x))), seed={seed}, x.shape=(3,)"))
        return found

    def prepare(self, case: Case) -> None:
        tool = case.data["tool"]
        if tool in self.layers:
            self.layers[tool].prepare(case)
            return
        torch = torchref.torch
        _, grads = torchref.evaluate(lambda x: torch.logsumexp(x, dim=0), case.inputs, ("x",))
        case.data["expected"] = grads["x"]

    def drive(self, steps: Steps, case: Case, affine_forward: Any, affine_backward: Any,
              sigmoid_forward: Any, sigmoid_backward: Any, relu_forward: Any,
              relu_backward: Any, numerical_gradient: Any) -> Any:
        __tracebackhide__ = True
        student = {"affine": (affine_forward, affine_backward),
                   "sigmoid": (sigmoid_forward, sigmoid_backward),
                   "relu": (relu_forward, relu_backward)}
        tool = case.data["tool"]
        if tool in self.layers:
            return self.layers[tool].drive(steps, case, *student[tool])
        name = function_name(numerical_gradient, "numerical_gradient")
        require_callable(case, name, numerical_gradient)
        return steps.call(numerical_gradient, checker_probe, case.inputs["x"], name=name,
                          arg_names=("f", "x"))

    def judge(self, case: Case, done: Done, plan: Any) -> None:
        __tracebackhide__ = True
        tool = case.data["tool"]
        if tool in self.layers:
            self.layers[tool].judge(case, done, plan)
            return
        compare_array(case, "grad", case.data["expected"], done.value(case, plan),
                      tol=self.checker_tol, header_key="hdr_mismatch_autograd")


register(
    ToolsSpec(
        id="tools_from_03",
        **numbered("6.0", "your tools from assignment 03", "作业 03 中你自己的工具", ASSIGNMENT),
    )
)
