"""4.4–4.7 · the tensor engine: ``unbroadcast``, ``Tensor``'s operations, cross-entropy as one
node and the MLP's loss, each against torch with a random upstream gradient."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import Case, CheckFailure, Tolerance, compare_array, is_plain, require_callable
from grader.checks.exercises import register
from grader.checks.exercises.autodiff.common import (
    EngineExercise,
    Traced,
    backward,
    class_name,
    compare,
    dict_step,
    expect_no_grad,
    leaf_steps,
    read_array,
    step_value,
)
from grader.checks.exercises.autodiff.programs import TOL
from grader.checks.specs import away_from, numbered, seeded
from grader.checks.steps import Done, Ref, Steps

ASSIGNMENT = "04_autodiff"

# ======================================================================= tensor engine


def _torch_unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """The gradient that broadcasting a ``shape`` array up to ``grad.shape`` sends back."""
    torch = torchref.torch
    x = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    (x + torch.zeros(grad.shape, dtype=torch.float64)).backward(torch.tensor(grad))
    return x.grad.numpy().copy()


@dataclass
class UnbroadcastExercise(EngineExercise):
    """``unbroadcast(grad, shape)``: ``check(id, unbroadcast, seeds=[...], cases=[(grad_shape,
    shape), ...])``, compared with the gradient torch sends through a broadcast."""

    tol: Tolerance = TOL

    def make_cases(self, *, seeds: Sequence[int], cases: Sequence[tuple]) -> list[Case]:
        found = []
        for seed in seeds:
            rng = np.random.default_rng(seed)
            for grad_shape, shape in cases:
                grad_shape, shape = tuple(grad_shape), tuple(shape)
                found.append(self.case(seed=seed, inputs={"grad": rng.standard_normal(grad_shape)},
                                       data={"shape": shape}, description=(
                    f"unbroadcast(grad, {shape}) with grad.shape={grad_shape}, seed={seed}")))
        return found

    def prepare(self, case: Case) -> None:
        grad, shape = case.inputs["grad"], case.data["shape"]
        case.data["expected"] = _torch_unbroadcast(grad, shape)
        lead = grad.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                          if n == 1 and grad.shape[lead + i] != 1)
        case.data["mean"] = grad.mean(axis=axes, keepdims=True).reshape(shape) if axes else grad

    def drive(self, steps: Steps, case: Case, unbroadcast: Any) -> Ref:
        __tracebackhide__ = True
        require_callable(case, "unbroadcast", unbroadcast)
        return steps.call(unbroadcast, case.inputs["grad"], case.data["shape"],
                          name="unbroadcast", arg_names=("grad", "shape"))

    def judge(self, case: Case, done: Done, plan: Ref) -> None:
        __tracebackhide__ = True
        result = step_value(case, done, plan)
        expected = case.data["expected"]
        self._check_shape(case, result, case.inputs["grad"], expected)
        compare_array(case, "unbroadcast(grad, shape)", expected, result, tol=self.tol,
                      alternatives=[("autodiff_hint_sum_not_mean", case.data["mean"])],
                      header_key="hdr_mismatch_autograd")

    @staticmethod
    def _check_shape(case: Case, result: Any, grad: np.ndarray, expected: np.ndarray) -> None:
        __tracebackhide__ = True
        if not is_plain(result):
            return  # compare_array explains a value that is not an array
        shape = tuple(np.shape(result))
        if shape == expected.shape:
            return
        if shape == grad.shape:
            hint = "autodiff_hint_not_reduced"
        elif int(np.prod(shape)) == expected.size:
            hint = "autodiff_hint_keepdims"
        else:
            hint = "hint_shape_broadcast"
        lines = [
            case.header("hdr_wrong_shape", name="unbroadcast(grad, shape)"),
            M.bilingual("wrong_shape", indent="  ", name="unbroadcast(grad, shape)",
                        found=shape, expected=expected.shape),
            M.bilingual(hint, indent="  "),
            *case.reproduce_lines(),
        ]
        raise CheckFailure("\n".join(lines), exercise=case.exercise)


register(UnbroadcastExercise(
    id="unbroadcast",
    answer_text=("sum(axis=1, keepdims=True)",),
    **numbered("4.4", "unbroadcast", "反广播（unbroadcast）", ASSIGNMENT),
))


@dataclass(frozen=True)
class TensorExpr:
    """An expression over named arrays that reads the same for torch and the student's Tensor."""

    text: str
    methods: str  # the student's methods this expression runs, for messages
    shapes: Callable[[int, int, int], dict[str, tuple]]
    build: Callable[..., Any]
    kinks: tuple[str, ...] = ()  # inputs kept away from 0 (ReLU)
    reuse: tuple[str, ...] = ()  # inputs used twice: overwriting keeps half the gradient
    mutants: Callable[[dict, np.ndarray], dict[str, list]] | None = None  # known wrong grads
    requires: tuple[str, ...] | None = None  # inputs made with requires_grad=True (None: all)

    def requires_grad(self, name: str) -> bool:
        return self.requires is None or name in self.requires


