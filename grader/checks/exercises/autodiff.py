"""Assignment 04 · 计算图与自动微分: a scalar engine and a tensor engine, checked against autograd.

The student's classes are used only through their public API: the constructors
``Value(float)`` and ``Tensor(array)``, Python operators, the methods ``exp``, ``log``,
``tanh``, ``relu``, ``sigmoid``, ``sum``, ``mean`` and ``backward``, and the attributes
``.data`` and ``.grad``, read back as plain floats or arrays. Nothing private
(``_prev``, ``_backward``) is touched.

Every check writes the student's program down as :class:`~grader.checks.steps.Steps`
(``Value(x)`` is a call, ``a * b`` an operator step, ``a.tanh()`` a method step, ``.data``
and ``.grad`` attribute steps; a node is a :class:`~grader.checks.steps.Ref` to what an
earlier step made), so that one check call is one message to the grading sandbox and
runs with the same code in the student's kernel. Expressions are written once and
traced (:class:`Traced`): the same ``lambda a, b: a * b`` runs on float64 torch tensors for
the reference and on traced nodes for the student's engine.

A scalar check runs *programs*: a list of instructions (leaves, then operations on
earlier nodes or constants), generated from a seed or written by hand. The same
program runs on the student's ``Value`` and on torch (``retain_grad`` on every node and on
every single use of a node), so every node's ``.data`` and ``.grad`` has an expected value,
and so does each use's contribution to a gradient. When a gradient is wrong, the first
wrong node in reverse order (all its users are right) tells what kind of mistake it is: a
node used twice that kept one contribution (``=`` instead of ``+=``), a local derivative
(caught earlier by the one-operation cases), or the order in which ``backward()`` visits
the graph.
"""

from __future__ import annotations

import contextlib
import gc
import math
import re
from collections.abc import Callable, Iterator, Sequence
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
    report_pass,
    require_callable,
)
from grader.checks.exercises import register
from grader.checks.policy import strict_gradients
from grader.checks.specs import Exercise, away_from
from grader.checks.steps import Done, Ref, Steps

ASSIGNMENT = "04_autodiff"

__all__ = [
    "OPS",
    "Program",
    "random_program",
    "torch_run",
    "Traced",
    "ValueExercise",
    "UnbroadcastExercise",
    "TensorOpsExercise",
    "CrossEntropyExercise",
    "MlpLossExercise",
]

M.register(
    {
        "autodiff_hdr_data": ("`{node}.data` is wrong", "`{node}.data` 不正确"),
        "autodiff_hdr_grad": (
            "`{node}.grad` does not match PyTorch autograd",
            "`{node}.grad` 与 PyTorch 自动微分的结果不一致",
        ),
        "autodiff_hdr_not_value": (
            "`{function}` did not return a node",
            "`{function}` 没有返回节点",
        ),
        "autodiff_not_value": (
            "`{function}` should return a new {cls} whose `.{attr}` is {what}, but it "
            "returned {found}.",
            "`{function}` 应当返回一个新的 {cls}，其 `.{attr}` 是{what}，实际返回了 {found}。",
        ),
        "autodiff_hint_return": (
            "Did you forget `return out` at the end of the method?",
            "是否忘了在方法末尾写 `return out`？",
        ),
        "autodiff_what_number": ("a number", "一个数"),
        "autodiff_what_array": ("an array", "一个数组"),
        "autodiff_found_object": (
            "an object without `.{attr}`",
            "一个没有 `.{attr}` 的对象",
        ),
        "autodiff_found_other": (
            "an object that is not a number",
            "一个不是数的对象",
        ),
        "autodiff_bad_grad": (
            "`{node}.grad` should be a number after backward(), found {found}.",
            "调用 backward() 之后 `{node}.grad` 应当是一个数，实际是 {found}。",
        ),
        "autodiff_wrong_data": (
            "`{node} = {expr}` should have data {expected}, but has {found} "
            "(computed by your `{function}`).",
            "`{node} = {expr}` 的 data 应当是 {expected}，实际是 {found}"
            "（由你的 `{function}` 计算）。",
        ),
        "autodiff_wrong_grad": (
            "`{node}.grad` (that is dL/d{node}) should be {expected}, but is {found}.",
            "`{node}.grad`（即 dL/d{node}）应当是 {expected}，实际是 {found}。",
        ),
        "autodiff_used_by": (
            "`{node}` is used by: {uses}. Their own gradients are right, so the mistake is "
            "in what reaches `{node}` from them.",
            "`{node}` 被这些节点使用：{uses}。它们自己的梯度是对的，所以错误出在它们传回给 "
            "`{node}` 的梯度上。",
        ),
        "autodiff_missing": (
            "Only part of it arrived: the contribution through {missing} is missing.",
            "只收到了一部分：经由 {missing} 传回的贡献丢失了。",
        ),
        "autodiff_program": (
            "The expression, to reproduce it (exactly this code):",
            "出错的表达式（运行下面这段代码即可复现）：",
        ),
        "autodiff_hint_output_grad": (
            "Likely mistake: after L.backward(), L.grad must be 1.0, because dL/dL = 1. "
            "Set it before walking the graph, and do not let the walk change it afterwards.",
            "可能的错误：L.backward() 之后 L.grad 必须是 1.0，因为 dL/dL = 1。"
            "在遍历计算图之前设置它，并且之后不要再改动它。",
        ),
        "autodiff_hint_accumulate": (
            "Likely mistake: a node used more than once loses some of its gradient "
            "contributions. In every _backward, add to the gradient (`+=`), never assign "
            "(`=`): a node's gradient is the sum over all of its uses.",
            "可能的错误：被使用了不止一次的节点丢失了一部分梯度贡献。在每个 _backward 中"
            "都要累加梯度（`+=`），而不是赋值（`=`）：节点的梯度是它所有用处贡献之和。",
        ),
        "autodiff_hint_order": (
            "Likely mistake: the order of backward(). Every operation passed on its own, so "
            "the graph walk is wrong: each node's _backward must run exactly once, and only "
            "after every node that uses it has run its own. Build a topological order "
            "(depth-first, with a `visited` set) and walk it in reverse.",
            "可能的错误：backward() 的顺序不对。每个运算单独检查时都正确，所以问题出在遍历计算图上："
            "每个节点的 _backward 必须恰好运行一次，而且要在所有使用它的节点都运行完之后。"
            "请先求拓扑排序（深度优先，并用 `visited` 集合去重），再逆序遍历。",
        ),
        "autodiff_hint_order_zero": (
            "Likely mistake: the order of backward(). Nothing reached the inputs: a node ran "
            "its _backward while its own .grad was still 0. Walk the topological order in "
            "reverse, from the output back to the leaves.",
            "可能的错误：backward() 的顺序不对。梯度没有传到输入："
            "某个节点在自己的 .grad 还是 0 的时候就运行了 _backward。"
            "请逆序遍历拓扑排序，从输出一直走回叶子节点。",
        ),
        "autodiff_hint_upstream": (
            "Likely mistake: the local derivative is not multiplied by `out.grad`, the "
            "gradient arriving from the output. Chain rule: input.grad += local * out.grad.",
            "可能的错误：局部导数没有乘以 `out.grad`（从输出传回来的梯度）。"
            "链式法则：input.grad += 局部导数 * out.grad。",
        ),
        "autodiff_hint_mul_swap": (
            "Likely mistake: multiplication swaps its inputs in backward: "
            "d(x*y)/dx = y and d(x*y)/dy = x.",
            "可能的错误：乘法在反向传播时要交换输入：d(x*y)/dx = y，d(x*y)/dy = x。",
        ),
        "autodiff_hint_pow": (
            "Likely mistake: the derivative of x**k is k * x**(k - 1): keep the factor k "
            "and lower the exponent by one.",
            "可能的错误：x**k 的导数是 k * x**(k - 1)：要保留系数 k，并把指数减一。",
        ),
        "autodiff_hint_exp": (
            "Likely mistake: the derivative of exp(x) is exp(x) itself, that is `out.data`.",
            "可能的错误：exp(x) 的导数就是 exp(x) 本身，也就是 `out.data`。",
        ),
        "autodiff_hint_log": (
            "Likely mistake: the derivative of log(x) is 1/x, where x is the input "
            "(`self.data`).",
            "可能的错误：log(x) 的导数是 1/x，其中 x 是输入（`self.data`）。",
        ),
        "autodiff_hint_tanh": (
            "Likely mistake: the derivative of tanh is 1 - tanh(x)**2, computed from the "
            "output t = `out.data` and squared: 1 - t**2.",
            "可能的错误：tanh 的导数是 1 - tanh(x)**2，要用输出 t = `out.data` 并平方：1 - t**2。",
        ),
        "autodiff_hint_sigmoid": (
            "Likely mistake: the derivative of the sigmoid is s * (1 - s), where s is the "
            "output (`out.data`), not the input.",
            "可能的错误：sigmoid 的导数是 s * (1 - s)，其中 s 是输出（`out.data`），而不是输入。",
        ),
        "autodiff_hint_relu": (
            "Likely mistake: the derivative of ReLU is 1 where the input is positive and 0 "
            "elsewhere: a mask, not the output value.",
            "可能的错误：ReLU 的导数在输入为正处是 1，其余处是 0：它是一个掩码，而不是输出值。",
        ),
        "autodiff_hint_not_reduced": (
            "Likely mistake: the gradient was not reduced. Sum it over the axes that "
            "broadcasting added in front, and over the axes where the input had size 1.",
            "可能的错误：梯度没有被约简。要沿广播在前面新增的维度求和，并沿输入大小为 1 的维度求和。",
        ),
        "autodiff_hint_keepdims": (
            "Likely mistake: the right numbers, but axes of size 1 were dropped. Sum those "
            "axes with keepdims=True, so the result has exactly the input's shape.",
            "可能的错误：数值对了，但大小为 1 的维度被去掉了。对这些维度求和时使用 keepdims=True，"
            "使结果的形状与输入完全相同。",
        ),
        "autodiff_hint_mean_size": (
            "Likely mistake: the mean's backward must divide by the number of elements "
            "(x.size): each element contributes 1/size of the mean.",
            "可能的错误：mean 的反向传播必须除以元素个数（x.size）：每个元素只占平均值的 1/size。",
        ),
        "autodiff_scalar": (
            "`{name}` should be {expected}, but is {found}.",
            "`{name}` 应当是 {expected}，实际是 {found}。",
        ),
        "autodiff_hint_sum_not_mean": (
            "Likely mistake: broadcast axes were averaged. Every copy made by broadcasting "
            "passes its whole gradient back, so sum them (np.sum), do not average.",
            "可能的错误：对广播的维度取了平均。广播产生的每一份副本都会把完整的梯度传回去，"
            "所以要求和（np.sum），而不是取平均。",
        ),
    }
)


