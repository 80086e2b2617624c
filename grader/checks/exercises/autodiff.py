"""Assignment 04 · 计算图与自动微分: a scalar engine and a tensor engine, checked against autograd.

The student's classes are used only through their public API: the constructors
``Value(float)`` and ``Tensor(array)``, Python operators, the methods ``exp``, ``log``,
``tanh``, ``relu``, ``sigmoid``, ``sum``, ``mean`` and ``backward``, and the attributes
``.data`` and ``.grad``, read back as plain floats or arrays. Nothing private
(``_prev``, ``_backward``) is touched, so the same checks can drive a class that
lives in another process.

A scalar check runs *programs*: a list of instructions (leaves, then operations on
earlier nodes or constants), generated from a seed or written by hand. The same
program runs on the student's ``Value`` and on float64 torch tensors (``retain_grad``
on every node), so every node's ``.data`` and ``.grad`` has an expected value. When a
gradient is wrong, the first wrong node in reverse order (all its users are right)
tells what kind of mistake it is: a node used twice that kept one contribution
(``=`` instead of ``+=``), a local derivative (caught earlier by the one-operation
cases), or the order in which ``backward()`` visits the graph.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import Case, CheckFailure, Tolerance, call_student, compare_array, report_pass
from grader.checks.exercises import register
from grader.checks.specs import Exercise, away_from

ASSIGNMENT = "04_autodiff"

__all__ = [
    "OPS",
    "Program",
    "random_program",
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
            "`{function}` should return a new {cls} whose `.{attr}` is a number, but it "
            "returned {found}. Did you forget `return out`?",
            "`{function}` 应当返回一个新的 {cls}，其 `.{attr}` 是一个数，实际返回了 {found}。"
            "是否忘了 `return out`?",
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

TOL = Tolerance(rtol=1e-6, atol=1e-9)


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


# ----------------------------------------------------------------- running programs


@dataclass
class Reference:
    values: list[float]
    grads: list[float]
    tensors: list[Any]


def torch_run(program: Program) -> Reference:
    """Every node's value and dL/dnode from torch autograd, in float64."""
    torch = torchref.torch
    tensors: list[Any] = []
    for instr in program.instrs:
        if instr.op == "leaf":
            t = torch.tensor(instr.args[0], dtype=torch.float64, requires_grad=True)
        else:
            op = OPS[instr.op]
            operands = [tensors[a] if kind == "n" else a
                        for kind, a in zip(op.arity, instr.args, strict=True)]
            t = op.apply(*operands)
            t.retain_grad()
        tensors.append(t)
    tensors[-1].backward()
    values = [float(t.detach()) for t in tensors]
    grads = [0.0 if t.grad is None else float(t.grad) for t in tensors]
    return Reference(values, grads, tensors)


def _contributions(program: Program, ref: Reference, index: int) -> list[float]:
    """What each single use of node ``index`` adds to its gradient (local × user's grad)."""
    torch = torchref.torch
    out = []
    for user, pos in program.uses(index):
        instr = program.instrs[user]
        op = OPS[instr.op]
        operands = []
        for p, (kind, a) in enumerate(zip(op.arity, instr.args, strict=True)):
            if kind == "c":
                operands.append(a)
            else:
                operands.append(torch.tensor(ref.values[a], dtype=torch.float64,
                                             requires_grad=p == pos))
        op.apply(*operands).backward()
        out.append(float(operands[pos].grad) * ref.grads[user])
    return out


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
    return bool(tol.close(np.float64(actual), np.float64(expected)))


def _read(case: Case, obj: Any, attr: str, function: str, cls: str) -> float:
    __tracebackhide__ = True
    try:
        value = float(getattr(obj, attr))
    except Exception:
        found = type(obj).__name__ if not hasattr(obj, attr) else repr(getattr(obj, attr))[:60]
        raise CheckFailure(
            "\n".join([case.header("autodiff_hdr_not_value", function=function),
                       M.bilingual("autodiff_not_value", indent="  ", function=function, cls=cls,
                                   attr=attr, found=found)]),
            kind="type", exercise=case.exercise) from None
    return value