def _sq(n: int, d: int, m: int) -> dict[str, tuple]:
    return {"a": (n, d), "b": (n, d)}


TENSOR_EXPRS: tuple[TensorExpr, ...] = (
    TensorExpr("out = a + b", "__add__", _sq, lambda a, b: a + b),
    TensorExpr("out = x + b", "__add__", lambda n, d, m: {"x": (n, d), "b": (d,)},
               lambda x, b: x + b),
    TensorExpr("out = a + b", "__add__", lambda n, d, m: {"a": (n, 1), "b": (1, d)},
               lambda a, b: a + b),
    TensorExpr("out = b + x", "__add__", lambda n, d, m: {"b": (d,), "x": (n, d)},
               lambda b, x: b + x),
    TensorExpr("out = x + c", "__add__", lambda n, d, m: {"x": (2, n, d), "c": (n, 1)},
               lambda x, c: x + c),
    TensorExpr("out = a + a", "__add__", lambda n, d, m: {"a": (n, d)}, lambda a: a + a,
               reuse=("a",)),
    TensorExpr("out = x @ w", "__matmul__", lambda n, d, m: {"x": (n, d), "w": (d, m)},
               lambda x, w: x @ w),
    TensorExpr("out = x.relu()", "relu", lambda n, d, m: {"x": (n, d)}, lambda x: x.relu(),
               kinks=("x",),
               mutants=lambda inputs, g: {"x": [("hint_mask_from_output", g),
                                                ("autodiff_hint_relu",
                                                 np.maximum(inputs["x"], 0) * g)]}),
    TensorExpr("out = x.sum()", "sum", lambda n, d, m: {"x": (n, d)}, lambda x: x.sum()),
    TensorExpr("out = x.mean()", "mean", lambda n, d, m: {"x": (n, d)}, lambda x: x.mean(),
               mutants=lambda inputs, g: {"x": [("autodiff_hint_mean_size",
                                                np.ones_like(inputs["x"]) * g)]}),
    TensorExpr("out = (x @ w + b).relu()", "__matmul__, __add__ or relu",
               lambda n, d, m: {"x": (n, d), "w": (d, m), "b": (m,)},
               lambda x, w, b: (x @ w + b).relu()),
    TensorExpr("h = x @ w; out = (h.relu() + h).mean()", "__matmul__, relu, __add__ or mean",
               lambda n, d, m: {"x": (n, d), "w": (d, m)},
               lambda x, w: (lambda h: (h.relu() + h).mean())(x @ w)),
    TensorExpr("out = x @ w with x = Tensor(x), no requires_grad", "__matmul__",
               lambda n, d, m: {"x": (n, d), "w": (d, m)}, lambda x, w: x @ w,
               requires=("w",)),
    TensorExpr("out = (x @ w + b).relu() with x = Tensor(x), no requires_grad",
               "__matmul__, __add__ or relu",
               lambda n, d, m: {"x": (n, d), "w": (d, m), "b": (m,)},
               lambda x, w, b: (x @ w + b).relu(), requires=("w", "b")),
)