#: The default tolerance, so that the one rule for gradients (grader.checks.policy) applies
#: here as everywhere: an analytic gradient in float64 agrees with autograd to about 1e-15.
TOL = Tolerance()


# ------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Op:
    """One operation a program may use, written once for every engine."""

    arity: str  # one letter per operand: "n" a node, "c" a plain number
    apply: Callable[..., Any]  # works on the student's Value, on torch tensors and on floats
    fmt: str  # how a program line reads: "{0} * {1}"
    method: str  # the method of the student's class that runs: "__mul__"
    value: Callable[..., float]  # float result, used only to keep generated programs in range
    valid: Callable[..., bool] = lambda *args: True


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _is_int(k: Any) -> bool:
    return isinstance(k, int)


def _pow_valid(x: float, k: Any) -> bool:
    if not _is_int(k) and x < 0.3:
        return False
    return not (k < 0 and abs(x) < 0.4)


OPS: dict[str, Op] = {
    "add": Op("nn", lambda a, b: a + b, "{0} + {1}", "__add__", lambda a, b: a + b),
    "addc": Op("nc", lambda a, c: a + c, "{0} + {1}", "__add__", lambda a, c: a + c),
    "mul": Op("nn", lambda a, b: a * b, "{0} * {1}", "__mul__", lambda a, b: a * b),
    "mulc": Op("nc", lambda a, c: a * c, "{0} * {1}", "__mul__", lambda a, c: a * c),
    "radd": Op("cn", lambda c, a: c + a, "{0} + {1}", "__radd__", lambda c, a: c + a),
    "rmul": Op("cn", lambda c, a: c * a, "{0} * {1}", "__rmul__", lambda c, a: c * a),
    "neg": Op("n", lambda a: -a, "-{0}", "__neg__", lambda a: -a),
    "sub": Op("nn", lambda a, b: a - b, "{0} - {1}", "__sub__", lambda a, b: a - b),
    "subc": Op("nc", lambda a, c: a - c, "{0} - {1}", "__sub__", lambda a, c: a - c),
    "rsub": Op("cn", lambda c, a: c - a, "{0} - {1}", "__rsub__", lambda c, a: c - a),
    "pow": Op("nc", lambda a, k: a**k, "{0} ** {1}", "__pow__", lambda a, k: a**k, _pow_valid),
    "div": Op("nn", lambda a, b: a / b, "{0} / {1}", "__truediv__", lambda a, b: a / b,
              lambda a, b: abs(b) >= 0.4),
    "divc": Op("nc", lambda a, c: a / c, "{0} / {1}", "__truediv__", lambda a, c: a / c),
    "rdiv": Op("cn", lambda c, a: c / a, "{0} / {1}", "__rtruediv__", lambda c, a: c / a,
               lambda c, a: abs(a) >= 0.4),
    "exp": Op("n", lambda a: a.exp(), "{0}.exp()", "exp", math.exp, lambda a: a <= 2.5),
    "log": Op("n", lambda a: a.log(), "{0}.log()", "log",
              lambda a: math.log(a) if a > 0 else math.nan, lambda a: a >= 0.3),
    "tanh": Op("n", lambda a: a.tanh(), "{0}.tanh()", "tanh", math.tanh),
    "relu": Op("n", lambda a: a.relu(), "{0}.relu()", "relu", lambda a: max(a, 0.0),
               lambda a: abs(a) >= 0.05),
    "sigmoid": Op("n", lambda a: a.sigmoid(), "{0}.sigmoid()", "sigmoid", _sigmoid),
}

