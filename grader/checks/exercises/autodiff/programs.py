"""Scalar programs: operations, expressions written down in order, and known mistakes.

A program is a computation graph written as a list of instructions (leaves, then
operations on earlier nodes or constants), generated from a seed or written by hand. The
same program runs on the student's ``Value`` and on torch. Each operation (:data:`OPS`) is
written once as a Python function that works on both (and on floats, to keep generated
programs in range).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks.compare import Tolerance

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


def core_fixed() -> list[Program]:
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


def arith_fixed() -> list[Program]:
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


def func_fixed() -> list[Program]:
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
OP_MUTANTS: dict[str, list[tuple[int, str, Callable[..., float]]]] = {
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
SELF_MUTANTS: dict[str, list[tuple[int, str, Callable[..., float]]]] = {
    "add": [(0, "autodiff_hint_accumulate", lambda x: 1.0)],
    "mul": [(0, "autodiff_hint_accumulate", lambda x: x)],
}
STAGES = {
    "core": [("add", False), ("addc", False), ("mul", False), ("mulc", False),
             ("add", True), ("mul", True)],
    "arith": [(name, False) for name in ARITH_OPS],
    "func": [(name, False) for name in FUNC_OPS],
}
#: Stages whose operations also run without the final ``* s`` (``out = op(...)``), where a
#: missing ``L.grad = 1.0`` shows; later stages run with a random upstream gradient only.
PLAIN_STAGES = ("core",)


def op_operands(rng: np.random.Generator, name: str, count: int) -> list[tuple]:
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


def single_op_program(name: str, operands: tuple, same: bool, scale: float | None) -> Program:
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