def _read_grad(case: Case, obj: Any, node: str) -> float:
    __tracebackhide__ = True
    try:
        return float(obj.grad)
    except Exception:
        found = repr(getattr(obj, "grad", None))[:60]
        raise CheckFailure(
            "\n".join([case.header("autodiff_hdr_grad", node=node),
                       M.bilingual("autodiff_bad_grad", indent="  ", node=node, found=found)]),
            kind="type", exercise=case.exercise) from None


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def student_run(case: Case, cls: Any, program: Program, expected: Sequence[float] | None = None,
                tol: Tolerance = TOL) -> list[Any]:
    """Build ``program`` with the student's class; check each node's data as it is made."""
    __tracebackhide__ = True
    cls_name = getattr(cls, "__name__", "Value")
    names = program.names()
    nodes: list[Any] = []
    for i, instr in enumerate(program.instrs):
        if instr.op == "leaf":
            function = cls_name
            node = call_student(case, function, cls, instr.args[0])
        else:
            op = OPS[instr.op]
            function = f"{cls_name}.{op.method}"
            operands = [nodes[a] if kind == "n" else a
                        for kind, a in zip(op.arity, instr.args, strict=True)]
            node = call_student(case, function, op.apply, *operands)
        data = _read(case, node, "data", function, cls_name)
        if expected is not None and not _close(data, expected[i], tol):
            lines = [
                case.header("autodiff_hdr_data", node=names[i]),
                M.bilingual("autodiff_wrong_data", indent="  ", node=names[i],
                            expr=program.expr(i, names), expected=_fmt(expected[i]),
                            found=_fmt(data), function=function),
            ]
            raise CheckFailure("\n".join(lines + _program_lines(case, program)),
                               exercise=case.exercise)
        nodes.append(node)
    return nodes


def _program_lines(case: Case, program: Program) -> list[str]:
    if case.redact:
        return []
    return [M.bilingual("autodiff_program", indent="  "),
            *("      " + line for line in program.text())]


def _backward(case: Case, cls: Any, root: Any) -> None:
    __tracebackhide__ = True
    name = f"{getattr(cls, '__name__', 'Value')}.backward"
    call_student(case, name, lambda: root.backward())


# ------------------------------------------------------------------------ the exercise