def _tensor_inputs(rng: np.random.Generator, expr: TensorExpr, shape: tuple) -> dict:
    inputs = {}
    for name, s in expr.shapes(*shape).items():
        inputs[name] = away_from(rng, s, margin=0.05) if name in expr.kinks else (
            rng.standard_normal(s))
    return inputs


@dataclass
class TensorOpsExercise(EngineExercise):
    """The tensor engine's operations: ``check(id, Tensor, seeds=[...], shapes=[(N, D, M)])``.

    Each expression runs on ``Tensor(array)`` leaves and on torch; ``out.backward(G)`` with a
    random upstream ``G``; forward values and every leaf's ``.grad`` are compared.
    """

    tol: Tolerance = TOL

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> list[Case]:
        found = []
        for seed, shape, rng in seeded(seeds, shapes):
            for number, expr in enumerate(TENSOR_EXPRS):
                inputs = _tensor_inputs(rng, expr, tuple(shape))
                found.append(self.case(
                    seed=seed, inputs=inputs,
                    data={"expr": expr, "upstream_seed": seed * 100 + number},
                    description=f"{expr.text}; out.backward(G) with random G, seed={seed}, "
                    + ", ".join(f"{k}.shape={v.shape}" for k, v in inputs.items())))
        return found

    def prepare(self, case: Case) -> None:
        torch = torchref.torch
        expr = case.data["expr"]
        tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=expr.requires_grad(k))
                   for k, v in case.inputs.items()}
        out = expr.build(**tensors)
        upstream = np.random.default_rng(case.data["upstream_seed"]).standard_normal(
            tuple(out.shape))
        out.backward(torch.tensor(upstream))
        grads = {k: None if t.grad is None else t.grad.numpy().copy() for k, t in tensors.items()}
        alternatives: dict[str, list] = {k: [] for k in case.inputs}
        for name in expr.reuse:
            alternatives[name].append(("autodiff_hint_accumulate", grads[name] / 2))
        if expr.mutants is not None:
            for name, options in expr.mutants(case.inputs, upstream).items():
                alternatives[name] += options
        case.data.update(out=out.detach().numpy().copy(), upstream=upstream, grads=grads,
                         alternatives=alternatives)

    def drive(self, steps: Steps, case: Case, Tensor: Any) -> dict:
        __tracebackhide__ = True
        cls = class_name(Tensor, "Tensor")
        require_callable(case, cls, Tensor)
        expr = case.data["expr"]
        leaves = leaf_steps(steps, Tensor, cls, case.inputs, expr.requires)
        out = expr.build(**{k: Traced(steps, ref, cls) for k, ref in leaves.items()}).ref
        return {
            "cls": cls,
            "data": steps.attr(out, "data", name=f"{cls}.{expr.methods}"),
            "before": {k: steps.attr(ref, "grad", name=cls) for k, ref in leaves.items()},
            "backward": steps.method(out, "backward", case.data["upstream"], name=f"{cls}.backward",
                                     arg_names=("grad",), fetch=False,
                                     unchanged=list(leaves.values())),
            "grads": {k: steps.attr(ref, "grad", name=f"{cls}.backward")
                      for k, ref in leaves.items()},
        }

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        expr, cls = case.data["expr"], plan["cls"]
        data = read_array(case, done, plan["data"], f"{cls}.{expr.methods}", cls)
        compare_array(case, "out.data", case.data["out"], data, tol=self.tol,
                      header_key="hdr_mismatch_autograd")
        for name, ref in plan["before"].items():
            expect_no_grad(case, done, ref, name, cls, "autodiff_grad_before")
        backward(case, done, plan["backward"])
        for name, ref in plan["grads"].items():
            if not expr.requires_grad(name):
                expect_no_grad(case, done, ref, name, cls, "autodiff_grad_not_required")
                continue
            grad = read_array(case, done, ref, f"{cls}.backward", cls)
            compare_array(case, f"{name}.grad", case.data["grads"][name], grad, tol=self.tol,
                          alternatives=case.data["alternatives"][name],
                          header_key="hdr_mismatch_autograd")