CORE_OPS = ("add", "addc", "mul", "mulc")
ARITH_OPS = ("radd", "rmul", "neg", "sub", "subc", "rsub", "pow", "div", "divc", "rdiv")
FUNC_OPS = ("exp", "log", "tanh", "relu", "sigmoid")
ALL_OPS = CORE_OPS + ARITH_OPS + FUNC_OPS
POW_EXPONENTS = (2, 3, -1, -2, 0.5, 1.5, -0.5)


def _valid(name: str, args: Sequence[Any]) -> bool:
    op = OPS[name]
    if not op.valid(*args):
        return False
    try:
        result = op.value(*args)
    except (ArithmeticError, ValueError):
        return False
    return isinstance(result, float | int) and math.isfinite(result) and abs(result) <= 20.0


# --------------------------------------------------------------------------- programs


@dataclass(frozen=True)
class Instr:
    op: str  # "leaf" or a key of OPS
    args: tuple  # leaf: (value,); otherwise node indices ("n") and numbers ("c")


@dataclass
class Program:
    """Leaves, then operations on earlier nodes: a computation graph written down in order."""

    instrs: list[Instr] = field(default_factory=list)
    values: list[float] = field(default_factory=list)  # float forward values (for generation)

    def leaf(self, value: float) -> int:
        self.instrs.append(Instr("leaf", (float(value),)))
        self.values.append(float(value))
        return len(self.instrs) - 1

    def op(self, name: str, *args: Any) -> int:
        op = OPS[name]
        floats = [self.values[a] if kind == "n" else a
                  for kind, a in zip(op.arity, args, strict=True)]
        self.instrs.append(Instr(name, tuple(args)))
        self.values.append(float(op.value(*floats)))
        return len(self.instrs) - 1

    def operands(self, index: int) -> list[int]:
        instr = self.instrs[index]
        if instr.op == "leaf":
            return []
        return [a for kind, a in zip(OPS[instr.op].arity, instr.args, strict=True) if kind == "n"]

    def uses(self, index: int) -> list[tuple[int, int]]:
        """(user, operand position) for every place where node ``index`` is an operand."""
        found = []
        for j, instr in enumerate(self.instrs):
            if instr.op == "leaf":
                continue
            for pos, (kind, a) in enumerate(zip(OPS[instr.op].arity, instr.args, strict=True)):
                if kind == "n" and a == index:
                    found.append((j, pos))
        return found

    def names(self) -> list[str]:
        names, letters, count = [], "abcdefghijk", 0
        for i, instr in enumerate(self.instrs):
            if instr.op == "leaf":
                names.append(letters[len(names)] if len(names) < len(letters) else f"x{i}")
            elif i == len(self.instrs) - 1:
                names.append("L")
            else:
                count += 1
                names.append(f"v{count}")
        return names

    def expr(self, index: int, names: Sequence[str]) -> str:
        instr = self.instrs[index]
        if instr.op == "leaf":
            return f"Value({instr.args[0]!r})"
        op = OPS[instr.op]
        parts = [names[a] if kind == "n" else f"({a!r})" if a < 0 else repr(a)
                 for kind, a in zip(op.arity, instr.args, strict=True)]
        return op.fmt.format(*parts)

    def text(self) -> list[str]:
        names = self.names()
        lines = [f"{names[i]} = {self.expr(i, names)}" for i in range(len(self.instrs))]
        return [*lines, f"{names[-1]}.backward()"]


def _leaf_value(rng: np.random.Generator) -> float:
    x = float(rng.uniform(0.2, 2.0)) * (1 if rng.random() < 0.5 else -1)
    return round(x, 3)


def _constant(rng: np.random.Generator, name: str) -> Any:
    if name == "pow":
        return POW_EXPONENTS[int(rng.integers(len(POW_EXPONENTS)))]
    while True:
        c = round(float(rng.uniform(0.3, 2.5)), 1) * (1 if rng.random() < 0.5 else -1)
        if abs(abs(c) - 1.0) > 1e-9:
            return c


def _pick_node(rng: np.random.Generator, count: int) -> int:
    if rng.random() < 0.6:
        return int(count - 1 - rng.integers(min(3, count)))
    return int(rng.integers(count))


def random_program(rng: np.random.Generator, ops: Sequence[str], num_leaves: int,
                   num_ops: int) -> Program:
    """A random expression DAG over ``ops``, with at least one node used twice.

    Operands favour recent nodes and sometimes repeat (``v * v``), so sub-expressions
    are shared. Every node stays within [-20, 20] and away from the points where an
    operation is undefined or not differentiable. Nodes nobody uses are summed into
    the output, so every operation feeds the loss.
    """
    while True:
        program = Program()
        for _ in range(num_leaves):
            program.leaf(_leaf_value(rng))
        for _ in range(num_ops):
            for _attempt in range(200):
                name = ops[int(rng.integers(len(ops)))]
                op = OPS[name]
                args: list[Any] = []
                for kind in op.arity:
                    if kind == "c":
                        args.append(_constant(rng, name))
                    elif args and op.arity == "nn" and rng.random() < 0.15:
                        args.append(args[0])  # the same node twice: v * v, v + v
                    else:
                        args.append(_pick_node(rng, len(program.instrs)))
                floats = [program.values[a] if k == "n" else a
                          for k, a in zip(op.arity, args, strict=True)]
                if _valid(name, floats):
                    program.op(name, *args)
                    break
        used = {a for i in range(len(program.instrs)) for a in program.operands(i)}
        sinks = [i for i in range(num_leaves, len(program.instrs)) if i not in used]
        total = sinks[0]
        for sink in sinks[1:]:
            total = program.op("add", total, sink)
        shared = any(len(program.uses(i)) >= 2 for i in range(len(program.instrs) - 1))
        if shared:
            return program


# --------------------------------------------------------- fixed scalar expressions


def _core_fixed() -> list[Program]:
    out = []
    p = Program()  # a diamond: v1 feeds v2 and v3, v2 feeds v3 and L
    a, b = p.leaf(1.5), p.leaf(-0.8)
    v1 = p.op("mul", a, b)
    v2 = p.op("add", v1, a)
    v3 = p.op("mul", v2, v1)
    p.op("add", v3, v2)
    out.append(p)
    p = Program()  # repeated squaring: every step uses the previous node twice
    a = p.leaf(0.9)
    v = a
    for _ in range(3):
        v = p.op("add", p.op("mul", v, v), a)
    p.op("mulc", v, 2.5)
    out.append(p)
    p = Program()  # x feeds four places; z feeds three
    x = p.leaf(-4.0)
    z = p.op("add", p.op("addc", p.op("mulc", x, 2.0), 2.0), x)
    q = p.op("add", p.op("mul", z, x), z)
    h = p.op("mul", z, z)
    p.op("add", p.op("add", h, q), p.op("mul", q, x))
    out.append(p)
    return out


def _arith_fixed() -> list[Program]:
    out = []
    p = Program()
    a, b = p.leaf(-4.0), p.leaf(2.0)
    c = p.op("add", a, b)
    d = p.op("add", p.op("mul", a, b), p.op("pow", b, 3))
    e = p.op("sub", c, d)
    f = p.op("pow", e, 2)
    g = p.op("divc", f, 2.0)
    h = p.op("rdiv", 10.0, f)
    p.op("add", p.op("sub", g, h), p.op("neg", a))
    out.append(p)
    p = Program()
    x, y = p.leaf(1.7), p.leaf(0.6)
    r = p.op("div", x, y)
    s = p.op("rsub", 3.0, p.op("mul", r, y))
    t = p.op("pow", p.op("radd", 0.5, p.op("pow", x, 2)), 0.5)
    p.op("add", p.op("rmul", 2.0, s), p.op("div", t, s))
    out.append(p)
    return out


