"""Assignment 04 · 计算图与自动微分: the reference passes, stubs fail, and the bug zoo is caught.

Wrong implementations are made from the reference notebook itself: its graded code
with some text changed (``variant``), so each one is exactly the mistake it names. The
given parts of the notebook (``Value.__add__``, ``exp``, ``Tensor.backward``, ...) are
changed too where that shows what the check does with an engine that breaks there.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from support import fails, solution, stubs

from grader import check, notebooks
from grader.checks.exercises.autodiff import (
    ALL_OPS,
    CORE_OPS,
    OPS,
    Program,
    random_program,
    torch_run,
)
from grader.paths import SOLUTIONS

A = "04_autodiff"
BROADCAST_CASES = [((4, 3), (3,)), ((4, 3), (4, 1)), ((2, 4, 3), (4, 1)), ((4, 3), ()),
                   ((1, 3), (1, 1)), ((4, 3), (4, 3))]
TENSOR_SHAPES = [(1, 3, 2), (4, 5, 3)]
SIZES = [(4, 3, 5, 2), (1, 2, 3, 3, 2)]
LRS = [0.1, 0.1, 0.03, 0.03]


@functools.cache
def _reference_code() -> str:
    nb = notebooks.read(SOLUTIONS / A / "autodiff.ipynb")
    return "\n\n".join(notebooks.graded_code(nb))


def variant(*replacements: tuple[str, str]) -> dict:
    """The reference answers with each ``old`` text (which must occur once) replaced."""
    code = _reference_code()
    for old, new in replacements:
        assert code.count(old) == 1, f"{old!r} occurs {code.count(old)} times in the reference"
        code = code.replace(old, new)
    namespace: dict = {"__name__": "__variant__"}
    exec(compile(code, "<variant>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def ref() -> dict:
    return solution(A)


@pytest.fixture(scope="module")
def blank() -> dict:
    return stubs(A)


def modules(ns, seeds=(0,), sizes=SIZES):
    check("modules", ns["Tensor"], ns["Linear"], ns["ReLU"], ns["Sequential"],
          seeds=list(seeds), sizes=sizes)


def sgd(ns, seeds=(0,), lrs=LRS):
    check("sgd_optimizer", ns["Tensor"], ns["SGD"], seeds=list(seeds),
          shapes=[(3, 2), (2,)], lrs=lrs)


def train_step(ns, seeds=(0,), lrs=(0.5, 0.5, 0.2)):
    check("module_train_step", ns["Tensor"], ns["Linear"], ns["ReLU"], ns["Sequential"],
          ns["SGD"], ns["train_step"], seeds=list(seeds), sizes=[(8, 2, 6, 3)], lrs=list(lrs))


# ------------------------------------------------------------------------ programs


def test_random_program_is_deterministic_and_shares_nodes():
    first = random_program(np.random.default_rng(7), ALL_OPS, 3, 10)
    second = random_program(np.random.default_rng(7), ALL_OPS, 3, 10)
    assert first.text() == second.text()
    assert any(len(first.uses(i)) >= 2 for i in range(len(first.instrs) - 1))


@pytest.mark.parametrize("seed", range(20))
def test_random_program_stays_in_range(seed):
    program = random_program(np.random.default_rng(seed), ALL_OPS, 3, 12)
    reference = torch_run(program)
    assert all(np.isfinite(reference.values)) and all(np.isfinite(reference.grads))
    assert max(abs(v) for v in reference.values[:-1]) <= 20.0
    used = {a for i in range(len(program.instrs)) for a in program.operands(i)}
    inner = [i for i, instr in enumerate(program.instrs[:-1]) if instr.op != "leaf"]
    assert all(i in used for i in inner), "every operation feeds the output"


def test_program_text_reads_as_python(ref):
    program = random_program(np.random.default_rng(3), CORE_OPS, 2, 6)
    namespace = {"Value": ref["Value"]}
    exec("\n".join(program.text()), namespace)
    expected = torch_run(program)
    assert namespace["L"].data == pytest.approx(expected.values[-1])
    assert namespace["a"].grad == pytest.approx(expected.grads[0])


def test_every_op_has_a_torch_equivalent():
    for name, op in OPS.items():
        program = Program()
        args = [program.leaf(1.3) if kind == "n" else 2 for kind in op.arity]
        program.op(name, *args)
        assert np.isfinite(torch_run(program).grads[0]), name


def test_contributions_of_the_uses_of_a_node_add_up_to_its_gradient():
    for seed in range(10):
        program = random_program(np.random.default_rng(seed), ALL_OPS, 3, 10)
        reference = torch_run(program)
        for i in range(len(program.instrs) - 1):
            assert len(reference.contributions[i]) == len(program.uses(i))
            assert sum(reference.contributions[i]) == pytest.approx(reference.grads[i],
                                                                     rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------------- reference


def test_reference_passes_every_check_quietly(ref, capsys):
    check("value_core", ref["Value"], seeds=[0, 1], num_graphs=10)
    check("value_arith", ref["Value"], seeds=[0])
    check("value_ops", ref["Value"], seeds=[0])
    check("value_graphs", ref["Value"], seeds=[5], num_graphs=20)
    check("unbroadcast", ref["unbroadcast"], seeds=[0], cases=BROADCAST_CASES)
    check("tensor_ops", ref["Tensor"], seeds=[0], shapes=TENSOR_SHAPES)
    check("cross_entropy", ref["Tensor"], ref["cross_entropy"], seeds=[0],
          shapes=[(1, 3), (6, 4)])
    check("cross_entropy", ref["Tensor"], ref["cross_entropy"], seeds=[1], shapes=[(5, 3)],
          scale=1000.0)
    check("mlp_loss", ref["Tensor"], ref["mlp_loss"], seeds=[0],
          shapes=[(1, 2, 3, 2), (8, 2, 16, 3)])
    modules(ref)
    sgd(ref)
    train_step(ref)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.count("✓") == 2 * 12


def test_reference_passes_many_seeds(ref):
    check("value_graphs", ref["Value"], seeds=list(range(10, 16)), num_graphs=15)
    check("tensor_ops", ref["Tensor"], seeds=[7, 8, 9], shapes=[(1, 1, 1), (9, 2, 7)])
    modules(ref, seeds=range(3), sizes=[(1, 1, 1), (7, 4, 8, 3), (2, 3, 2, 2, 2, 2)])
    sgd(ref, seeds=range(3), lrs=[1.0, 0.5, 0.25, 0.25, 0.1])
    train_step(ref, seeds=range(3), lrs=(0.1, 1.0, 0.5, 0.5))


# --------------------------------------------------------------------------- stubs


@pytest.mark.parametrize("call, function", [
    (lambda ns: check("value_core", ns["Value"], seeds=[0]), "Value.backward"),
    (lambda ns: check("value_arith", ns["Value"], seeds=[0]), "Value.__radd__"),
    (lambda ns: check("unbroadcast", ns["unbroadcast"], seeds=[0], cases=BROADCAST_CASES),
     "unbroadcast"),
    (lambda ns: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
     "`unbroadcast`, called by `Tensor.backward`"),
    (lambda ns: check("cross_entropy", ns["Tensor"], ns["cross_entropy"], seeds=[0],
                      shapes=[(2, 3)]), "cross_entropy"),
    (modules, "Linear"),
    (sgd, "SGD"),
    (train_step, "Linear"),
])
def test_blank_release_is_not_done(blank, call, function):
    fails(lambda: call(blank), kind="not_done", contains=[f"{function}", "NotImplementedError"])


def test_value_ops_stub_not_done():
    ns = variant(('''    out = Value(math.log(self.data), (self,), "log")''',
                  '''    raise NotImplementedError()'''))
    fails(lambda: check("value_ops", ns["Value"], seeds=[0]), kind="not_done",
          contains=["Value.log"])


def test_mlp_loss_stub_not_done(ref, blank):
    fails(lambda: check("mlp_loss", ref["Tensor"], blank["mlp_loss"], seeds=[0],
                        shapes=[(2, 2, 3, 2)]), kind="not_done", contains=["mlp_loss"])


# ------------------------------------------------------------------- bug zoo: Value

ADD_BACKWARD = """            self.grad += out.grad
            other.grad += out.grad"""
MUL_BACKWARD = """        self.grad += other.data * out.grad
        other.grad += self.data * out.grad"""
WALK = """    self.grad = 1.0
    for node in reversed(topo):
        node._backward()
    ### END SOLUTION"""  # Value.backward (Tensor.backward is given, without markers)