register(TensorOpsExercise(
    id="tensor_ops",
    answer_text=("out.grad @ other.data.T", "self.data.T @ out.grad",
                 "(self.data > 0) * out.grad", "/ self.data.size"),
    **numbered("4.5", "tensor operations: @, relu, sum, mean",
               "张量运算：矩阵乘法、relu、sum、mean", ASSIGNMENT),
))


def _judge_loss(case: Case, done: Done, plan: dict, function: str, tol: Tolerance) -> int:
    """A loss on the tensor engine: the call, the loss's ``.data`` against torch, then its
    ``backward()`` ran; the batch size N, which the gradients' diagnoses use."""
    __tracebackhide__ = True
    n = len(case.inputs["y"])
    step_value(case, done, plan["call"])
    data = read_array(case, done, plan["data"], function, plan["cls"])
    compare(case, "loss", case.data["loss"], data, tol=tol, batch_size=n,
            header_key="hdr_mismatch_autograd")
    backward(case, done, plan["backward"])
    return n


@dataclass
class CrossEntropyExercise(EngineExercise):
    """``cross_entropy(logits, y) -> Tensor``: mean log-softmax cross-entropy and its gradient.

    ``check(id, Tensor, cross_entropy, seeds=[...], shapes=[(N, C)], scale=1.0)``; the loss is
    back-propagated with a random upstream gradient g, so a backward that ignores
    ``out.grad`` cannot pass.
    """

    tol: Tolerance = TOL

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   scale: float = 1.0) -> list[Case]:
        found = []
        for seed, (n, c), rng in seeded(seeds, shapes):
            inputs = {"logits": rng.standard_normal((n, c)) * 2.0 * scale,
                      "y": rng.integers(0, c, size=n)}
            found.append(self.case(seed=seed, inputs=inputs,
                                   data={"g": float(rng.uniform(0.5, 2.0))}))
        return found

    def prepare(self, case: Case) -> None:
        torch = torchref.torch
        t = torch.tensor(case.inputs["logits"], requires_grad=True)
        loss = torch.nn.functional.cross_entropy(t, torch.tensor(case.inputs["y"]))
        loss.backward(torch.tensor(case.data["g"], dtype=torch.float64))
        case.data.update(loss=loss.detach().numpy().copy(), dlogits=t.grad.numpy().copy())

    def drive(self, steps: Steps, case: Case, Tensor: Any, cross_entropy: Any) -> dict:
        __tracebackhide__ = True
        cls = class_name(Tensor, "Tensor")
        require_callable(case, cls, Tensor)
        require_callable(case, "cross_entropy", cross_entropy)
        leaf = steps.call(Tensor, case.inputs["logits"], name=cls, arg_names=("logits",),
                          fetch=False, requires_grad=True)
        loss = steps.call(cross_entropy, leaf, case.inputs["y"], name="cross_entropy",
                          arg_names=("logits", "y"), fetch=False, unchanged=[leaf])
        return {"cls": cls, "call": loss, "data": steps.attr(loss, "data", name="cross_entropy"),
                "backward": steps.method(loss, "backward", np.array(case.data["g"]),
                                         name=f"{cls}.backward", fetch=False, unchanged=[leaf]),
                "grad": steps.attr(leaf, "grad", name="cross_entropy")}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        n = _judge_loss(case, done, plan, "cross_entropy", self.tol)
        grad = read_array(case, done, plan["grad"], "cross_entropy", plan["cls"])
        compare_array(case, "logits.grad", case.data["dlogits"], grad, tol=self.tol,
                      batch_size=n,
                      alternatives=[("hint_ignores_upstream",
                                     case.data["dlogits"] / case.data["g"])],
                      header_key="hdr_mismatch_autograd")


