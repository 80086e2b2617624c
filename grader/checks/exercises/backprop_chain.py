"""Assignment 03 · 手推反向传播: the chain rule on scalars, and the four gates.

Exercises 3.1 (one neuron, scalars in and out), 3.2a (the add, multiply, max and copy
rules) and 3.2b (a small graph that uses all four), and the questions asked next to them.
Expected values come from PyTorch autograd; what the classic mistakes return comes from
:mod:`grader.checks.references.backprop`, both only while a case is prepared. The shared
machinery (the cache guard, :class:`~grader.checks.exercises.backprop.CachedLayerSpec`)
lives in :mod:`grader.checks.exercises.backprop`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import Case, CheckFailure, Tolerance, as_tuple, compare_array
from grader.checks.exercises import register
from grader.checks.exercises.backprop import (
    ASSIGNMENT,
    CachedLayerSpec,
    _check_cache,
    _ref,
    _torch,
)
from grader.checks.questions import questions
from grader.checks.specs import Exercise, _unpack, away_from, function_name, numbered, seeded
from grader.checks.steps import Done, Steps

M.register(
    {
        "backprop_neuron_cache": (
            "`{function}` should return (L, cache) where cache is a dict holding the forward "
            "values, with at least the keys 'z' and 'h'; found {found}.",
            "`{function}` 应当返回 (L, cache)，其中 cache 是保存前向数值的 dict，"
            "至少包含键 'z' 和 'h'；实际得到 {found}。",
        ),
        "backprop_dw_missing_x": (
            "Likely mistake: dL/dw = dL/dz · x. The weight is multiplied by x in the forward "
            "pass, so its gradient is multiplied by x.",
            "可能的错误：dL/dw = dL/dz · x。前向传播中权重乘以 x，所以它的梯度也要乘以 x。",
        ),
        "backprop_db_is_dz": (
            "Likely mistake: the bias enters z = w·x + b with coefficient 1, so dL/db = dL/dz.",
            "可能的错误：偏置以系数 1 进入 z = w·x + b，所以 dL/db = dL/dz。",
        ),
        "backprop_mul_swap": (
            "Likely mistake: a multiply gate swaps its inputs: for out = x·y, "
            "dx = dout·y and dy = dout·x.",
            "可能的错误：乘法门会交换输入：对 out = x·y，dx = dout·y，dy = dout·x。",
        ),
        "backprop_add_passes": (
            "Likely mistake: an add gate passes dout unchanged to both inputs.",
            "可能的错误：加法门把 dout 原样传给两个输入。",
        ),
        "backprop_max_route": (
            "Likely mistake: a max gate routes all of dout to the input that won the forward "
            "pass and 0 to the other.",
            "可能的错误：max 门把全部 dout 传给前向传播中取胜的那个输入，另一个输入得到 0。",
        ),
        "backprop_copy_sum": (
            "Likely mistake: a variable used twice (copy, fan-out) receives the sum of the "
            "gradients from both uses.",
            "可能的错误：被使用两次的变量（复制、扇出）得到两条路径梯度之和。",
        ),
        # --- the questions' hints -----------------------------------------------------
        "q3_1_one_path": (
            "That is the gradient along one use of x. x enters the multiply gate twice (a "
            "copy), so the gradients arriving along both uses add up.",
            "这只是沿 x 的一次使用传回的梯度。x 两次进入乘法门（一次复制），两条路径传回的梯度要相加。",
        ),
        "q3_1_value": (
            "9 is the value f(3) = 3·3, not its derivative.",
            "9 是函数值 f(3) = 3·3，不是导数。",
        ),
        "q3_1_add": (
            "1 is what an add gate passes on. A multiply gate swaps: each input receives dout "
            "times the other input.",
            "1 是加法门传下去的梯度。乘法门会交换：每个输入得到 dout 乘以另一个输入。",
        ),
        "q3_2_dw": (
            "That is the shape of W, and of dW. The Jacobian has one entry for every pair "
            "(element of out, element of W).",
            "这是 W（也是 dW）的形状。雅可比矩阵对每一对（out 的一个元素，W 的一个元素）都有一项。",
        ),
        "q3_2_out": (
            "That is the shape of out (and of dout), not of the Jacobian.",
            "这是 out（以及 dout）的形状，不是雅可比矩阵的形状。",
        ),
        "q3_2_x": (
            "That is the shape of X. The Jacobian relates out to W.",
            "这是 X 的形状。雅可比矩阵描述的是 out 与 W 之间的关系。",
        ),
    }
)

def _as_scalar(value: Any) -> Any:
    try:
        array = np.asarray(value, dtype=np.float64)
    except Exception:
        return value
    return array.reshape(()) if array.size == 1 else array


def _stack(values: list) -> Any:
    try:
        return np.stack([np.asarray(v, dtype=np.float64) for v in values])
    except Exception:
        return values[0] if len(values) == 1 else np.asarray(values, dtype=object)


# ------------------------------------------------------- 3.1 the chain rule on one neuron

NEURON_KEYS = ("L", "z", "h", "dh", "dz", "dw", "db")


def _neuron_reference(w: float, x: float, b: float, y: float) -> dict[str, float]:
    torch = _torch()
    t = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=k in "wb")
         for k, v in {"w": w, "x": x, "b": b, "y": y}.items()}
    z = t["w"] * t["x"] + t["b"]
    z.retain_grad()
    h = torch.sigmoid(z)
    h.retain_grad()
    loss = 0.5 * (h - t["y"]) ** 2
    loss.backward()
    return {"L": loss.item(), "z": z.item(), "h": h.item(), "dh": h.grad.item(),
            "dz": z.grad.item(), "dw": t["w"].grad.item(), "db": t["b"].grad.item()}


@dataclass
class NeuronSpec(Exercise):
    """``neuron_forward(w, x, b, y) -> (L, cache)``, ``neuron_backward(cache) -> (dh, dz, dw, db)``.

    Scalars in, scalars out. A case is a group of four neurons, compared stacked, so that a
    failure can say whether every one is off in the same way.
    """

    needs_solution: ClassVar[bool] = True
    tol: Tolerance = field(default_factory=Tolerance)

    def make_cases(self, *, seeds: Sequence[int] = (), cases: Sequence = ()) -> list[Case]:
        groups = []
        for seed in seeds:
            rng = np.random.default_rng(seed)
            group = []
            for _ in range(4):
                w, x, b = (float(v) for v in rng.standard_normal(3) * 1.5)
                group.append((w, x, b, float(rng.uniform(0, 1))))
            groups.append(group)
        if cases:
            groups.append([tuple(float(v) for v in c) for c in cases])
        found = []
        for group in groups:
            shown = "; ".join(f"{i}: ({w:.4g}, {x:.4g}, {b:.4g}, {y:.4g})"
                              for i, (w, x, b, y) in enumerate(group))
            found.append(self.case(description=f"(w, x, b, y) = {shown}",
                                   data={"group": group}))
        return found

    def prepare(self, case: Case) -> None:
        group = case.data["group"]
        expected = {k: np.array([_neuron_reference(*c)[k] for c in group]) for k in NEURON_KEYS}
        case.data["expected"] = expected
        case.data["alternatives"] = _ref().neuron_hints(
            expected, np.array([c[0] for c in group]), np.array([c[1] for c in group]))

    def drive(self, steps: Steps, case: Case, forward: Any, backward: Any) -> dict:
        names = {"forward": function_name(forward, "neuron_forward"),
                 "backward": function_name(backward, "neuron_backward")}
        # Every forward pass first, then the backward passes in reverse order: a backward that
        # reads anything but the cache it is given (a global, the last call) cannot pass.
        forwards = [steps.call(forward, w, x, b, y, name=names["forward"],
                               arg_names=("w", "x", "b", "y")) for w, x, b, y in case.data["group"]]
        backwards = {fwd.index: steps.call(backward, steps.item(fwd, 1), name=names["backward"],
                                           arg_names=("cache",)) for fwd in reversed(forwards)}
        calls = [(fwd, backwards[fwd.index], steps.item(fwd, 1, fetch=True)) for fwd in forwards]
        return {"names": names, "calls": calls}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        fwd_name, bwd_name = plan["names"]["forward"], plan["names"]["backward"]
        found: dict[str, list] = {k: [] for k in NEURON_KEYS}
        for fwd, bwd, after in plan["calls"]:
            loss, cache = _unpack(case, fwd_name, done.value(case, fwd), ("L", "cache"))
            if not isinstance(cache, dict) or not {"z", "h"} <= set(cache):
                raise CheckFailure(
                    "\n".join([case.header("hdr_wrong", name="cache"),
                               M.bilingual("backprop_neuron_cache", indent="  ",
                                           function=fwd_name,
                                           found=type(cache).__name__
                                           if not isinstance(cache, dict)
                                           else f"keys {sorted(map(str, cache))}")]),
                    kind="type", exercise=self.id)
            found["L"].append(_as_scalar(loss))
            found["z"].append(_as_scalar(cache["z"]))
            found["h"].append(_as_scalar(cache["h"]))
            if done[bwd].status == "ok":
                _check_cache(case, bwd_name, cache, done[after].value)
            grads = _unpack(case, bwd_name, done.value(case, bwd), ("dh", "dz", "dw", "db"))
            for key, value in zip(("dh", "dz", "dw", "db"), grads, strict=True):
                found[key].append(_as_scalar(value))
        for key in NEURON_KEYS:
            name = {"z": "cache['z']", "h": "cache['h']"}.get(key, key)
            compare_array(case, name, case.data["expected"][key], _stack(found[key]),
                          tol=self.tol, alternatives=case.data["alternatives"].get(key, []),
                          header_key="hdr_mismatch_autograd")


register(NeuronSpec(id="neuron_chain", **numbered("3.1", "the chain rule on one neuron",
                                                  "单个神经元上的链式法则", ASSIGNMENT),
                    answer_text=("h(1 - h)", "h * (1 - h)", "\\sigma(z)(1 - \\sigma(z))")))


# ------------------------------------------------------------------- 3.2a gate rules


def _pair_away(rng: np.random.Generator, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    x = rng.standard_normal(shape)
    y = x + away_from(rng, shape, kinks=(0.0,), margin=0.05)
    return x, y


GATES = {"add_backward": lambda x, y: x + y, "mul_backward": lambda x, y: x * y,
         "max_backward": lambda x, y: _torch().maximum(x, y)}


@dataclass
class GateRulesSpec(Exercise):
    """The four local rules: add, mul, max ``(dout, x, y) -> (dx, dy)``; copy ``(da, db) -> dx``."""

    needs_solution: ClassVar[bool] = True
    tol: Tolerance = field(default_factory=Tolerance)

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> list[Case]:
        found = []
        for seed, shape, rng in seeded(seeds, shapes):
            x, y = _pair_away(rng, tuple(shape))
            dout = rng.standard_normal(tuple(shape))
            found.append(self.case(seed=seed, inputs={"dout": dout, "x": x, "y": y},
                                   data={"gates": list(GATES)}))
            found.append(self.case(seed=seed, data={"gates": ["copy_backward"]}, inputs={
                "dout_a": dout, "dout_b": rng.standard_normal(tuple(shape))}))
        return found

    def prepare(self, case: Case) -> None:
        if case.data["gates"] == ["copy_backward"]:
            da, db = case.inputs["dout_a"], case.inputs["dout_b"]
            _, grads = torchref.evaluate(lambda x: _torch().stack([x, x]), {"x": da}, ("x",),
                                         np.stack([da, db]))
            case.data["expected"] = {"copy_backward": {"x": grads["x"]}}
            case.data["alternatives"] = {"copy_backward": {"x": _ref().copy_hints(da, db)}}
            return
        dout, x, y = case.inputs["dout"], case.inputs["x"], case.inputs["y"]
        case.data["expected"] = {
            gate: torchref.evaluate(GATES[gate], {"x": x, "y": y}, ("x", "y"), dout)[1]
            for gate in GATES}
        case.data["alternatives"] = _ref().gate_hints(dout, x, y)

    def drive(self, steps: Steps, case: Case, add_backward: Any, mul_backward: Any,
              max_backward: Any, copy_backward: Any) -> list:
        student = {"add_backward": add_backward, "mul_backward": mul_backward,
                   "max_backward": max_backward, "copy_backward": copy_backward}
        arg_names = ("dout_a", "dout_b") if "dout_a" in case.inputs else ("dout", "x", "y")
        plan = []
        for gate in case.data["gates"]:
            name = function_name(student[gate], gate)
            plan.append((gate, name, steps.call(student[gate], *case.inputs.values(), name=name,
                                                arg_names=arg_names)))
        return plan

    def judge(self, case: Case, done: Done, plan: list) -> None:
        __tracebackhide__ = True
        for gate, name, call in plan:
            wrt = ("x",) if gate == "copy_backward" else ("x", "y")
            returned = _unpack(case, name, as_tuple(done.value(case, call)),
                               [f"d{v}" for v in wrt])
            for var, value in zip(wrt, returned, strict=True):
                compare_array(case, f"d{var} ({name})", case.data["expected"][gate][var], value,
                              tol=self.tol,
                              alternatives=case.data["alternatives"][gate].get(var, []),
                              header_key="hdr_mismatch_autograd")


register(GateRulesSpec(id="gate_rules", **numbered("3.2a", "the four gate rules",
                                                   "四种门的反向规则", ASSIGNMENT),
                       answer_text=("dout * (x > y)", "dout_a + dout_b", "dout * y")))


# ------------------------------------------------------------ 3.2b a small graph


def _graph_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    x = rng.standard_normal(shape)
    y, z = _pair_away(rng, shape)
    return {"x": x, "y": y, "z": z}


register(CachedLayerSpec(
    id="gate_graph", **numbered("3.2b", "a small computation graph", "一个小计算图", ASSIGNMENT),
    make_inputs=_graph_inputs,
    reference=lambda x, y, z: (x + y) * y.maximum(z), grads=("x", "y", "z"),
    mutants=lambda *a: _ref().graph_mutants(*a),
    answer_text=("mul_backward(dout, q, m)", "copy_backward(dy_add, dy_max)")))


# ------------------------------------------------------------------------ questions

for question in questions(ASSIGNMENT, "q3_1", "q3_2"):
    register(question)