def test_value_core_overwritten_add_gradient_fails_with_accumulate_hint():
    ns = variant((ADD_BACKWARD, ADD_BACKWARD.replace("+=", "=")))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]),
          contains=["`x.grad`", "out = x + x", "(`+=`)", "`+=`"])


def test_value_core_overwritten_mul_gradient_fails_with_accumulate_hint():
    ns = variant((MUL_BACKWARD, MUL_BACKWARD.replace("+=", "=")))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]),
          contains=["`x.grad`", "out = x * x", "never assign", "累加梯度"])


def test_value_core_swapped_mul_fails_with_swap_hint():
    ns = variant((MUL_BACKWARD, """        self.grad += self.data * out.grad
        other.grad += other.data * out.grad"""))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]),
          contains=["`x.grad`", "multiplication swaps", "乘法在反向传播时要交换输入"])


def test_value_core_forward_order_fails_with_order_hint():
    ns = variant((WALK, WALK.replace("reversed(topo)", "topo")))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]),
          contains=["`x.grad`", "L = (x + y) * s", "order of backward()", "逆序遍历"])


def test_value_core_walk_without_visited_set_fails_with_order_hint():
    ns = variant(("""        if node not in visited:
            visited.add(node)
            for child in node._prev:
                build(child)
            topo.append(node)

    build(self)
    self.grad = 1.0""", """        for child in node._prev:
            build(child)
        topo.append(node)

    build(self)
    self.grad = 1.0"""))
    failure = fails(lambda: check("value_core", ns["Value"], seeds=[0]),
                    contains=["`v1.grad`", "is used by", "order of backward()",
                              "v3 = v2 * v1", "L.backward()"])
    assert "a = Value(1.5)" in failure.args[0], "the failing program is printed"