@dataclass
class ValueExercise(Exercise):
    """The scalar engine: one-operation cases, fixed expressions, then random graphs.

    ``check(id, Value, seeds=[...], num_graphs=...)``.
    """

    stages: Sequence[str] = ()  # which one-operation groups to run first, in order
    fixed: Callable[[], list[Program]] | None = None
    graph_ops: Sequence[str] = ALL_OPS
    num_graphs: int = 10
    cases_per_op: int = 6
    tol: Tolerance = TOL

    def run(self, Value: Any, *, seeds: Sequence[int], num_graphs: int | None = None) -> None:
        __tracebackhide__ = True
        num_graphs = self.num_graphs if num_graphs is None else num_graphs
        count = 0
        for seed in seeds:
            rng = np.random.default_rng(seed)
            count += self._one_operation_cases(Value, seed, rng)
            if self.fixed is not None:
                for program in self.fixed():
                    self._program(Value, program, self.case(seed=seed, description="fixed"))
                    count += 1
            for _ in range(num_graphs):
                program = random_program(rng, self.graph_ops, int(rng.integers(2, 5)),
                                         int(rng.integers(4, 13)))
                self._program(Value, program, self.case(seed=seed, description="random"))
                count += 1
        report_pass(self.title, count)

    # -- one operation at a time, compared as vectors over several operand values

    def _one_operation_cases(self, Value: Any, seed: int, rng: np.random.Generator) -> int:
        __tracebackhide__ = True
        groups = [(name, same) for stage in self.stages for name, same in _STAGE[stage]]
        plans = [(name, same, _op_operands(rng, name, self.cases_per_op)) for name, same in groups]
        count = 0
        plain: dict[tuple[str, bool], list[np.ndarray]] = {}
        for name, same, operands in plans:  # out = op(...); out.backward()
            plain[(name, same)] = self._vector_case(Value, seed, name, same, operands, None)
            count += 1
        for name, same, operands in plans:  # L = op(...) * s; L.backward()
            scales = [round(float(rng.uniform(0.5, 2.0)), 2) * (-1 if i % 2 else 1)
                      for i in range(len(operands))]
            self._vector_case(Value, seed, name, same, operands, scales,
                              ignored_upstream=plain[(name, same)])
            count += 1
        return count

    def _vector_case(self, Value, seed, name, same, operands, scales, ignored_upstream=None):
        __tracebackhide__ = True
        op = OPS[name]
        leaf_names = ["x", "y"][: op.arity.count("n") - (1 if same else 0)]
        description = _describe(name, same, operands, scales)
        case = self.case(seed=seed, description=description)
        outs, grads, refs_out, refs_grads = [], [], [], []
        for i, args in enumerate(operands):
            program = _single(name, args, same, None if scales is None else scales[i])
            ref = torch_run(program)
            nodes = student_run(case, Value, program, None, self.tol)
            out = nodes[-1]
            cls_name = getattr(Value, "__name__", "Value")
            outs.append(_read(case, out, "data", f"{cls_name}.{op.method}", cls_name))
            _backward(case, Value, out)
            leaves = [k for k, instr in enumerate(program.instrs) if instr.op == "leaf"]
            grads.append([_read_grad(case, nodes[k], leaf_names[j]) for j, k in enumerate(leaves)])
            refs_out.append(ref.values[-1])
            refs_grads.append([ref.grads[k] for k in leaves])
        compare_array(case, "out.data" if scales is None else "L.data", np.array(refs_out),
                      np.array(outs), tol=self.tol)
        expected = np.array(refs_grads)
        actual = np.array(grads)
        for j, leaf in enumerate(leaf_names):
            alternatives: list[tuple[str, np.ndarray]] = []
            mutants = (_SELF_MUTANTS if same else _OP_MUTANTS).get(name, [])
            for pos, key, fn in mutants:
                if pos == j:
                    values = [fn(*(args[:1] if same else args)) for args in operands]
                    if scales is not None:
                        values = [v * s for v, s in zip(values, scales, strict=True)]
                    alternatives.append((key, np.array(values)))
            if ignored_upstream is None:  # one node: only a missing L.grad = 1 gives zeros
                if np.all(expected[:, j] != 0):
                    alternatives.append(("autodiff_hint_output_grad", np.zeros(len(operands))))
            else:
                alternatives.append(("autodiff_hint_upstream", ignored_upstream[:, j]))
                alternatives.append(("autodiff_hint_order_zero", np.zeros(len(operands))))
            compare_array(case, f"{leaf}.grad", expected[:, j], actual[:, j], tol=self.tol,
                          alternatives=alternatives, header_key="hdr_mismatch_autograd")
        return expected

    # -- a whole expression: data node by node, then every gradient

    def _program(self, Value: Any, program: Program, case: Case) -> None:
        __tracebackhide__ = True
        ref = torch_run(program)
        nodes = student_run(case, Value, program, ref.values, self.tol)
        _backward(case, Value, nodes[-1])
        names = program.names()
        grads = [_read_grad(case, node, names[i]) for i, node in enumerate(nodes)]
        leaves = [i for i, instr in enumerate(program.instrs) if instr.op == "leaf"]
        graded = [*leaves, len(nodes) - 1]
        if all(_close(grads[i], ref.grads[i], self.tol) for i in graded):
            return
        # The first wrong node in reverse order: everything that uses it is right.
        wrong = next(i for i in reversed(range(len(nodes)))
                     if not _close(grads[i], ref.grads[i], self.tol))
        lines = [
            case.header("autodiff_hdr_grad", node=names[wrong]),
            M.bilingual("autodiff_wrong_grad", indent="  ", node=names[wrong],
                        expected=_fmt(ref.grads[wrong]), found=_fmt(grads[wrong])),
        ]
        if wrong == len(nodes) - 1:
            lines.append(M.bilingual("autodiff_hint_output_grad", indent="  "))
        else:
            users = sorted({u for u, _ in program.uses(wrong)})
            uses = "; ".join(f"{names[u]} = {program.expr(u, names)}" for u in users)
            lines.append(M.bilingual("autodiff_used_by", indent="  ", node=names[wrong],
                                     uses=uses))
            uses_of = program.uses(wrong)
            kept = _partial_sum(grads[wrong], _contributions(program, ref, wrong), self.tol)
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
        stages=("core", "arith"),
        fixed=_arith_fixed,
        graph_ops=CORE_OPS + ARITH_OPS,
        num_graphs=10,
    )
)
register(
    ValueExercise(
        id="value_ops",
        title_en="Exercise 4.3 · Value: exp, log, tanh, relu, sigmoid",
        title_zh="练习 4.3 · Value:exp、log、tanh、relu、sigmoid",
        assignment=ASSIGNMENT,
        stages=("core", "arith", "func"),
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
        stages=("core", "arith", "func"),
        fixed=None,
        graph_ops=ALL_OPS,
        num_graphs=30,
        cases_per_op=3,
    )
)