def _func_fixed() -> list[Program]:
    out = []
    p = Program()  # one tanh neuron: o = tanh(x1*w1 + x2*w2 + b)
    x1, x2 = p.leaf(2.0), p.leaf(0.0)
    w1, w2 = p.leaf(-3.0), p.leaf(1.0)
    b = p.leaf(6.8813735870195432)
    n = p.op("add", p.op("add", p.op("mul", x1, w1), p.op("mul", x2, w2)), b)
    p.op("tanh", n)
    out.append(p)
    p = Program()  # logistic loss of a sigmoid unit, and softplus, sharing z
    w, x = p.leaf(0.8), p.leaf(-1.3)
    z = p.op("addc", p.op("mul", w, x), 0.4)
    loss = p.op("neg", p.op("log", p.op("sigmoid", z)))
    softplus = p.op("log", p.op("radd", 2.0, p.op("exp", z)))
    p.op("add", p.op("add", loss, softplus), p.op("mul", p.op("relu", p.op("neg", z)), z))
    out.append(p)
    return out


# ------------------------------------------------------------------ one-operation cases

# Known wrong local derivatives: (operand position, hint key, what that mistake gives).
_OP_MUTANTS: dict[str, list[tuple[int, str, Callable[..., float]]]] = {
    "mul": [(0, "autodiff_hint_mul_swap", lambda x, y: x),
            (1, "autodiff_hint_mul_swap", lambda x, y: y)],
    "pow": [(0, "autodiff_hint_pow", lambda x, k: k * x**k),
            (0, "autodiff_hint_pow", lambda x, k: x ** (k - 1)),
            (0, "autodiff_hint_pow", lambda x, k: (k - 1) * x ** (k - 1)),
            (0, "autodiff_hint_pow", lambda x, k: k * x ** (k + 1))],
    "exp": [(0, "autodiff_hint_exp", lambda x: x), (0, "autodiff_hint_exp", lambda x: 1.0)],
    "log": [(0, "autodiff_hint_log", lambda x: math.log(x)), (0, "autodiff_hint_log", lambda x: x),
            (0, "autodiff_hint_log", lambda x: 1.0), (0, "autodiff_hint_log", lambda x: 1 / x**2)],
    "tanh": [(0, "autodiff_hint_tanh", lambda x: 1 - math.tanh(x)),
             (0, "autodiff_hint_tanh", lambda x: 1 - x**2),
             (0, "autodiff_hint_tanh", lambda x: 1 + math.tanh(x) ** 2),
             (0, "autodiff_hint_tanh", lambda x: math.tanh(x))],
    "sigmoid": [(0, "autodiff_hint_sigmoid", _sigmoid),
                (0, "autodiff_hint_sigmoid", lambda x: x * (1 - x)),
                (0, "autodiff_hint_sigmoid", lambda x: 1 - _sigmoid(x)),
                (0, "autodiff_hint_sigmoid", lambda x: _sigmoid(x) * (1 + _sigmoid(x)))],
    "relu": [(0, "autodiff_hint_relu", lambda x: max(x, 0.0)),
             (0, "autodiff_hint_relu", lambda x: 1.0)],
}
# The same node as both operands: overwriting keeps one of the two contributions.
_SELF_MUTANTS: dict[str, list[tuple[int, str, Callable[..., float]]]] = {
    "add": [(0, "autodiff_hint_accumulate", lambda x: 1.0)],
    "mul": [(0, "autodiff_hint_accumulate", lambda x: x)],
}
_STAGE = {
    "core": [("add", False), ("addc", False), ("mul", False), ("mulc", False),
             ("add", True), ("mul", True)],
    "arith": [(name, False) for name in ARITH_OPS],
    "func": [(name, False) for name in FUNC_OPS],
}
#: Stages whose operations also run without the final ``* s`` (``out = op(...)``), where a
#: missing ``L.grad = 1.0`` shows; later stages run with a random upstream gradient only.
_PLAIN_STAGES = ("core",)


def _op_operands(rng: np.random.Generator, name: str, count: int) -> list[tuple]:
    """``count`` operand tuples for one operation, each valid for it."""
    op = OPS[name]
    cases: list[tuple] = []
    if name == "pow":
        count = len(POW_EXPONENTS)
    while len(cases) < count:
        args: list[Any] = []
        for kind in op.arity:
            if kind == "c":
                args.append(POW_EXPONENTS[len(cases)] if name == "pow" else _constant(rng, name))
            else:
                x = _leaf_value(rng) * 1.5
                if name == "relu":
                    x = abs(x) if len(cases) % 2 == 0 else -abs(x)
                args.append(round(x, 3))
        if _valid(name, args):
            cases.append(tuple(args))
    if name == "sigmoid":  # edge inputs: exp(-x) overflows a float for x < -709
        cases[-2:] = [(800.0,), (-800.0,)]
    return cases


def _single(name: str, operands: tuple, same: bool, scale: float | None) -> Program:
    """Leaves for the node operands, one operation, and optionally ``* scale``."""
    op = OPS[name]
    p = Program()
    args: list[Any] = []
    for kind, value in zip(op.arity, operands, strict=True):
        if kind == "c":
            args.append(value)
        elif same and args:
            args.append(args[0])
        else:
            args.append(p.leaf(value))
    out = p.op(name, *args)
    if scale is not None:
        p.op("mulc", out, scale)
    return p


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
    """An exercise of this assignment: the shared case loop, with the collector paused."""

    def run(self, *student: Any, **literal: Any) -> None:
        __tracebackhide__ = True
        with paused_gc():
            super().run(*student, **literal)


# ------------------------------------------------------------------- reading results


def _as_number(value: Any) -> float | None:
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
    value = done.value(case, ref)
    number = _as_number(value)
    if number is None:
        raise _not_a_node(case, function, cls, "data", _found(value, "data"), False)
    return number


def read_grad(case: Case, done: Done, ref: Ref, node: str) -> float:
    """The number a ``.grad`` step read after backward()."""
    __tracebackhide__ = True
    missing = _missing_attribute(case, done, ref)
    value = None if missing is not None else done.value(case, ref)
    number = None if missing is not None else _as_number(value)
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
    return done.value(case, ref)


# ----------------------------------------------------------------- running programs


@dataclass
class Reference:
    values: list[float]
    grads: list[float]
    contributions: list[list[float]]  # per node, what each use (in program.uses order) adds


def _build_program(program: Program, contributions: bool) -> tuple[list[Any], list]:
    """``program`` on float64 torch scalars (no backward yet): every node (``retain_grad``)
    and, with ``contributions``, for each use of a node the identity copy it received, whose
    ``.grad`` will be what that use adds to the node's gradient."""
    torch = torchref.torch
    tensors: list[Any] = []
    uses: list[tuple[int, Any]] = []  # (node, the copy of it that one use received)
    for instr in program.instrs:
        if instr.op == "leaf":
            t = torch.tensor(instr.args[0], dtype=torch.float64, requires_grad=True)
        else:
            op = OPS[instr.op]
            operands = []
            for kind, a in zip(op.arity, instr.args, strict=True):
                if kind == "c":
                    operands.append(a)
                elif contributions:
                    copy = tensors[a].clone()
                    copy.retain_grad()
                    uses.append((a, copy))
                    operands.append(copy)
                else:
                    operands.append(tensors[a])
            t = op.apply(*operands)
            t.retain_grad()
        tensors.append(t)
    return tensors, uses