def test_value_core_naive_recursion_fails_with_order_hint():
    ns = variant((WALK, """    def push(node):
        node._backward()
        for child in node._prev:
            push(child)

    self.grad = 1.0
    push(self)
    ### END SOLUTION"""))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]),
          contains=["does not match PyTorch autograd", "order of backward()"])


def test_value_core_missing_output_seed_fails_with_hint():
    ns = variant((WALK, WALK.replace("    self.grad = 1.0\n", "")))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]),
          contains=["`x.grad`", "L.grad must be 1.0"])


def test_value_core_forgotten_return_fails_with_type_message():
    ns = variant(("""    out._backward = _backward
    return out
    ### END SOLUTION


@add_to_class(Value)
def backward""", """    out._backward = _backward
    ### END SOLUTION


@add_to_class(Value)
def backward"""))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]), kind="type",
          contains=["`Value.__mul__`", "returned None", "return out", "是否忘了"])


def test_value_core_student_exception_is_shown_as_their_traceback():
    ns = variant(("""    other = other if isinstance(other, Value) else Value(other)
    out = Value(self.data * other.data, (self, other), "*")""",
                  """    out = Value(self.data * other.data, (self, other), "*")"""))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]), kind="exception",
          contains=["Value.__mul__", "AttributeError"])


def test_value_core_float32_engine_fails_the_gradient_rule():
    ns = variant(("        self.data = float(data)\n        self.grad = 0.0\n",
                  "        self.data = np.float32(data)\n        self.grad = np.float32(0.0)\n"))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]),
          contains=["float32", "1e-15"])


def test_value_arith_wrong_pow_derivative_fails_with_pow_hint():
    ns = variant(("self.grad += k * self.data ** (k - 1) * out.grad",
                  "self.grad += k * self.data ** k * out.grad"))
    fails(lambda: check("value_arith", ns["Value"], seeds=[0]),
          contains=["`x.grad`", "L = (x ** k) * s", "k * x**(k - 1)", "指数减一"])


def test_value_arith_pow_without_factor_fails_with_pow_hint():
    ns = variant(("self.grad += k * self.data ** (k - 1) * out.grad",
                  "self.grad += self.data ** (k - 1) * out.grad"))
    fails(lambda: check("value_arith", ns["Value"], seeds=[0]), contains=["keep the factor k"])


def test_value_arith_reversed_rsub_fails_on_data():
    ns = variant(("    return other + (-self)\n", "    return self - other\n"))
    fails(lambda: check("value_arith", ns["Value"], seeds=[0]),
          contains=["`L.data`", "L = (c - x) * s", "sign is flipped"])


def test_value_arith_missing_radd_fails_with_student_exception():
    ns = variant(("""@add_to_class(Value)
def __radd__(self, other):""", """def __radd__(self, other):"""))
    fails(lambda: check("value_arith", ns["Value"], seeds=[0]), kind="exception",
          contains=["Value.__radd__", "TypeError"])


def test_value_ops_tanh_without_square_fails_with_tanh_hint():
    ns = variant(("self.grad += (1.0 - t**2) * out.grad", "self.grad += (1.0 - t) * out.grad"))
    fails(lambda: check("value_ops", ns["Value"], seeds=[0]),
          contains=["`x.grad`", "L = x.tanh() * s", "1 - t**2"])


def test_value_ops_log_derivative_wrong_fails_with_log_hint():
    ns = variant(("self.grad += out.grad / self.data", "self.grad += out.grad * self.data"))
    fails(lambda: check("value_ops", ns["Value"], seeds=[0]),
          contains=["L = x.log() * s", "derivative of log(x) is 1/x"])


def test_value_ops_sigmoid_ignoring_upstream_fails_with_upstream_hint():
    ns = variant(("self.grad += s * (1.0 - s) * out.grad", "self.grad += s * (1.0 - s)"))
    fails(lambda: check("value_ops", ns["Value"], seeds=[0]),
          contains=["L = x.sigmoid() * s", "not multiplied by `out.grad`"])


def test_value_ops_sigmoid_from_input_fails_with_sigmoid_hint():
    ns = variant(("self.grad += s * (1.0 - s) * out.grad", "self.grad += x * (1.0 - x) * out.grad"))
    fails(lambda: check("value_ops", ns["Value"], seeds=[0]), contains=["s * (1 - s)"])