# ======================================================================= tensor engine


def compare(case: Case, name: str, expected: Any, actual: Any, *, tol: Tolerance = TOL,
            **kwargs: Any) -> None:
    """``compare_array``, except that a wrong finite scalar gets a plain two-number message
    (for one number, "every element is k times the expected value" says nothing)."""
    __tracebackhide__ = True
    expected = np.asarray(expected, dtype=np.float64)
    try:
        value = np.asarray(actual, dtype=np.float64)
    except Exception:
        value = None
    if expected.ndim or value is None or value.shape != () or not np.isfinite(value):
        compare_array(case, name, expected, actual, tol=tol, **kwargs)
        return
    if tol.close(value, expected):
        return
    lines = [
        case.header(kwargs.get("header_key", "hdr_mismatch"), name=name),
        M.bilingual("autodiff_scalar", indent="  ", name=name, expected=_fmt(float(expected)),
                    found=_fmt(float(value))),
    ]
    for key, alternative in kwargs.get("alternatives", ()):
        if Tolerance(tol.rtol * 10, tol.atol * 10).close(value, np.float64(alternative)):
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
class UnbroadcastExercise(Exercise):
    """``unbroadcast(grad, shape)``: ``check(id, unbroadcast, seeds=[...], cases=[(grad_shape,
    shape), ...])``, compared with the gradient torch sends through a broadcast."""

    tol: Tolerance = TOL

    def run(self, unbroadcast: Any, *, seeds: Sequence[int], cases: Sequence[tuple]) -> None:
        __tracebackhide__ = True
        count = 0
        for seed in seeds:
            rng = np.random.default_rng(seed)
            for grad_shape, shape in cases:
                grad_shape, shape = tuple(grad_shape), tuple(shape)
                grad = rng.standard_normal(grad_shape)
                case = self.case(seed=seed, description=(
                    f"unbroadcast(grad, {shape}) with grad.shape={grad_shape}, seed={seed}"))
                expected = _torch_unbroadcast(grad, shape)
                result = call_student(case, "unbroadcast", unbroadcast, grad.copy(), shape,
                                      arg_names=("grad", "shape"))
                self._check_shape(case, result, grad, expected)
                lead = grad.ndim - len(shape)
                axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                                  if n == 1 and grad_shape[lead + i] != 1)
                mean = grad.mean(axis=axes, keepdims=True).reshape(shape) if axes else grad
                compare_array(case, "unbroadcast(grad, shape)", expected, result, tol=self.tol,
                              alternatives=[("autodiff_hint_sum_not_mean", mean)],
                              header_key="hdr_mismatch_autograd")
                count += 1
        report_pass(self.title, count)

    @staticmethod
    def _check_shape(case: Case, result: Any, grad: np.ndarray, expected: np.ndarray) -> None:
        __tracebackhide__ = True
        try:
            shape = np.shape(result)
        except Exception:
            return  # compare_array explains a value that is not an array
        if tuple(shape) == expected.shape:
            return
        if tuple(shape) == grad.shape:
            hint = "autodiff_hint_not_reduced"
        elif int(np.prod(shape)) == expected.size:
            hint = "autodiff_hint_keepdims"
        else:
            hint = "hint_shape_broadcast"
        lines = [
            case.header("hdr_wrong_shape", name="unbroadcast(grad, shape)"),
            M.bilingual("wrong_shape", indent="  ", name="unbroadcast(grad, shape)",
                        found=tuple(shape), expected=expected.shape),
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


def _torch_tensor_expr(expr: TensorExpr, inputs: dict, upstream_seed: int):
    torch = torchref.torch
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
               for k, v in inputs.items()}
    out = expr.build(**tensors)
    upstream = np.random.default_rng(upstream_seed).standard_normal(tuple(out.shape))
    out.backward(torch.tensor(upstream))
    return (out.detach().numpy().copy(), upstream,
            {k: t.grad.numpy().copy() for k, t in tensors.items()})