def _program_reference(tensors: list[Any], uses: list) -> Reference:
    values = [float(t.detach()) for t in tensors]
    grads = [0.0 if t.grad is None else float(t.grad) for t in tensors]
    contributions: list[list[float]] = [[] for _ in tensors]
    for node, copy in uses:
        contributions[node].append(0.0 if copy.grad is None else float(copy.grad))
    return Reference(values, grads, contributions)


def torch_run(program: Program, contributions: bool = True) -> Reference:
    """Every node's value and dL/dnode from torch autograd, in float64, and what each single
    use of a node contributes to its gradient (local derivative times the user's gradient)."""
    tensors, uses = _build_program(program, contributions)
    tensors[-1].backward()
    return _program_reference(tensors, uses)


def _partial_sum(found: float, contributions: Sequence[float],
                 tol: Tolerance = TOL) -> set[int] | None:
    """The largest proper, non-empty set of uses whose contributions add up to ``found``.

    A node whose gradient is such a partial sum lost the other contributions: an
    assignment (``=``) where ``+=`` belongs. None when no such set exists (too many
    uses to try, or a sum no subset gives: the walk order is wrong instead).
    """
    count = len(contributions)
    if count < 2 or count > 12:
        return None
    subsets = sorted(range(1, 2**count - 1), key=lambda m: -bin(m).count("1"))
    for mask in subsets:
        chosen = {k for k in range(count) if mask >> k & 1}
        if _close(found, sum(contributions[k] for k in chosen), tol):
            return chosen
    return None


def _close(actual: float, expected: float, tol: Tolerance = TOL) -> bool:
    """``tol.close`` for two floats (np.isclose's rule, without its cost per scalar)."""
    if not (math.isfinite(actual) and math.isfinite(expected)):
        return False
    return abs(actual - expected) <= tol.atol + tol.rtol * abs(expected)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _program_lines(case: Case, program: Program) -> list[str]:
    if case.redact:
        return []
    return [M.bilingual("autodiff_program", indent="  "),
            *("      " + line for line in program.text())]


def _class_name(cls: Any, default: str) -> str:
    name = getattr(cls, "__name__", None)
    return name if isinstance(name, str) and name.isidentifier() else default


@dataclass
class Emitted:
    """A program written into Steps: per node its Ref; the steps reading ``.data`` and
    ``.grad`` (by node index: every node when explaining, only the graded ones otherwise);
    the function that made each node (for messages)."""

    nodes: list[Ref]
    functions: list[str]
    data: dict[int, Ref] = field(default_factory=dict)
    backward: Ref | None = None
    grads: dict[int, Ref] = field(default_factory=dict)
    full: bool = False


def emit(steps: Steps, Value: Any, cls: str, program: Program, graded: Sequence[int],
         full: bool) -> Emitted:
    """The steps that build ``program`` with the student's class and call ``backward()`` on
    its last node. ``full``: read every node's ``.data`` as it is made and every ``.grad``
    (to explain a failure); otherwise the output's ``.data`` and the ``graded`` gradients."""
    out = Emitted([], [], full=full)
    last = len(program.instrs) - 1
    for i, instr in enumerate(program.instrs):
        if instr.op == "leaf":
            function = cls
            ref = steps.call(Value, instr.args[0], name=cls, fetch=False)
        else:
            op = OPS[instr.op]
            function = f"{cls}.{op.method}"
            operands = [Traced(steps, out.nodes[a], cls) if kind == "n" else a
                        for kind, a in zip(op.arity, instr.args, strict=True)]
            ref = op.apply(*operands).ref
        out.nodes.append(ref)
        out.functions.append(function)
        if full or i == last:
            out.data[i] = steps.attr(ref, "data", name=function)
    out.backward = steps.method(out.nodes[-1], "backward", name=f"{cls}.backward", fetch=False)
    for i in range(len(out.nodes)) if full else graded:
        out.grads[i] = steps.attr(out.nodes[i], "grad", name=f"{cls}.backward")
    return out


def _leaves(program: Program) -> list[int]:
    return [k for k, instr in enumerate(program.instrs) if instr.op == "leaf"]


def _build_vector(name: str, same: bool, operands: Sequence[tuple],
                  scales: Sequence[float] | None) -> tuple[Any, list[Any]]:
    """One operation on every row of ``operands`` at once, as float64 torch vectors (no
    backward yet): (the output, with ``scales`` L = op * s; the leaves)."""
    torch = torchref.torch
    op = OPS[name]
    leaves: list[Any] = []
    args: list[Any] = []
    for pos, kind in enumerate(op.arity):
        column = torch.tensor([row[pos] for row in operands], dtype=torch.float64)
        if kind == "c":
            args.append(column)
        elif same and leaves:
            args.append(leaves[0])
        else:
            column.requires_grad_(True)
            leaves.append(column)
            args.append(column)
    out = op.apply(*args)
    if scales is not None:
        out = out * torch.tensor(list(scales), dtype=torch.float64)
    return out, leaves


def _leaf_grads(leaves: list[Any]) -> np.ndarray:
    return np.stack([t.grad.numpy() for t in leaves], axis=1).astype(np.float64)


# ------------------------------------------------------------------------ the exercise