def test_value_ops_relu_passing_its_value_fails_with_relu_hint():
    ns = variant(("self.grad += (1.0 if self.data > 0 else 0.0) * out.grad",
                  "self.grad += out.data * out.grad"))
    fails(lambda: check("value_ops", ns["Value"], seeds=[0]),
          contains=["L = x.relu() * s", "a mask, not the output value"])


def test_value_ops_exp_derivative_from_input_fails_with_exp_hint():
    ns = variant(("self.grad += out.data * out.grad", "self.grad += self.data * out.grad"))
    fails(lambda: check("value_ops", ns["Value"], seeds=[0]),
          contains=["L = x.exp() * s", "exp(x) itself"])


def test_value_ops_naive_sigmoid_overflows_on_edge_inputs():
    ns = variant(("""    s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))""",
                  """    s = 1.0 / (1.0 + math.exp(-x))"""))
    fails(lambda: check("value_ops", ns["Value"], seeds=[0]), kind="exception",
          contains=["Value.sigmoid", "OverflowError"])


def test_value_graphs_overwrite_at_fan_out_is_diagnosed():
    # Each operation alone passes (x + x still accumulates), so only a node feeding two
    # different users shows the mistake: this exercises the graph-level diagnosis.
    ns = variant((ADD_BACKWARD, """            if self is other:
                self.grad += 2 * out.grad
            else:
                self.grad = out.grad
                other.grad = out.grad"""))
    fails(lambda: check("value_graphs", ns["Value"], seeds=[0], num_graphs=30),
          contains=["does not match PyTorch autograd", "is used by", "is missing", "`+=`",
                    "L.backward()"])


def test_a_wrong_local_derivative_in_a_graph_is_named_not_the_walk():
    """value_graphs runs no one-operation cases of its own; explaining a failing graph runs
    each of its operations alone first, so a wrong power rule is not called an order bug."""
    ns = variant(("self.grad += k * self.data ** (k - 1) * out.grad",
                  "self.grad += self.data ** (k - 1) * out.grad"))
    failure = fails(lambda: check("value_graphs", ns["Value"], seeds=[303], num_graphs=25),
                    contains=["keep the factor k", "L = (x ** k) * s"])
    assert "order of backward()" not in failure.args[0]


def test_a_failing_case_is_explained_by_running_it_again_alone(ref):
    """A fast run reads only the graded values; the failing case runs once more with every
    node read, and that run's diagnosis is what the student sees."""
    from grader.checks import steps as steps_module

    ns = variant((ADD_BACKWARD, """            if self is other:
                self.grad += 2 * out.grad
            else:
                self.grad = out.grad
                other.grad = out.grad"""))
    runs = []
    original = steps_module.LocalExecutor.run

    def counting(self, steps):
        runs.append(len(steps.items))
        return original(self, steps)

    steps_module.LocalExecutor.run = counting
    try:
        fails(lambda: check("value_graphs", ns["Value"], seeds=[0], num_graphs=30),
              contains=["is used by"])
        check("value_graphs", ref["Value"], seeds=[0], num_graphs=30)
    finally:
        steps_module.LocalExecutor.run = original
    assert len(runs) == 3 and runs[1] < runs[0], runs  # failing: 2 runs; passing: 1


# ------------------------------------------------------------------ bug zoo: Tensor


def _unbroadcast(body):
    namespace = {"np": np}
    exec("def unbroadcast(grad, shape):\n" + body, namespace)
    return namespace["unbroadcast"]


def test_unbroadcast_not_reduced_fails_with_hint():
    fn = _unbroadcast("    return grad\n")
    fails(lambda: check("unbroadcast", fn, seeds=[0], cases=BROADCAST_CASES),
          contains=["has shape (4, 3); expected (3,)", "not reduced", "没有被约简"])


def test_unbroadcast_leading_axes_only_fails_with_hint():
    fn = _unbroadcast("    return grad.sum(axis=tuple(range(grad.ndim - len(shape))))\n")
    fails(lambda: check("unbroadcast", fn, seeds=[0], cases=BROADCAST_CASES),
          contains=["expected (4, 1)", "not reduced"])


def test_unbroadcast_without_keepdims_fails_with_hint():
    fn = _unbroadcast("""    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1)
    return grad.sum(axis=axes)
""")
    fails(lambda: check("unbroadcast", fn, seeds=[0], cases=BROADCAST_CASES),
          contains=["has shape (4,); expected (4, 1)", "keepdims=True"])


def test_unbroadcast_mean_instead_of_sum_fails_with_hint():
    fn = _unbroadcast("""    grad = grad.mean(axis=tuple(range(grad.ndim - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1)
    return grad.mean(axis=axes, keepdims=True) if axes else grad
""")
    fails(lambda: check("unbroadcast", fn, seeds=[0], cases=BROADCAST_CASES),
          contains=["broadcast axes were averaged", "np.sum"])