register(CrossEntropyExercise(
    id="cross_entropy",
    answer_text=("\\operatorname{softmax}(Z) - \\operatorname{onehot}(y)",
                 "dlogits / n * out.grad"),
    **numbered("4.6", "cross-entropy on the tensor engine", "张量引擎上的交叉熵", ASSIGNMENT),
))


def mlp_params(rng: np.random.Generator, num_inputs: int, num_hiddens: int,
               num_outputs: int) -> dict[str, np.ndarray]:
    return {
        "W1": rng.standard_normal((num_inputs, num_hiddens)) / np.sqrt(num_inputs),
        "b1": rng.standard_normal(num_hiddens) * 0.1,
        "W2": rng.standard_normal((num_hiddens, num_outputs)) / np.sqrt(num_hiddens),
        "b2": rng.standard_normal(num_outputs) * 0.1,
    }


@dataclass
class MlpLossExercise(EngineExercise):
    """``mlp_loss(params, X, y) -> Tensor`` for params of Tensors: loss and every parameter's
    ``.grad`` after ``loss.backward()``, against torch.

    ``check(id, Tensor, mlp_loss, seeds=[...], shapes=[(N, num_inputs, num_hiddens, C)])``.
    """

    tol: Tolerance = TOL

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> list[Case]:
        found = []
        for seed, (n, d, h, c), rng in seeded(seeds, shapes):
            params = mlp_params(rng, d, h, c)
            X = rng.standard_normal((n, d))
            y = rng.integers(0, c, size=n)
            found.append(self.case(seed=seed, inputs={"X": X, "y": y, **params}))
        return found

    def prepare(self, case: Case) -> None:
        torch = torchref.torch
        tp = {k: torch.tensor(case.inputs[k], requires_grad=True) for k in PARAMS}
        hidden = torch.relu(torch.tensor(case.inputs["X"]) @ tp["W1"] + tp["b1"])
        loss = torch.nn.functional.cross_entropy(hidden @ tp["W2"] + tp["b2"],
                                                 torch.tensor(case.inputs["y"]))
        loss.backward()
        case.data.update(loss=loss.detach().numpy().copy(),
                         grads={k: t.grad.numpy().copy() for k, t in tp.items()})

    def drive(self, steps: Steps, case: Case, Tensor: Any, mlp_loss: Any) -> dict:
        __tracebackhide__ = True
        cls = class_name(Tensor, "Tensor")
        require_callable(case, cls, Tensor)
        require_callable(case, "mlp_loss", mlp_loss)
        leaves = leaf_steps(steps, Tensor, cls, {k: case.inputs[k] for k in PARAMS})
        params = dict_step(steps, leaves, "params")
        loss = steps.call(mlp_loss, params, case.inputs["X"], case.inputs["y"], name="mlp_loss",
                          arg_names=("params", "X", "y"), fetch=False,
                          unchanged=list(leaves.values()))
        return {"cls": cls, "call": loss, "data": steps.attr(loss, "data", name="mlp_loss"),
                "backward": steps.method(loss, "backward", name=f"{cls}.backward", fetch=False,
                                         unchanged=list(leaves.values())),
                "grads": {k: steps.attr(ref, "grad", name="mlp_loss")
                          for k, ref in leaves.items()}}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        n = _judge_loss(case, done, plan, "mlp_loss", self.tol)
        for name, ref in plan["grads"].items():
            grad = read_array(case, done, ref, "mlp_loss", plan["cls"])
            compare_array(case, f"params['{name}'].grad", case.data["grads"][name], grad,
                          tol=self.tol, batch_size=n, header_key="hdr_mismatch_autograd")


PARAMS = ("W1", "b1", "W2", "b2")

register(MlpLossExercise(
    id="mlp_loss",
    answer_text=('(Tensor(X) @ params["W1"] + params["b1"]).relu()',),
    **numbered("4.7", "the MLP loss on the tensor engine", "用张量引擎计算 MLP 的损失", ASSIGNMENT),
))