@dataclass
class ValueExercise(EngineExercise):
    """The scalar engine: one-operation cases, fixed expressions, then random graphs.

    ``check(id, Value, seeds=[...], num_graphs=...)``. A one-operation case runs one
    operation on several operand values (``out = x * y`` for the core operations, and
    ``L = (x * y) * s`` so that the upstream gradient is not 1) and compares the output's
    ``.data`` and each leaf's ``.grad`` as vectors; an expression case compares the output's
    ``.data`` and the gradients of the leaves and the output.

    Every case of a check call runs in one batch of steps that reads only what is graded.
    A case that fails is run once more on its own, reading every node's ``.data`` as it is
    made and every ``.grad``, to explain the failure: the first node that is not a node
    (a method without ``return out``), the first wrong value, or the first wrong gradient
    in reverse order with the contributions it lost.
    """

    stages: Sequence[str] = ()  # which one-operation groups to run first, in order
    fixed: Callable[[], list[Program]] | None = None
    graph_ops: Sequence[str] = ALL_OPS
    num_graphs: int = 10
    cases_per_op: int = 4
    tol: Tolerance = TOL

    # -- cases

    def make_cases(self, *, seeds: Sequence[int], num_graphs: int | None = None) -> list[Case]:
        num_graphs = self.num_graphs if num_graphs is None else num_graphs
        found: list[Case] = []
        for seed in seeds:
            rng = np.random.default_rng(seed)
            plans = [(stage, name, same, _op_operands(rng, name, self.cases_per_op))
                     for stage in self.stages for name, same in _STAGE[stage]]
            for stage, name, same, operands in plans:  # out = op(...); out.backward()
                if stage in _PLAIN_STAGES:
                    found.append(self._vector_case(seed, name, same, operands, None))
            for _stage, name, same, operands in plans:  # L = op(...) * s; L.backward()
                scales = [round(float(rng.uniform(0.5, 2.0)), 2) * (-1 if i % 2 else 1)
                          for i in range(len(operands))]
                found.append(self._vector_case(seed, name, same, operands, scales))
            if self.fixed is not None:
                found += [self.case(seed=seed, description="fixed",
                                    data={"kind": "program", "program": p})
                          for p in self.fixed()]
            for _ in range(num_graphs):
                program = random_program(rng, self.graph_ops, int(rng.integers(2, 5)),
                                         int(rng.integers(4, 13)))
                found.append(self.case(seed=seed, description="random",
                                       data={"kind": "program", "program": program}))
        return found

    def _vector_case(self, seed: int, name: str, same: bool, operands: list[tuple],
                     scales: list[float] | None) -> Case:
        programs = [_single(name, args, same, None if scales is None else scales[i])
                    for i, args in enumerate(operands)]
        return self.case(seed=seed, description=_describe(name, same, operands, scales),
                         data={"kind": "vector", "name": name, "same": same,
                               "operands": operands, "scales": scales, "programs": programs})

    def cases(self, **literal: Any) -> list[Case]:
        """The cases with their references: the torch graphs of all cases are built first
        and back-propagated together (one backward pass per check call: each output is
        summed into one scalar, and no two graphs share a node)."""
        found = self.make_cases(**literal)
        self._references(found)
        return found

    def prepare(self, case: Case) -> None:
        self._references([case])

    def _references(self, cases: Sequence[Case]) -> None:
        outputs: list[Any] = []
        finish: list[Callable[[], None]] = []
        for case in cases:
            data = case.data
            if data["kind"] == "program":
                tensors, _ = _build_program(data["program"], contributions=False)
                outputs.append(tensors[-1])
                finish.append(lambda d=data, t=tensors: d.update(reference=_program_reference(t, [])))
                continue
            name, same, operands, scales = (data["name"], data["same"], data["operands"],
                                            data["scales"])
            out, leaves = _build_vector(name, same, operands, scales)
            outputs.append(out.sum())
            plain = None
            if scales is not None:  # what a _backward that ignores out.grad gives
                plain_out, plain = _build_vector(name, same, operands, None)
                outputs.append(plain_out.sum())
            finish.append(lambda d=data, o=out, v=leaves, p=plain: self._vector_reference(
                d, o.detach().numpy().copy(), _leaf_grads(v),
                None if p is None else _leaf_grads(p)))
        if outputs:
            sum(outputs[1:], outputs[0]).backward()
        for store in finish:
            store()

    @staticmethod
    def _vector_reference(data: dict, out: np.ndarray, grads: np.ndarray,
                          plain: np.ndarray | None) -> None:
        name, same, operands, scales = data["name"], data["same"], data["operands"], data["scales"]
        data["out"], data["grads"] = out, grads
        alternatives: list[list[tuple[str, np.ndarray]]] = []
        for j in range(grads.shape[1]):
            found = []
            for pos, key, fn in (_SELF_MUTANTS if same else _OP_MUTANTS).get(name, []):
                if pos == j:
                    values = [fn(*(args[:1] if same else args)) for args in operands]
                    if scales is not None:
                        values = [v * s for v, s in zip(values, scales, strict=True)]
                    found.append((key, np.array(values, dtype=np.float64)))
            if plain is None:  # one node: only a missing L.grad = 1 gives zeros
                if np.all(grads[:, j] != 0):
                    found.append(("autodiff_hint_output_grad", np.zeros(len(operands))))
            else:  # a _backward that ignores out.grad gives the gradient of op alone
                found.append(("autodiff_hint_upstream", plain[:, j]))
                found.append(("autodiff_hint_order_zero", np.zeros(len(operands))))
            alternatives.append(found)
        data["alternatives"] = alternatives

    # -- the student's program

    def run(self, Value: Any, **literal: Any) -> None:
        __tracebackhide__ = True
        with paused_gc():
            self._run(Value, **literal)

    def _run(self, Value: Any, **literal: Any) -> None:
        __tracebackhide__ = True
        cases = self.cases(**literal)
        steps = Steps()
        plans = [self.drive(steps, case, Value) for case in cases]
        done = steps.run()
        for case, plan in zip(cases, plans, strict=True):
            try:
                self.judge(case, done, plan)
            except CheckFailure as failure:
                self.explain(case, Value, failure)
        report_pass(self.title, len(cases))

    def explain(self, case: Case, Value: Any, failure: CheckFailure) -> None:
        """Run the failing case again, alone, reading everything; raise what that shows."""
        __tracebackhide__ = True
        if case.data["kind"] == "program":  # what each use contributes, for the diagnosis
            case.data["reference"] = torch_run(case.data["program"], contributions=True)
        steps = Steps()
        plan = self.drive(steps, case, Value, full=True)
        self.judge(case, steps.run(), plan)
        raise failure  # the student's code did not fail twice in the same way

    def drive(self, steps: Steps, case: Case, Value: Any, full: bool = False) -> list[Emitted]:
        __tracebackhide__ = True
        cls = _class_name(Value, "Value")
        require_callable(case, cls, Value)
        if case.data["kind"] == "program":
            program = case.data["program"]
            graded = [*_leaves(program), len(program.instrs) - 1]
            return [emit(steps, Value, cls, program, graded, full)]
        return [emit(steps, Value, cls, p, _leaves(p), full) for p in case.data["programs"]]

    def judge(self, case: Case, done: Done, plan: list[Emitted]) -> None:
        __tracebackhide__ = True
        if case.data["kind"] == "program":
            self._judge_program(case, done, plan[0])
        else:
            self._judge_vector(case, done, plan)

    def _judge_vector(self, case: Case, done: Done, plan: list[Emitted]) -> None:
        __tracebackhide__ = True
        data = case.data
        cls = plan[0].functions[0]
        leaf_names = ["x", "y"][: data["grads"].shape[1]]
        outs, grads = [], []
        for emitted in plan:
            values = [read_number(case, done, ref, emitted.functions[i], cls)
                      for i, ref in emitted.data.items()]
            outs.append(values[-1])
            done.value(case, emitted.backward)
            leaves = _leaves(data["programs"][0])
            grads.append([read_grad(case, done, emitted.grads[k], leaf_names[j])
                          for j, k in enumerate(leaves)])
        compare_array(case, "out.data" if data["scales"] is None else "L.data", data["out"],
                      np.array(outs), tol=self.tol)
        actual = np.array(grads, dtype=np.float64)
        for j, leaf in enumerate(leaf_names):
            compare_array(case, f"{leaf}.grad", data["grads"][:, j], actual[:, j], tol=self.tol,
                          alternatives=data["alternatives"][j],
                          header_key="hdr_mismatch_autograd")

    def _judge_program(self, case: Case, done: Done, emitted: Emitted) -> None:
        __tracebackhide__ = True
        program, ref = case.data["program"], case.data["reference"]
        names = program.names()
        cls = emitted.functions[0]
        for i, data_ref in emitted.data.items():
            value = read_number(case, done, data_ref, emitted.functions[i], cls)
            if not _close(value, ref.values[i], self.tol):
                lines = [
                    case.header("autodiff_hdr_data", node=names[i]),
                    M.bilingual("autodiff_wrong_data", indent="  ", node=names[i],
                                expr=program.expr(i, names), expected=_fmt(ref.values[i]),
                                found=_fmt(value), function=emitted.functions[i]),
                ]
                raise CheckFailure("\n".join(lines + _program_lines(case, program)),
                                   exercise=case.exercise)
        done.value(case, emitted.backward)
        grads = {i: read_grad(case, done, g, names[i]) for i, g in emitted.grads.items()}
        graded = [*_leaves(program), len(program.instrs) - 1]
        if all(_close(grads[i], ref.grads[i], self.tol) for i in graded):
            expected = np.array([ref.grads[i] for i in graded])
            strict_gradients(case, "grad", expected, np.array([grads[i] for i in graded]),
                             self.tol)
            return
        # The first wrong node in reverse order: everything that uses it is right.
        wrong = next(i for i in sorted(grads, reverse=True)
                     if not _close(grads[i], ref.grads[i], self.tol))
        lines = [
            case.header("autodiff_hdr_grad", node=names[wrong]),
            M.bilingual("autodiff_wrong_grad", indent="  ", node=names[wrong],
                        expected=_fmt(ref.grads[wrong]), found=_fmt(grads[wrong])),
        ]
        if wrong == len(program.instrs) - 1:
            lines.append(M.bilingual("autodiff_hint_output_grad", indent="  "))
        elif emitted.full:  # every gradient was read: the users of `wrong` are right
            users = sorted({u for u, _ in program.uses(wrong)})
            uses = "; ".join(f"{names[u]} = {program.expr(u, names)}" for u in users)
            lines.append(M.bilingual("autodiff_used_by", indent="  ", node=names[wrong],
                                     uses=uses))
            uses_of = program.uses(wrong)
            kept = _partial_sum(grads[wrong], ref.contributions[wrong], self.tol)
            if kept is not None:
                missing = "; ".join(f"{names[u]} = {program.expr(u, names)}"
                                    for k, (u, _) in enumerate(uses_of) if k not in kept)
                lines.append(M.bilingual("autodiff_missing", indent="  ", missing=missing))
                lines.append(M.bilingual("autodiff_hint_accumulate", indent="  "))
            else:
                lines.append(M.bilingual("autodiff_hint_order", indent="  "))
        lines += _program_lines(case, program)
        lines.append(M.bilingual("tolerance", indent="  ", rtol=self.tol.rtol, atol=self.tol.atol))
        raise CheckFailure("\n".join(lines), exercise=case.exercise)