def test_unbroadcast_changing_its_input_fails():
    fn = _unbroadcast("""    grad -= 0
    out = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1)
    out = out.sum(axis=axes, keepdims=True) if axes else out
    grad[...] = 0
    return out.reshape(shape)
""")
    fails(lambda: check("unbroadcast", fn, seeds=[0], cases=BROADCAST_CASES), kind="mutated",
          contains=["changed its input `grad`"])


TENSOR_ADD = """            if self.requires_grad:
                self._accumulate(unbroadcast(out.grad, self.data.shape))
            if other.requires_grad:
                other._accumulate(unbroadcast(out.grad, other.data.shape))"""
MATMUL = """        if self.requires_grad:
            self._accumulate(out.grad @ other.data.T)
        if other.requires_grad:
            other._accumulate(self.data.T @ out.grad)"""


def test_tensor_ops_broadcast_gradient_not_reduced_fails_naming_the_bias():
    ns = variant((TENSOR_ADD, """            if self.requires_grad:
                self._accumulate(out.grad)
            if other.requires_grad:
                other._accumulate(out.grad)"""))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          contains=["`b.grad` has the wrong shape", "out = x + b"])


def test_tensor_ops_overwritten_gradient_fails_with_accumulate_hint():
    ns = variant((TENSOR_ADD, """            if self.requires_grad:
                self.grad = unbroadcast(out.grad, self.data.shape)
            if other.requires_grad:
                other.grad = unbroadcast(out.grad, other.data.shape)"""))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          contains=["`a.grad`", "out = a + a", "`+=`"])


def test_tensor_ops_mean_without_division_fails_with_hint():
    ns = variant(("self._accumulate(np.broadcast_to(out.grad / self.data.size, self.data.shape))",
                  "self._accumulate(np.broadcast_to(out.grad, self.data.shape))"))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          contains=["`x.grad`", "out = x.mean()", "number of elements"])


def test_tensor_ops_relu_mask_from_output_fails_with_hint():
    ns = variant(("self._accumulate((self.data > 0) * out.grad)",
                  "self._accumulate((out.data >= 0) * out.grad)"))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=[(4, 5, 3)]),
          contains=["`x.grad`", "out = x.relu()", "mask"])


def test_tensor_ops_matmul_gradient_transposed_fails():
    ns = variant(("other._accumulate(self.data.T @ out.grad)",
                  "other._accumulate(out.grad.T @ self.data)"))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          contains=["`w.grad`", "transposed"])


def test_tensor_ops_matmul_ignoring_upstream_fails():
    ns = variant(("self._accumulate(out.grad @ other.data.T)",
                  "self._accumulate(np.ones_like(out.grad) @ other.data.T)"))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          contains=["`x.grad`", "out = x @ w"])


def test_tensor_ops_gradient_for_data_without_requires_grad_fails():
    ns = variant((MATMUL, """        self._accumulate(out.grad @ other.data.T)
        other._accumulate(self.data.T @ out.grad)"""))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          contains=["`x.grad` should be None", "without requires_grad", "if x.requires_grad",
                    "no requires_grad"])


def test_tensor_ops_plus_equals_on_a_lazy_gradient_gets_the_hint():
    ns = variant(("self._accumulate((self.data > 0) * out.grad)",
                  "self.grad += (self.data > 0) * out.grad"))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          kind="exception", contains=["Tensor.backward", "TypeError", "_accumulate"])


def test_tensor_ops_eager_zero_gradients_fail_the_lazy_promise():
    ns = variant(("        self.grad = None\n        self.requires_grad = bool(requires_grad)",
                  "        self.grad = np.zeros_like(self.data)\n"
                  "        self.requires_grad = bool(requires_grad)"))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          contains=["Before backward()", "should be None", "an array of shape"])


def test_tensor_ops_float32_engine_fails_the_gradient_rule():
    ns = variant(("        self.data = np.asarray(data, dtype=np.float64)\n        self.grad = None",
                  "        self.data = np.asarray(data, dtype=np.float32)\n        self.grad = None"))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          contains=["float32"])


CE_SHIFT = "    z = logits.data - logits.data.max(axis=1, keepdims=True)"
CE_GRAD = "            logits._accumulate(dlogits / n * out.grad)"


def test_cross_entropy_without_max_shift_overflows_on_large_logits():
    ns = variant((CE_SHIFT, "    z = logits.data"))
    check("cross_entropy", ns["Tensor"], ns["cross_entropy"], seeds=[0], shapes=[(6, 4)])
    fails(lambda: check("cross_entropy", ns["Tensor"], ns["cross_entropy"], seeds=[1],
                        shapes=[(5, 3)], scale=1000.0),
          contains=["`loss` is not finite", "overflow"])


def test_cross_entropy_missing_batch_division_fails_with_batch_hint():
    ns = variant((CE_GRAD, "            logits._accumulate(dlogits * out.grad)"))
    fails(lambda: check("cross_entropy", ns["Tensor"], ns["cross_entropy"], seeds=[1],
                        shapes=[(5, 3)]),
          contains=["`logits.grad`", "batch size N=5"])


