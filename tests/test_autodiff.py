"""Assignment 04 · 计算图与自动微分: the reference passes, stubs fail, and the bug zoo is caught.

Wrong implementations are made from the reference notebook itself: its graded code
with one line changed (``variant``), so each one is exactly the mistake it names.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from support import fails, solution, stubs

from grader import check, notebooks
from grader.checks.exercises.autodiff import ALL_OPS, CORE_OPS, OPS, Program, random_program, torch_run
from grader.paths import SOLUTIONS

A = "04_autodiff"
BROADCAST_CASES = [((4, 3), (3,)), ((4, 3), (4, 1)), ((2, 4, 3), (4, 1)), ((4, 3), ()),
                   ((1, 3), (1, 1)), ((4, 3), (4, 3))]
TENSOR_SHAPES = [(1, 3, 2), (4, 5, 3)]


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
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.count("✓") == 2 * 9


# --------------------------------------------------------------------------- stubs


def test_value_core_stub_not_done(blank):
    fails(lambda: check("value_core", blank["Value"], seeds=[0]), kind="not_done",
          contains=["Value.__add__"])


def test_value_arith_stub_not_done():
    ns = variant(("    return self + other\n", "    raise NotImplementedError()\n"))
    fails(lambda: check("value_arith", ns["Value"], seeds=[0]), kind="not_done",
          contains=["Value.__radd__"])


def test_value_ops_stub_not_done():
    ns = variant(('''    out = Value(math.exp(self.data), (self,), "exp")''',
                  '''    raise NotImplementedError()'''))
    fails(lambda: check("value_ops", ns["Value"], seeds=[0]), kind="not_done",
          contains=["Value.exp"])


def test_unbroadcast_stub_not_done(blank):
    fails(lambda: check("unbroadcast", blank["unbroadcast"], seeds=[0], cases=BROADCAST_CASES),
          kind="not_done", contains=["unbroadcast"])


def test_tensor_ops_stub_not_done(blank):
    fails(lambda: check("tensor_ops", blank["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          kind="not_done", contains=["Tensor.__add__"])


def test_cross_entropy_stub_not_done(blank):
    fails(lambda: check("cross_entropy", blank["Tensor"], blank["cross_entropy"], seeds=[0],
                        shapes=[(2, 3)]), kind="not_done", contains=["cross_entropy"])


def test_mlp_loss_stub_not_done(ref, blank):
    fails(lambda: check("mlp_loss", ref["Tensor"], blank["mlp_loss"], seeds=[0],
                        shapes=[(2, 2, 3, 2)]), kind="not_done", contains=["mlp_loss"])


# ------------------------------------------------------------------- bug zoo: Value

ADD_BACKWARD = """            self.grad += out.grad
            other.grad += out.grad"""
MUL_BACKWARD = """            self.grad += other.data * out.grad
            other.grad += self.data * out.grad"""
WALK = """        self.grad = 1.0
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
    ns = variant((MUL_BACKWARD, """            self.grad += self.data * out.grad
            other.grad += other.data * out.grad"""))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]),
          contains=["`x.grad`", "multiplication swaps", "乘法在反向传播时要交换输入"])


def test_value_core_forward_order_fails_with_order_hint():
    ns = variant((WALK, WALK.replace("reversed(topo)", "topo")))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]),
          contains=["`x.grad`", "L = (x + y) * s", "order of backward()", "逆序遍历"])


def test_value_core_walk_without_visited_set_fails_with_order_hint():
    ns = variant(("""            if node not in visited:
                visited.add(node)
                for child in node._prev:
                    build(child)
                topo.append(node)

        build(self)
        self.grad = 1.0""", """            for child in node._prev:
                build(child)
            topo.append(node)

        build(self)
        self.grad = 1.0"""))
    failure = fails(lambda: check("value_core", ns["Value"], seeds=[0]),
                    contains=["`v1.grad`", "is used by", "order of backward()",
                              "v3 = v2 * v1", "L.backward()"])
    assert "a = Value(1.5)" in failure.args[0], "the failing program is printed"


def test_value_core_naive_recursion_fails_with_order_hint():
    ns = variant((WALK, """        def push(node):
            node._backward()
            for child in node._prev:
                push(child)

        self.grad = 1.0
        push(self)
        ### END SOLUTION"""))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]),
          contains=["does not match PyTorch autograd", "order of backward()"])