def _describe(name: str, same: bool, operands: Sequence[tuple], scales) -> str:
    op = OPS[name]
    symbols, letters = [], iter("xy")
    for kind in op.arity:
        if kind == "c":
            symbols.append("k" if name == "pow" else "c")
        elif same and symbols:
            symbols.append(symbols[0])
        else:
            symbols.append(next(letters))
    expr = op.fmt.format(*symbols)
    free = [s for i, s in enumerate(symbols) if not (same and i > 0)]
    if scales is None:
        text = f"out = {expr}; out.backward()"
        rows = [tuple(args[: len(free)]) for args in operands]
    else:
        text = f"L = ({expr}) * s; L.backward()" if " " in expr else f"L = {expr} * s; L.backward()"
        free = [*free, "s"]
        rows = [(*args[: len(free) - 1], s) for args, s in zip(operands, scales, strict=True)]
    shown = ", ".join("(" + ", ".join(repr(v) for v in row) + ")" if len(row) > 1 else repr(row[0])
                      for row in rows)
    names = "(" + ", ".join(free) + ")" if len(free) > 1 else free[0]
    return f"{text}, for {names} in [{shown}]"


register(
    ValueExercise(
        id="value_core",
        title_en="Exercise 4.1 · Value: +, * and backward()",
        title_zh="练习 4.1 · Value：加法、乘法与 backward()",
        assignment=ASSIGNMENT,
        stages=("core",),
        fixed=_core_fixed,
        graph_ops=CORE_OPS,
        num_graphs=10,
    )
)
register(
    ValueExercise(
        id="value_arith",
        title_en="Exercise 4.2 · Value: -, /, ** and numbers on the left",
        title_zh="练习 4.2 · Value：减法、除法、乘方与左侧的普通数",
        assignment=ASSIGNMENT,
        stages=("arith",),
        fixed=_arith_fixed,
        graph_ops=CORE_OPS + ARITH_OPS,
        num_graphs=10,
    )
)
register(
    ValueExercise(
        id="value_ops",
        title_en="Exercise 4.3 · Value: exp, log, tanh, relu, sigmoid",
        title_zh="练习 4.3 · Value：exp、log、tanh、relu、sigmoid",
        assignment=ASSIGNMENT,
        stages=("func",),
        fixed=_func_fixed,
        graph_ops=ALL_OPS,
        num_graphs=10,
    )
)
register(
    ValueExercise(
        id="value_graphs",
        title_en="Exercise 4.3 · Value: random expression graphs",
        title_zh="练习 4.3 · Value：随机表达式图",
        assignment=ASSIGNMENT,
        stages=(),
        fixed=None,
        graph_ops=ALL_OPS,
        num_graphs=30,
    )
)


# ======================================================================= tensor engine


def compare(case: Case, name: str, expected: Any, actual: Any, *, tol: Tolerance = TOL,
            **kwargs: Any) -> None:
    """``compare_array``, except that a wrong finite scalar gets a plain two-number message
    (for one number, "every element is k times the expected value" says nothing)."""
    __tracebackhide__ = True
    expected = np.asarray(expected, dtype=np.float64)
    value = _as_number(actual) if is_plain(actual) else None
    if expected.ndim or value is None or np.ndim(actual) != 0 or not np.isfinite(value):
        compare_array(case, name, expected, actual, tol=tol, **kwargs)
        return
    if tol.close(np.float64(value), expected):
        compare_array(case, name, expected, actual, tol=tol, **kwargs)  # the gradient rule
        return
    lines = [
        case.header(kwargs.get("header_key", "hdr_mismatch"), name=name),
        M.bilingual("autodiff_scalar", indent="  ", name=name, expected=_fmt(float(expected)),
                    found=_fmt(value)),
    ]
    for key, alternative in kwargs.get("alternatives", ()):
        if Tolerance(tol.rtol * 10, tol.atol * 10).close(np.float64(value),
                                                         np.float64(alternative)):
            lines.append(M.bilingual(key, indent="  "))
            break
    lines += case.reproduce_lines()
    lines.append(M.bilingual("tolerance", indent="  ", rtol=tol.rtol, atol=tol.atol))
    raise CheckFailure("\n".join(lines), exercise=case.exercise)


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
        result = done.value(case, plan)
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
    title_en="Exercise 4.4 · unbroadcast",
    title_zh="练习 4.4 · 反广播（unbroadcast）",
    assignment=ASSIGNMENT,
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
)


def _tensor_inputs(rng: np.random.Generator, expr: TensorExpr, shape: tuple) -> dict:
    inputs = {}
    for name, s in expr.shapes(*shape).items():
        inputs[name] = away_from(rng, s, margin=0.05) if name in expr.kinks else (
            rng.standard_normal(s))
    return inputs