def test_cross_entropy_ignoring_upstream_fails_with_hint():
    ns = variant((CE_GRAD, "            logits._accumulate(dlogits / n)"))
    fails(lambda: check("cross_entropy", ns["Tensor"], ns["cross_entropy"], seeds=[1],
                        shapes=[(5, 3)]),
          contains=["`logits.grad`", "upstream gradient"])


def test_cross_entropy_changing_the_logits_in_place_fails():
    ns = variant((CE_SHIFT, """    logits.data -= logits.data.max(axis=1, keepdims=True)
    z = logits.data"""))
    fails(lambda: check("cross_entropy", ns["Tensor"], ns["cross_entropy"], seeds=[1],
                        shapes=[(5, 3)]), kind="mutated", contains=["cross_entropy", "logits"])


def test_mlp_loss_missing_bias_fails_on_loss():
    ns = variant(('''    return cross_entropy(H @ params["W2"] + params["b2"], y)''',
                  '''    return cross_entropy(H @ params["W2"], y)'''))
    fails(lambda: check("mlp_loss", ns["Tensor"], ns["mlp_loss"], seeds=[0],
                        shapes=[(8, 2, 16, 3)]),
          contains=["`loss` should be", "X.shape=(8, 2)"])


def test_mlp_loss_without_relu_fails_on_loss():
    ns = variant(('''    H = (Tensor(X) @ params["W1"] + params["b1"]).relu()''',
                  '''    H = Tensor(X) @ params["W1"] + params["b1"]'''))
    fails(lambda: check("mlp_loss", ns["Tensor"], ns["mlp_loss"], seeds=[0],
                        shapes=[(8, 2, 16, 3)]), contains=["`loss`"])


# ---------------------------------------------------------------- bug zoo: modules

SEQ_PARAMS = "        return [p for layer in self.layers for p in layer.parameters()]"
ZERO_GRAD = """        for p in self.parameters():
            p.grad = None"""


def test_modules_parameters_not_collected_fails_with_hint():
    ns = variant((SEQ_PARAMS, "        return self.layers[0].parameters()"))
    fails(lambda: modules(ns), contains=["returned 2 parameters; expected 4",
                                         "were not collected", "没有被收集"])


def test_modules_linear_without_bias_parameter_fails():
    ns = variant(("        return [self.W, self.b]", "        return [self.W]"))
    fails(lambda: modules(ns), contains=["returned 2 parameters; expected 4"])


def test_modules_parameters_as_copies_fail():
    ns = variant(("        return [self.W, self.b]",
                  "        return [Tensor(self.W.data.copy(), requires_grad=True),\n"
                  "                Tensor(self.b.data.copy(), requires_grad=True)]"))
    fails(lambda: modules(ns), contains=["not new copies", "而不是新的副本"])


def test_modules_grads_not_zeroed_fail():
    ns = variant((ZERO_GRAD, "        pass"))
    fails(lambda: modules(ns), contains=["was not reset by model.zero_grad()",
                                         "the next backward() would add to it"])


def test_modules_zero_grad_of_the_first_layer_only_fails():
    ns = variant((ZERO_GRAD, """        for p in self.parameters()[:2]:
            p.grad = None"""))
    fails(lambda: modules(ns), contains=["`W2.grad` was not reset"])


def test_modules_zero_grad_with_zeros_keeps_every_point():
    ns = variant((ZERO_GRAD, """        for p in self.parameters():
            p.grad = np.zeros_like(p.data)"""))
    modules(ns)


def test_modules_normal_initialisation_fails_with_the_bounds():
    ns = variant(("        self.W = Tensor(rng.uniform(-k, k, size=(num_inputs, num_outputs)), "
                  "requires_grad=True)",
                  "        self.W = Tensor(rng.standard_normal((num_inputs, num_outputs)), "
                  "requires_grad=True)"))
    fails(lambda: modules(ns, sizes=[(4, 30, 20, 2)]),
          contains=["the initial `W1` of Linear(30, 20) is wrong", "uniformly from [-k, k]"])


def test_modules_zero_initialisation_fails():
    ns = variant(("        self.W = Tensor(rng.uniform(-k, k, size=(num_inputs, num_outputs)), "
                  "requires_grad=True)",
                  "        self.W = Tensor(np.zeros((num_inputs, num_outputs)), requires_grad=True)"))
    fails(lambda: modules(ns), contains=["should be random", "are equal"])


def test_modules_transposed_weight_fails_on_its_shape():
    ns = variant(("        self.W = Tensor(rng.uniform(-k, k, size=(num_inputs, num_outputs)), "
                  "requires_grad=True)",
                  "        self.W = Tensor(rng.uniform(-k, k, size=(num_outputs, num_inputs)), "
                  "requires_grad=True)"))
    fails(lambda: modules(ns), contains=["`W1.data` has shape (5, 3); expected (3, 5)"])