def _read_array(case: Case, obj: Any, attr: str, function: str, cls: str) -> Any:
    __tracebackhide__ = True
    if not hasattr(obj, attr):
        raise CheckFailure(
            "\n".join([case.header("autodiff_hdr_not_value", function=function),
                       M.bilingual("autodiff_not_value", indent="  ", function=function, cls=cls,
                                   attr=attr, found=type(obj).__name__)]),
            kind="type", exercise=case.exercise)
    return getattr(obj, attr)


@dataclass
class TensorOpsExercise(Exercise):
    """The tensor engine's operations: ``check(id, Tensor, seeds=[...], shapes=[(N, D, M)])``.

    Each expression runs on ``Tensor(array)`` leaves and on torch; ``out.backward(G)`` with a
    random upstream ``G``; forward values and every leaf's ``.grad`` are compared.
    """

    tol: Tolerance = TOL

    def run(self, Tensor: Any, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> None:
        __tracebackhide__ = True
        cls = getattr(Tensor, "__name__", "Tensor")
        count = 0
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
                for number, expr in enumerate(TENSOR_EXPRS):
                    inputs = _tensor_inputs(rng, expr, tuple(shape))
                    out_ref, upstream, grads_ref = _torch_tensor_expr(expr, inputs,
                                                                      seed * 100 + number)
                    case = self.case(seed=seed, inputs=inputs, description=(
                        f"{expr.text}; out.backward(G) with random G, seed={seed}, "
                        + ", ".join(f"{k}.shape={v.shape}" for k, v in inputs.items())))
                    leaves = {k: call_student(case, cls, Tensor, v.copy())
                              for k, v in inputs.items()}
                    out = call_student(case, f"{cls}.{expr.methods}", expr.build,
                                       **leaves)
                    data = _read_array(case, out, "data", expr.text, cls)
                    compare(case, "out.data", out_ref, data, tol=self.tol,
                                  header_key="hdr_mismatch_autograd")
                    call_student(case, f"{cls}.backward", lambda o=out, g=upstream: o.backward(
                        g.copy()))
                    for name, leaf in leaves.items():
                        alternatives = []
                        if name in expr.reuse:
                            alternatives.append(("autodiff_hint_accumulate", grads_ref[name] / 2))
                        if expr.mutants is not None:
                            alternatives += expr.mutants(inputs, upstream).get(name, [])
                        compare_array(case, f"{name}.grad", grads_ref[name],
                                      _read_array(case, leaf, "grad", f"{cls}.backward", cls),
                                      tol=self.tol, alternatives=alternatives,
                                      header_key="hdr_mismatch_autograd")
                    count += 1
        report_pass(self.title, count)


register(TensorOpsExercise(
    id="tensor_ops",
    title_en="Exercise 4.5 · Tensor: +, @, relu, sum, mean",
    title_zh="练习 4.5 · Tensor：加法、矩阵乘法、relu、sum、mean",
    assignment=ASSIGNMENT,
))


def _ce_inputs(rng: np.random.Generator, shape: tuple, scale: float) -> dict:
    n, c = shape
    return {"logits": rng.standard_normal((n, c)) * 2.0 * scale,
            "y": rng.integers(0, c, size=n)}


@dataclass
class CrossEntropyExercise(Exercise):
    """``cross_entropy(logits, y) -> Tensor``: mean log-softmax cross-entropy and its gradient.

    ``check(id, Tensor, cross_entropy, seeds=[...], shapes=[(N, C)], scale=1.0)``.
    """

    tol: Tolerance = TOL

    def run(self, Tensor: Any, cross_entropy: Any, *, seeds: Sequence[int],
            shapes: Sequence[tuple], scale: float = 1.0) -> None:
        __tracebackhide__ = True
        torch = torchref.torch
        cls = getattr(Tensor, "__name__", "Tensor")
        count = 0
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
                inputs = _ce_inputs(rng, tuple(shape), scale)
                logits, y = inputs["logits"], inputs["y"]
                g = float(rng.uniform(0.5, 2.0))
                case = self.case(seed=seed, inputs=inputs)
                t = torch.tensor(logits, requires_grad=True)
                loss_ref = torch.nn.functional.cross_entropy(t, torch.tensor(y))
                loss_ref.backward(torch.tensor(g, dtype=torch.float64))
                dlogits_ref = t.grad.numpy().copy()
                leaf = call_student(case, cls, Tensor, logits.copy())
                loss = call_student(case, "cross_entropy", cross_entropy, leaf, y.copy(),
                                    arg_names=("logits", "y"))
                data = _read_array(case, loss, "data", "cross_entropy", cls)
                compare(case, "loss", loss_ref.detach().numpy(), data, tol=self.tol,
                              batch_size=len(y), header_key="hdr_mismatch_autograd")
                call_student(case, f"{cls}.backward", lambda o=loss, g=g: o.backward(np.array(g)))
                compare_array(case, "logits.grad", dlogits_ref,
                              _read_array(case, leaf, "grad", "cross_entropy", cls),
                              tol=self.tol, batch_size=len(y),
                              alternatives=[("hint_ignores_upstream", dlogits_ref / g)],
                              header_key="hdr_mismatch_autograd")
                count += 1
        report_pass(self.title, count)


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


@dataclass
class MlpLossExercise(Exercise):
    """``mlp_loss(params, X, y) -> Tensor`` for params of Tensors: loss and every parameter's
    ``.grad`` after ``loss.backward()``, against torch.

    ``check(id, Tensor, mlp_loss, seeds=[...], shapes=[(N, num_inputs, num_hiddens, C)])``.
    """

    tol: Tolerance = TOL

    def run(self, Tensor: Any, mlp_loss: Any, *, seeds: Sequence[int],
            shapes: Sequence[tuple]) -> None:
        __tracebackhide__ = True
        torch = torchref.torch
        cls = getattr(Tensor, "__name__", "Tensor")
        count = 0
        for seed in seeds:
            for shape in shapes:
                n, d, h, c = shape
                rng = np.random.default_rng(seed)
                params = mlp_params(rng, d, h, c)
                X = rng.standard_normal((n, d))
                y = rng.integers(0, c, size=n)
                case = self.case(seed=seed, inputs={"X": X, "y": y, **params})
                tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
                hidden = torch.relu(torch.tensor(X) @ tp["W1"] + tp["b1"])
                loss_ref = torch.nn.functional.cross_entropy(hidden @ tp["W2"] + tp["b2"],
                                                             torch.tensor(y))
                loss_ref.backward()
                student = {k: call_student(case, cls, Tensor, v.copy()) for k, v in params.items()}
                loss = call_student(case, "mlp_loss", mlp_loss, student, X.copy(), y.copy(),
                                    arg_names=("params", "X", "y"))
                data = _read_array(case, loss, "data", "mlp_loss", cls)
                compare(case, "loss", loss_ref.detach().numpy(), data, tol=self.tol,
                              batch_size=n, header_key="hdr_mismatch_autograd")
                call_student(case, f"{cls}.backward", lambda o=loss: o.backward())
                for name, leaf in student.items():
                    compare_array(case, f"params['{name}'].grad", tp[name].grad.numpy(),
                                  _read_array(case, leaf, "grad", "mlp_loss", cls),
                                  tol=self.tol, batch_size=n, header_key="hdr_mismatch_autograd")
                count += 1
        report_pass(self.title, count)


register(MlpLossExercise(
    id="mlp_loss",
    title_en="Exercise 4.7 · the MLP loss on the tensor engine",
    title_zh="练习 4.7 · 用张量引擎计算 MLP 的损失",
    assignment=ASSIGNMENT,
))
