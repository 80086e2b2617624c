"""4.1–4.3 · the scalar engine ``Value``: one operation at a time, then whole expressions.

An expression's references come from torch (``retain_grad`` on every node, and on an
identity copy of every single use of a node when a failure is explained), so every node's
``.data`` and ``.grad`` has an expected value and so does each use's contribution to a
gradient. When a gradient is wrong, the first wrong node in reverse order (all its users
are right) tells what kind of mistake it is: a node used twice that kept one
contribution (``=`` instead of ``+=``), a local derivative (caught earlier by the
one-operation cases), or the order in which ``backward()`` visits the graph.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
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
    report_pass,
    require_callable,
)
from grader.checks.exercises import register
from grader.checks.exercises.autodiff.common import (
    EngineExercise,
    Traced,
    class_name,
    fmt,
    paused_gc,
    read_grad,
    read_number,
    step_value,
)
from grader.checks.exercises.autodiff.programs import (
    ALL_OPS,
    ARITH_OPS,
    CORE_OPS,
    OP_MUTANTS,
    OPS,
    PLAIN_STAGES,
    SELF_MUTANTS,
    STAGES,
    TOL,
    Program,
    arith_fixed,
    core_fixed,
    func_fixed,
    op_operands,
    random_program,
    single_op_program,
)
from grader.checks.policy import strict_gradients
from grader.checks.specs import numbered
from grader.checks.steps import Done, Ref, Steps

ASSIGNMENT = "04_autodiff"

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


def _program_lines(case: Case, program: Program) -> list[str]:
    if case.redact:
        return []
    return [M.bilingual("autodiff_program", indent="  "),
            *("      " + line for line in program.text())]


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
            plans = [(stage, name, same, op_operands(rng, name, self.cases_per_op))
                     for stage in self.stages for name, same in STAGES[stage]]
            for stage, name, same, operands in plans:  # out = op(...); out.backward()
                if stage in PLAIN_STAGES:
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
        programs = [single_op_program(name, args, same, None if scales is None else scales[i])
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
            for pos, key, fn in (SELF_MUTANTS if same else OP_MUTANTS).get(name, []):
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
        """Run the failing case again, alone, reading everything; raise what that shows.

        For an expression, each operation it uses runs on its own first (the one-operation
        cases of every stage, not only this exercise's), so that a wrong local derivative is
        named as such and the graph diagnosis (accumulation, order) speaks only when every
        operation is right on its own."""
        __tracebackhide__ = True
        singles: list[Case] = []
        if case.data["kind"] == "program":  # what each use contributes, for the diagnosis
            case.data["reference"] = torch_run(case.data["program"], contributions=True)
            singles = self._single_op_cases(case)
        steps = Steps()
        plans = [self.drive(steps, single, Value, full=True) for single in singles]
        plan = self.drive(steps, case, Value, full=True)
        done = steps.run()
        for single, single_plan in zip(singles, plans, strict=True):
            self.judge(single, done, single_plan)
        self.judge(case, done, plan)
        raise failure  # the student's code did not fail twice in the same way

    def _single_op_cases(self, case: Case) -> list[Case]:
        """One-operation cases (with their references) for every operation of the program."""
        used = {instr.op for instr in case.data["program"].instrs}
        rng = np.random.default_rng(case.seed)
        found = []
        for stage in ("core", "arith", "func"):
            for name, same in STAGES[stage]:
                if name not in used:
                    continue
                operands = op_operands(rng, name, self.cases_per_op)
                if stage in PLAIN_STAGES:
                    found.append(self._vector_case(case.seed, name, same, operands, None))
                scales = [round(float(rng.uniform(0.5, 2.0)), 2) * (-1 if i % 2 else 1)
                          for i in range(len(operands))]
                found.append(self._vector_case(case.seed, name, same, operands, scales))
        self._references(found)
        return found

    def drive(self, steps: Steps, case: Case, Value: Any, full: bool = False) -> list[Emitted]:
        __tracebackhide__ = True
        cls = class_name(Value, "Value")
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
            step_value(case, done, emitted.backward)
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
                                expr=program.expr(i, names), expected=fmt(ref.values[i]),
                                found=fmt(value), function=emitted.functions[i]),
                ]
                raise CheckFailure("\n".join(lines + _program_lines(case, program)),
                                   exercise=case.exercise)
        step_value(case, done, emitted.backward)
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
                        expected=fmt(ref.grads[wrong]), found=fmt(grads[wrong])),
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
        answer_text=("other.data * out.grad", "self.data * out.grad"),
        **numbered("4.1", "Value: * and backward()", "Value：乘法与 backward()", ASSIGNMENT),
        stages=("core",),
        fixed=core_fixed,
        graph_ops=CORE_OPS,
        num_graphs=10,
    )
)
register(
    ValueExercise(
        id="value_arith",
        answer_text=("k * self.data ** (k - 1)", "k\\,x^{k-1}", "self * other**-1"),
        **numbered("4.2", "Value: -, /, ** and numbers on the left",
                   "Value：减法、除法、乘方与左侧的普通数", ASSIGNMENT),
        stages=("arith",),
        fixed=arith_fixed,
        graph_ops=CORE_OPS + ARITH_OPS,
        num_graphs=10,
    )
)
register(
    ValueExercise(
        id="value_ops",
        answer_text=("1 - t**2", "s * (1 - s)", "out.grad / self.data", "1 - \\tanh^2"),
        **numbered("4.3", "Value: exp, log, tanh, relu, sigmoid",
                   "Value：exp、log、tanh、relu、sigmoid", ASSIGNMENT),
        stages=("func",),
        fixed=func_fixed,
        graph_ops=ALL_OPS,
        num_graphs=10,
    )
)
register(
    ValueExercise(
        id="value_graphs",
        **numbered("4.3", "Value: random expression graphs", "Value：随机表达式图", ASSIGNMENT),
        stages=(),
        fixed=None,
        graph_ops=ALL_OPS,
        num_graphs=30,
    )
)