def test_modules_parameters_without_requires_grad_fail():
    ns = variant(("        self.b = Tensor(rng.uniform(-k, k, size=num_outputs), requires_grad=True)",
                  "        self.b = Tensor(rng.uniform(-k, k, size=num_outputs))"))
    fails(lambda: modules(ns), contains=["`b1` should be a Tensor with requires_grad=True"])


def test_modules_forward_without_bias_fails_on_the_output():
    ns = variant(("        return x @ self.W + self.b", "        return x @ self.W"))
    fails(lambda: modules(ns), contains=["`out.data` does not match PyTorch autograd"])


def test_modules_layers_in_reverse_order_fail():
    ns = variant(("        for layer in self.layers:\n            x = layer(x)",
                  "        for layer in reversed(self.layers):\n            x = layer(x)"))
    fails(lambda: modules(ns), kind="exception", contains=["Sequential.forward"])


def test_modules_parameters_as_a_generator_keep_every_point():
    ns = variant((SEQ_PARAMS, "        for layer in self.layers:\n"
                              "            yield from layer.parameters()"))
    modules(ns)


def test_modules_sequential_without_layers_attribute_fails():
    ns = variant(("        self.layers = list(layers)", "        self._modules = list(layers)"),
                 ("        for layer in self.layers:\n            x = layer(x)",
                  "        for layer in self._modules:\n            x = layer(x)"),
                 ("        return [p for layer in self.layers for p in layer.parameters()]",
                  "        return [p for layer in self._modules for p in layer.parameters()]"))
    fails(lambda: modules(ns), contains=["`self.layers`", "found a length of ?"])


# --------------------------------------------------------------------- bug zoo: SGD

SGD_STEP = """        for p in self.params:
            if p.grad is not None:
                p.data -= self.lr * p.grad"""


def test_sgd_learning_rate_kept_from_init_fails_with_hint():
    ns = variant(("        self.lr = lr\n", "        self.lr = lr\n        self._rate = lr\n"),
                 (SGD_STEP, SGD_STEP.replace("self.lr", "self._rate")))
    fails(lambda: sgd(ns), contains=["after step 3", "kept using the first one", "self.lr"])


def test_sgd_wrong_sign_fails_with_hint():
    ns = variant((SGD_STEP, SGD_STEP.replace("-=", "+=")))
    fails(lambda: sgd(ns), contains=["params[0].data after step 1", "sign is flipped"])


def test_sgd_none_gradient_not_skipped_fails():
    ns = variant((SGD_STEP, """        for p in self.params:
            p.data -= self.lr * p.grad"""))
    fails(lambda: sgd(ns), kind="exception", contains=["SGD.step", "TypeError"])


def test_sgd_zero_grad_forgotten_fails():
    ns = variant(("        for p in self.params:\n            p.grad = None", "        pass"))
    fails(lambda: sgd(ns), contains=["was not reset by opt.zero_grad()"])


def test_sgd_update_of_the_first_parameter_only_fails():
    ns = variant((SGD_STEP, """        p = self.params[0]
        if p.grad is not None:
            p.data -= self.lr * p.grad"""))
    fails(lambda: sgd(ns), contains=["params[1].data after step 1"])


def test_sgd_new_arrays_instead_of_in_place_keep_every_point():
    ns = variant((SGD_STEP, """        for p in self.params:
            if p.grad is not None:
                p.data = p.data - self.lr * p.grad"""))
    sgd(ns)


# --------------------------------------------------------------- bug zoo: train_step

STEP = """    optimizer.zero_grad()
    loss = cross_entropy(model(Tensor(X)), y)
    loss.backward()
    optimizer.step()
    return float(loss.data)"""


def test_train_step_without_zero_grad_fails_with_hint():
    ns = variant((STEP, STEP.replace("    optimizer.zero_grad()\n", "")))
    fails(lambda: train_step(ns), contains=["after step 2", "never called"])


def test_train_step_zero_grad_before_step_fails_with_hint():
    ns = variant((STEP, """    loss = cross_entropy(model(Tensor(X)), y)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return float(loss.data)"""))
    fails(lambda: train_step(ns), contains=["after step 1", "did not move"])


def test_train_step_step_before_backward_fails_with_hint():
    ns = variant((STEP, """    loss = cross_entropy(model(Tensor(X)), y)
    optimizer.step()
    optimizer.zero_grad()
    loss.backward()
    return float(loss.data)"""))
    fails(lambda: train_step(ns), contains=["after step 1", "did not move",
                                            "must come after loss.backward()"])


def test_train_step_loss_after_the_update_fails_with_hint():
    ns = variant((STEP, """    optimizer.zero_grad()
    loss = cross_entropy(model(Tensor(X)), y)
    loss.backward()
    optimizer.step()
    return float(cross_entropy(model(Tensor(X)), y).data)"""))
    fails(lambda: train_step(ns), contains=["loss returned by step 1", "after the update"])