def _leaf_steps(steps: Steps, Tensor: Any, cls: str, arrays: dict[str, np.ndarray]
                ) -> dict[str, Ref]:
    return {name: steps.call(Tensor, value, name=cls, arg_names=(name,), fetch=False)
            for name, value in arrays.items()}


@dataclass
class TensorOpsExercise(EngineExercise):
    """The tensor engine's operations: ``check(id, Tensor, seeds=[...], shapes=[(N, D, M)])``.

    Each expression runs on ``Tensor(array)`` leaves and on torch; ``out.backward(G)`` with a
    random upstream ``G``; forward values and every leaf's ``.grad`` are compared.
    """

    tol: Tolerance = TOL

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> list[Case]:
        found = []
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
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
        tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
                   for k, v in case.inputs.items()}
        out = expr.build(**tensors)
        upstream = np.random.default_rng(case.data["upstream_seed"]).standard_normal(
            tuple(out.shape))
        out.backward(torch.tensor(upstream))
        grads = {k: t.grad.numpy().copy() for k, t in tensors.items()}
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
        cls = _class_name(Tensor, "Tensor")
        require_callable(case, cls, Tensor)
        expr = case.data["expr"]
        leaves = _leaf_steps(steps, Tensor, cls, case.inputs)
        out = expr.build(**{k: Traced(steps, ref, cls) for k, ref in leaves.items()}).ref
        return {
            "cls": cls,
            "data": steps.attr(out, "data", name=f"{cls}.{expr.methods}"),
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
        done.value(case, plan["backward"])
        for name, ref in plan["grads"].items():
            grad = read_array(case, done, ref, f"{cls}.backward", cls)
            compare_array(case, f"{name}.grad", case.data["grads"][name], grad, tol=self.tol,
                          alternatives=case.data["alternatives"][name],
                          header_key="hdr_mismatch_autograd")


register(TensorOpsExercise(
    id="tensor_ops",
    title_en="Exercise 4.5 · Tensor: +, @, relu, sum, mean",
    title_zh="练习 4.5 · Tensor：加法、矩阵乘法、relu、sum、mean",
    assignment=ASSIGNMENT,
))


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
        for seed in seeds:
            for n, c in shapes:
                rng = np.random.default_rng(seed)
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
        cls = _class_name(Tensor, "Tensor")
        require_callable(case, cls, Tensor)
        require_callable(case, "cross_entropy", cross_entropy)
        leaf = steps.call(Tensor, case.inputs["logits"], name=cls, arg_names=("logits",),
                          fetch=False)
        loss = steps.call(cross_entropy, leaf, case.inputs["y"], name="cross_entropy",
                          arg_names=("logits", "y"), fetch=False, unchanged=[leaf])
        return {"cls": cls, "data": steps.attr(loss, "data", name="cross_entropy"),
                "backward": steps.method(loss, "backward", np.array(case.data["g"]),
                                         name=f"{cls}.backward", fetch=False, unchanged=[leaf]),
                "grad": steps.attr(leaf, "grad", name="cross_entropy")}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        n = len(case.inputs["y"])
        data = read_array(case, done, plan["data"], "cross_entropy", plan["cls"])
        compare(case, "loss", case.data["loss"], data, tol=self.tol, batch_size=n,
                header_key="hdr_mismatch_autograd")
        done.value(case, plan["backward"])
        grad = read_array(case, done, plan["grad"], "cross_entropy", plan["cls"])
        compare_array(case, "logits.grad", case.data["dlogits"], grad, tol=self.tol,
                      batch_size=n,
                      alternatives=[("hint_ignores_upstream",
                                     case.data["dlogits"] / case.data["g"])],
                      header_key="hdr_mismatch_autograd")


register(CrossEntropyExercise(
    id="cross_entropy",
    title_en="Exercise 4.6 · cross-entropy on Tensors",
    title_zh="练习 4.6 · Tensor 上的交叉熵",
    assignment=ASSIGNMENT,
))


def mlp_params(rng: np.random.Generator, num_inputs: int, num_hiddens: int,
               num_outputs: int) -> dict[str, np.ndarray]:
    return {
        "W1": rng.standard_normal((num_inputs, num_hiddens)) / np.sqrt(num_inputs),
        "b1": rng.standard_normal(num_hiddens) * 0.1,
        "W2": rng.standard_normal((num_hiddens, num_outputs)) / np.sqrt(num_hiddens),
        "b2": rng.standard_normal(num_outputs) * 0.1,
    }


def _dict_step(steps: Steps, items: dict[str, Ref], name: str) -> Ref:
    """A dict of the student's objects, made in the student's process: ``{}.copy()``, then
    one ``__setitem__`` per key (steps pass what earlier steps made only as arguments)."""
    made = steps.method({}, "copy", name=name, fetch=False)
    for key, ref in items.items():
        steps.method(made, "__setitem__", key, ref, name=name, fetch=False)
    return made


@dataclass
class MlpLossExercise(EngineExercise):
    """``mlp_loss(params, X, y) -> Tensor`` for params of Tensors: loss and every parameter's
    ``.grad`` after ``loss.backward()``, against torch.

    ``check(id, Tensor, mlp_loss, seeds=[...], shapes=[(N, num_inputs, num_hiddens, C)])``.
    """

    tol: Tolerance = TOL

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> list[Case]:
        found = []
        for seed in seeds:
            for n, d, h, c in shapes:
                rng = np.random.default_rng(seed)
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
        cls = _class_name(Tensor, "Tensor")
        require_callable(case, cls, Tensor)
        require_callable(case, "mlp_loss", mlp_loss)
        leaves = _leaf_steps(steps, Tensor, cls, {k: case.inputs[k] for k in PARAMS})
        params = _dict_step(steps, leaves, "params")
        loss = steps.call(mlp_loss, params, case.inputs["X"], case.inputs["y"], name="mlp_loss",
                          arg_names=("params", "X", "y"), fetch=False,
                          unchanged=list(leaves.values()))
        return {"cls": cls, "data": steps.attr(loss, "data", name="mlp_loss"),
                "backward": steps.method(loss, "backward", name=f"{cls}.backward", fetch=False,
                                         unchanged=list(leaves.values())),
                "grads": {k: steps.attr(ref, "grad", name="mlp_loss")
                          for k, ref in leaves.items()}}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        n = len(case.inputs["y"])
        data = read_array(case, done, plan["data"], "mlp_loss", plan["cls"])
        compare(case, "loss", case.data["loss"], data, tol=self.tol, batch_size=n,
                header_key="hdr_mismatch_autograd")
        done.value(case, plan["backward"])
        for name, ref in plan["grads"].items():
            grad = read_array(case, done, ref, "mlp_loss", plan["cls"])
            compare_array(case, f"params['{name}'].grad", case.data["grads"][name], grad,
                          tol=self.tol, batch_size=n, header_key="hdr_mismatch_autograd")


PARAMS = ("W1", "b1", "W2", "b2")

register(MlpLossExercise(
    id="mlp_loss",
    title_en="Exercise 4.7 · the MLP loss on the tensor engine",
    title_zh="练习 4.7 · 用张量引擎计算 MLP 的损失",
    assignment=ASSIGNMENT,
))