def test_value_core_missing_output_seed_fails_with_hint():
    ns = variant((WALK, WALK.replace("        self.grad = 1.0\n", "")))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]),
          contains=["`x.grad`", "L.grad must be 1.0"])


def test_value_core_forgotten_return_fails_with_type_message():
    ns = variant(("""        out._backward = _backward
        return out
        ### END SOLUTION

    def __mul__""", """        out._backward = _backward
        ### END SOLUTION

    def __mul__"""))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]), kind="type",
          contains=["`Value.__add__`", "return out"])


def test_value_core_student_exception_is_shown_as_their_traceback():
    ns = variant(("""        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")""",
                  """        out = Value(self.data * other.data, (self, other), "*")"""))
    fails(lambda: check("value_core", ns["Value"], seeds=[0]), kind="exception",
          contains=["Value.__mul__", "AttributeError"])


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


def test_value_graphs_reference_passes_many_seeds(ref):
    check("value_graphs", ref["Value"], seeds=list(range(10, 16)), num_graphs=15)


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


TENSOR_ADD = """            self.grad += unbroadcast(out.grad, self.data.shape)
            other.grad += unbroadcast(out.grad, other.data.shape)"""


def test_tensor_ops_broadcast_gradient_not_reduced_fails_naming_the_bias():
    ns = variant((TENSOR_ADD, """            self.grad = self.grad + out.grad
            other.grad = other.grad + out.grad"""))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          contains=["`b.grad` has the wrong shape", "out = x + b"])


def test_tensor_ops_overwritten_gradient_fails_with_accumulate_hint():
    ns = variant((TENSOR_ADD, TENSOR_ADD.replace("+=", "=")))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          contains=["`a.grad`", "out = a + a", "`+=`"])


def test_tensor_ops_mean_without_division_fails_with_hint():
    ns = variant(("self.grad += np.ones_like(self.data) * out.grad / self.data.size",
                  "self.grad += np.ones_like(self.data) * out.grad"))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          contains=["`x.grad`", "out = x.mean()", "number of elements"])


def test_tensor_ops_relu_mask_from_output_fails_with_hint():
    ns = variant(("""        out = Tensor(np.maximum(self.data, 0.0), (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad""",
                  """        out = Tensor(np.maximum(self.data, 0.0), (self,), "relu")

        def _backward():
            self.grad += (out.data >= 0) * out.grad"""))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=[(4, 5, 3)]),
          contains=["`x.grad`", "out = x.relu()", "mask"])


def test_tensor_ops_matmul_gradient_transposed_fails():
    ns = variant(("other.grad += self.data.T @ out.grad",
                  "other.grad = out.grad.T @ self.data"))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          contains=["`w.grad`", "transposed"])


def test_tensor_ops_matmul_ignoring_upstream_fails():
    ns = variant(("self.grad += out.grad @ other.data.T",
                  "self.grad += np.ones_like(out.grad) @ other.data.T"))
    fails(lambda: check("tensor_ops", ns["Tensor"], seeds=[0], shapes=TENSOR_SHAPES),
          contains=["`x.grad`", "out = x @ w"])


CE_SHIFT = "    z = logits.data - logits.data.max(axis=1, keepdims=True)"
CE_GRAD = "        logits.grad += dlogits / n * out.grad"


def test_cross_entropy_without_max_shift_overflows_on_large_logits():
    ns = variant((CE_SHIFT, "    z = logits.data"))
    check("cross_entropy", ns["Tensor"], ns["cross_entropy"], seeds=[0], shapes=[(6, 4)])
    fails(lambda: check("cross_entropy", ns["Tensor"], ns["cross_entropy"], seeds=[1],
                        shapes=[(5, 3)], scale=1000.0),
          contains=["`loss` is not finite", "overflow"])


def test_cross_entropy_missing_batch_division_fails_with_batch_hint():
    ns = variant((CE_GRAD, "        logits.grad += dlogits * out.grad"))
    fails(lambda: check("cross_entropy", ns["Tensor"], ns["cross_entropy"], seeds=[1],
                        shapes=[(5, 3)]),
          contains=["`logits.grad`", "batch size N=5"])


def test_cross_entropy_ignoring_upstream_fails_with_hint():
    ns = variant((CE_GRAD, "        logits.grad += dlogits / n"))
    fails(lambda: check("cross_entropy", ns["Tensor"], ns["cross_entropy"], seeds=[1],
                        shapes=[(5, 3)]),
          contains=["`logits.grad`", "upstream gradient"])


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