def test_train_step_returning_the_tensor_fails_with_type_message():
    ns = variant((STEP, STEP.replace("return float(loss.data)", "return loss")))
    fails(lambda: train_step(ns), kind="type", contains=["as a float", "float(loss.data)"])


def test_train_step_with_a_wrong_cross_entropy_says_what_it_builds_on():
    ns = variant((CE_GRAD, "            logits._accumulate(dlogits * out.grad)"),
                 ('    out = Tensor(-log_probs[np.arange(n), y].mean(), (logits,), "cross_entropy")',
                  '    out = Tensor(-log_probs[np.arange(n), y].sum(), (logits,), "cross_entropy")'))
    fails(lambda: train_step(ns), contains=["loss returned by step 1", "builds on your"])


# ---------------------------------------------------------------------- questions

ANSWERS = {"q4_1": 7, "q4_2": "a", "q4_3": "b", "q4_4": 2}
WRONG = {  # answer -> a fragment of its hint
    "q4_1": {6: "contributes 1 more", 3: "uses `a` twice", 1: "also depends on `a`",
             12: "value of `L`", 5: "Read the question again"},
    "q4_2": {"b": "one row of the Jacobian", "c": "one row of the Jacobian",
             "d": "Count the passes"},
    "q4_3": {"a": "last axis", "c": "added one in front", "d": "nothing was copied"},
    "q4_4": {1: "one row per example", 4: "square", 3: "Read the question again"},
}


@pytest.mark.parametrize("question", sorted(ANSWERS))
def test_question_reference_answer_passes(question, capsys):
    check(question, ANSWERS[question])
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("question, answer, fragment",
                         [(q, a, f) for q, answers in WRONG.items() for a, f in answers.items()])
def test_question_wrong_answer_fails_with_its_hint(question, answer, fragment):
    fails(lambda: check(question, answer), kind="wrong", contains=["not the right answer",
                                                                   "答案不正确", fragment])


@pytest.mark.parametrize("question", sorted(ANSWERS))
def test_question_blank_answer_is_not_done(question):
    fails(lambda: check(question, None), kind="not_done", contains=["not answered yet"])


def test_question_answers_in_other_forms_are_accepted():
    check("q4_1", 7.0)
    check("q4_1", "7")
    check("q4_2", " A ")
    check("q4_4", 2.0)


def test_question_malformed_answer_says_what_form_is_expected():
    fails(lambda: check("q4_2", "forward"), kind="type", contains=["one of the letters"])
    fails(lambda: check("q4_4", "twice"), kind="type", contains=["a number"])


# ------------------------------------------------------------- the notebook's claims


@pytest.fixture(scope="module")
def notebook_run():
    """Every code cell of the reference notebook but the check cells, run in order here (as
    nbgrader runs it: NBGRADER_EXECUTION set, no display)."""
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nb = notebooks.read(SOLUTIONS / A / "autodiff.ipynb")
    namespace: dict = {"__name__": "__notebook__"}
    previous = os.environ.get("NBGRADER_EXECUTION")
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    try:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and not notebooks.is_test_cell(cell):
                exec(compile(cell.source, f"<cell {index}>", "exec"), namespace)
                plt.close("all")
    finally:
        if previous is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = previous
    return namespace


@pytest.mark.slow
def test_the_worked_example_gives_the_gradients_the_prose_computes(notebook_run):
    a, b, c = notebook_run["a"], notebook_run["b"], notebook_run["c"]
    assert (a.grad, b.grad, c.grad) == (-2.0, 4.0, 2.0)  # Section 1, by hand


@pytest.mark.slow
def test_forward_mode_grows_like_n_squared_and_reverse_mode_like_n(notebook_run):
    counts = notebook_run["operation_counts"]
    for small, large in [(16, 32), (32, 64)]:
        assert 3.5 <= counts[large][0] / counts[small][0] <= 4.5  # "about four"
        assert 1.8 <= counts[large][1] / counts[small][1] <= 2.2  # "doubles"


@pytest.mark.slow
def test_bptt_gradient_is_the_sum_over_time_steps(notebook_run):
    assert notebook_run["bptt_difference"] < 1e-12


@pytest.mark.slow
def test_stored_activations_grow_linearly_with_the_batch(notebook_run):
    assert 1.99 <= notebook_run["growth"] <= 2.01
    assert round(notebook_run["growth"]) == ANSWERS["q4_4"]


@pytest.mark.slow
def test_paths_roughly_double_per_step_while_nodes_grow_by_two(notebook_run):
    counts = notebook_run["path_counts"]
    assert counts[30][0] - counts[20][0] == 2 * 10
    assert 2 ** 9 <= counts[30][1] / counts[20][1] <= 2 ** 11


@pytest.mark.slow
def test_your_framework_and_torch_agree_to_rounding_error(notebook_run):
    assert notebook_run["curve_difference"] < 1e-10
    assert max(notebook_run["gradient_differences"].values()) < 1e-12

