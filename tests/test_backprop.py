"""Assignment 03 · 手推反向传播: every exercise passes with the reference, fails as a stub,
and fails with a message that names the tensor and the mistake for the bug zoo."""

from __future__ import annotations

import numpy as np
import pytest

from grader import check, check_function, check_layer, check_loss
from grader.checks.steps import EXECUTOR, LocalExecutor
from tests.support import fails, run_solution_notebook, solution, stubs

A = "03_backprop"


@pytest.fixture(scope="module")
def ref():
    return solution(A)


@pytest.fixture(scope="module")
def blank():
    return stubs(A)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ------------------------------------------------------------------ every exercise


def _run(exercise, ns):
    """The visible and hidden checks of one exercise, with the functions in namespace ``ns``."""
    n = ns
    calls = {
        "neuron_chain": lambda: check("neuron_chain", n["neuron_forward"], n["neuron_backward"],
                                      seeds=[0, 1], cases=[(2.0, 3.0, 1.0, 1.0)]),
        "gate_rules": lambda: check("gate_rules", n["add_backward"], n["mul_backward"],
                                    n["max_backward"], n["copy_backward"], seeds=[0, 1],
                                    shapes=[(1,), (3, 4)]),
        "gate_graph": lambda: check_layer("gate_graph", n["graph_forward"], n["graph_backward"],
                                          seeds=[0, 1], shapes=[(1,), (2, 3)]),
        "affine": lambda: check_layer("affine", n["affine_forward"], n["affine_backward"],
                                      seeds=[0, 1], shapes=[(1, 5, 3), (4, 3, 2), (5, 5, 5)]),
        "relu": lambda: check_layer("relu", n["relu_forward"], n["relu_backward"], seeds=[0, 1],
                                    shapes=[(1, 3), (2, 3, 4)]),
        "sigmoid_layer": lambda: check_layer("sigmoid_layer", n["sigmoid_forward"],
                                             n["sigmoid_backward"], seeds=[0, 1],
                                             shapes=[(1, 1), (4, 5)]),
        "tanh_layer": lambda: check_layer("tanh_layer", n["tanh_forward"], n["tanh_backward"],
                                          seeds=[0, 1], shapes=[(1, 1), (4, 5)]),
        "softmax_ce_loss": lambda: check_loss("softmax_ce_loss", n["softmax_cross_entropy"],
                                              seeds=[0, 1],
                                              shapes=[(1, 5), (4, 3), (3, 3, 1e3), (2, 4, -1e3)]),
        "mse_loss": lambda: check_loss("mse_loss", n["mse_loss"], seeds=[0, 1],
                                       shapes=[(1, 1), (4, 2)]),
        "residual_block": lambda: check_layer("residual_block", n["residual_forward"],
                                              n["residual_backward"], seeds=[0, 1],
                                              shapes=[(1, 5), (4, 3)]),
        "mlp_loss_and_grads": lambda: check("mlp_loss_and_grads", n["loss_and_grads"],
                                            seeds=[0, 1], shapes=[(1, 3, 5, 2), (5, 4, 6, 3)],
                                            regs=[0.0, 0.1]),
        "numerical_gradient": lambda: check("numerical_gradient", n["numerical_gradient"],
                                            seeds=[0, 1], shapes=[(1,), (2, 3)]),
        "relative_error": lambda: check_function("relative_error", n["relative_error"],
                                                 seeds=[0, 1], shapes=[(1,), (3, 4)]),
        "prelu_layer": lambda: check_layer("prelu_layer", n["prelu_forward"],
                                           n["prelu_backward"], seeds=[0, 1],
                                           shapes=[(1, 5), (4, 3)]),
    }
    return calls[exercise]


EXERCISES = ["neuron_chain", "gate_rules", "gate_graph", "affine", "relu", "sigmoid_layer",
             "tanh_layer", "softmax_ce_loss", "mse_loss", "residual_block",
             "mlp_loss_and_grads", "numerical_gradient", "relative_error", "prelu_layer"]
QUESTIONS = ["q3_1", "q3_2", "q3_3", "q3_4"]


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_passes(ref, exercise, capsys):
    _run(exercise, ref)()
    out, err = capsys.readouterr()
    assert "✓" in out
    assert err == ""  # nbgrader scores a cell 0 when anything reaches stderr


@pytest.mark.parametrize("exercise", EXERCISES)
def test_stub_is_not_done(blank, exercise):
    fails(_run(exercise, blank), kind="not_done", contains=["not written yet", "还没有完成"])


def test_every_exercise_is_covered():
    from grader.checks import exercises

    mine = {k for k, v in exercises.all_exercises().items() if getattr(v, "assignment", "") == A}
    assert mine == set(EXERCISES) | set(QUESTIONS)


class _Counting(LocalExecutor):
    runs = 0

    def run(self, steps):
        type(self).runs += 1
        return super().run(steps)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_a_check_call_is_one_run_of_steps(ref, exercise):
    """One message to the sandbox in the grade of record: every call of a check together."""
    token = EXECUTOR.set(_Counting())
    try:
        _Counting.runs = 0
        _run(exercise, ref)()
        assert _Counting.runs == 1
    finally:
        EXECUTOR.reset(token)


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e != "relative_error"])
def test_every_derived_exercise_lists_its_answer_text(exercise):
    """tests/test_pedagogy.py proves these are not printed above the exercise."""
    from grader.checks import exercises

    if exercise == "numerical_gradient":  # its formula is the specification
        return
    assert exercises.get(exercise).answer_text


def _with(ref, **replaced):
    return {**ref, **replaced}


# ---------------------------------------------------------------- 3.1 neuron_chain


def test_neuron_sigmoid_derivative_from_z_is_named(ref):
    def neuron_backward(cache):
        dh = cache["h"] - cache["y"]
        dz = dh * cache["z"] * (1 - cache["z"])
        return dh, dz, dz * cache["x"], dz

    fails(_run("neuron_chain", _with(ref, neuron_backward=neuron_backward)),
          contains=["`dz`", "h·(1 − h)", "输入"])


def test_neuron_dw_without_x_is_named(ref):
    def neuron_backward(cache):
        h = cache["h"]
        dh = h - cache["y"]
        dz = dh * h * (1 - h)
        return dh, dz, dz, dz

    fails(_run("neuron_chain", _with(ref, neuron_backward=neuron_backward)),
          contains=["`dw`", "its gradient is multiplied by x", "乘以 x"])


def test_neuron_sign_error_in_loss_gradient_is_named(ref):
    def neuron_backward(cache):
        h = cache["h"]
        dh = cache["y"] - h
        dz = dh * h * (1 - h)
        return dh, dz, dz * cache["x"], dz

    fails(_run("neuron_chain", _with(ref, neuron_backward=neuron_backward)),
          contains=["`dh`", "sign is flipped", "符号反了"])


def test_neuron_extra_keys_in_the_cache_are_not_judged(ref):
    # Only arrays are checked for in-place changes: a dict crosses the trusted grader's sandbox
    # boundary by value, so judging it here would grade differently from the trusted grader.
    def neuron_backward(cache):
        h = cache["h"]
        cache["dz"] = (h - cache["y"]) * h * (1 - h)
        return h - cache["y"], cache["dz"], cache["dz"] * cache["x"], cache["dz"]

    _run("neuron_chain", _with(ref, neuron_backward=neuron_backward))()


def test_neuron_cache_without_z_is_explained(ref):
    def neuron_forward(w, x, b, y):
        h = _sigmoid(w * x + b)
        return 0.5 * (h - y) ** 2, (x, y, h)

    fails(_run("neuron_chain", _with(ref, neuron_forward=neuron_forward)), kind="type",
          contains=["'z' and 'h'", "found tuple"])


# ------------------------------------------------------------------ 3.2a gate_rules


def test_gates_multiply_without_swap_is_named(ref):
    fails(_run("gate_rules", _with(ref, mul_backward=lambda dout, x, y: (dout * x, dout * y))),
          contains=["`dx (mul_backward)`", "swaps its inputs", "交换"])


def test_gates_max_to_both_inputs_is_named(ref):
    fails(_run("gate_rules", _with(ref, max_backward=lambda dout, x, y: (dout, dout))),
          contains=["(max_backward)`", "routes all of dout", "取胜"])


def test_gates_copy_averaged_is_named(ref):
    fails(_run("gate_rules", _with(ref, copy_backward=lambda a, b: (a + b) / 2)),
          contains=["`dx (copy_backward)`", "sum of the", "之和"])


def test_gates_add_that_splits_dout_is_named(ref):
    fails(_run("gate_rules", _with(ref, add_backward=lambda dout, x, y: (dout / 2, dout / 2))),
          contains=["`dx (add_backward)`", "unchanged", "原样"])


# ----------------------------------------------------------------- 3.2b gate_graph


def _graph_backward_with(dy_rule=None, dz_rule=None):
    def graph_backward(dout, cache):
        x, y, z, q, m = cache
        dq, dm = dout * m, dout * q
        dy = dy_rule(dq, dm, y, z) if dy_rule else dq + dm * (y > z)
        dz = dz_rule(dm, y, z) if dz_rule else dm * (z > y)
        return dq, dy, dz

    return graph_backward


def test_graph_fan_out_not_summed_is_named(ref):
    bug = _graph_backward_with(dy_rule=lambda dq, dm, y, z: dq)
    fails(_run("gate_graph", _with(ref, graph_backward=bug)),
          contains=["`dy`", "used twice", "两条路径梯度之和"])


def test_graph_max_routed_to_both_is_named(ref):
    bug = _graph_backward_with(dz_rule=lambda dm, y, z: dm)
    fails(_run("gate_graph", _with(ref, graph_backward=bug)),
          contains=["`dz`", "max gate routes", "max 门"])


def test_graph_cache_mutated_in_place_is_caught(ref):
    def graph_backward(dout, cache):
        x, y, z, q, m = cache
        m *= dout  # reuses the cached array as scratch space
        dq, dm = m, dout * q
        return dq, dq + dm * (y > z), dm * (z > y)

    fails(_run("gate_graph", _with(ref, graph_backward=graph_backward)), kind="mutated",
          contains=["`graph_backward` changed `cache[4]`", "缓存属于前向传播"])


# ------------------------------------------------------------------- 3.3 affine


def _affine_backward_with(**changes):
    def affine_backward(dout, cache):
        x, w = cache
        grads = {"dx": dout @ w.T, "dw": x.T @ dout, "db": dout.sum(axis=0)}
        for name, rule in changes.items():
            grads[name] = rule(dout, x, w)
        return grads["dx"], grads["dw"], grads["db"]

    return affine_backward


def test_affine_transposed_dw_is_named(ref):
    bug = _affine_backward_with(dw=lambda dout, x, w: dout.T @ x)
    fails(_run("affine", _with(ref, affine_backward=bug)),
          contains=["`dw`", "transposed", "转置"])


def test_affine_transposed_dw_square_is_named(ref):
    bug = _affine_backward_with(dw=lambda dout, x, w: dout.T @ x)
    fails(lambda: check_layer("affine", ref["affine_forward"], bug, seeds=[0],
                              shapes=[(5, 5, 5)]),
          contains=["`dw`", "transposed", "转置"])


def test_affine_db_not_summed_is_named(ref):
    bug = _affine_backward_with(db=lambda dout, x, w: dout)
    fails(_run("affine", _with(ref, affine_backward=bug)),
          contains=["`db`", "Sum over the batch", "axis=0"])


def test_affine_db_summed_over_wrong_axis_is_named(ref):
    bug = _affine_backward_with(db=lambda dout, x, w: dout.sum(axis=1))
    fails(lambda: check_layer("affine", ref["affine_forward"], bug, seeds=[0],
                              shapes=[(5, 5, 5)]),
          contains=["`db`", "not over the outputs", "axis=0"])


def test_affine_dx_without_transpose_is_named(ref):
    bug = _affine_backward_with(dx=lambda dout, x, w: dout @ w)
    fails(lambda: check_layer("affine", ref["affine_forward"], bug, seeds=[0],
                              shapes=[(5, 5, 5)]),
          contains=["`dx`", "transpose of w is missing", "少了 w 的转置"])


def test_affine_dw_averaged_over_batch_is_named(ref):
    bug = _affine_backward_with(dw=lambda dout, x, w: x.T @ dout / x.shape[0])
    fails(lambda: check_layer("affine", ref["affine_forward"], bug, seeds=[0],
                              shapes=[(5, 3, 4)]),
          contains=["`dw`", "N=5", "批量大小"])


# --------------------------------------------------------------------- 3.4 relu


def test_relu_mask_from_clipped_output_is_named(ref):
    def relu_forward(x):
        out = np.maximum(x, 0)
        return out, out

    def relu_backward(dout, cache):
        return dout * (cache >= 0)

    fails(_run("relu", _with(ref, relu_forward=relu_forward, relu_backward=relu_backward)),
          contains=["`dx`", "from the forward input", "前向输入"])


def test_relu_dout_mutated_in_place_is_caught(ref):
    def relu_backward(dout, cache):
        dout[cache <= 0] = 0
        return dout

    fails(_run("relu", _with(ref, relu_backward=relu_backward)), kind="mutated",
          contains=["`relu_backward` changed its input `dout`", "原地修改了输入 `dout`"])


def test_relu_cache_mutated_in_place_is_caught(ref):
    def relu_backward(dout, cache):
        cache[cache < 0] = 0
        return dout * (cache > 0)

    fails(_run("relu", _with(ref, relu_backward=relu_backward)), kind="mutated",
          contains=["`relu_backward` changed `cache`", "原地修改了 `cache`"])


def test_relu_forward_that_clips_its_input_is_caught(ref):
    def relu_forward(x):
        x[x < 0] = 0
        return x, x

    fails(_run("relu", _with(ref, relu_forward=relu_forward)), kind="mutated",
          contains=["`relu_forward` changed its input `x`"])


# --------------------------------------------------------- 3.5 / 3.6 sigmoid, tanh


def test_sigmoid_derivative_from_input_is_named(ref):
    def sigmoid_forward(x):
        return _sigmoid(x), x

    def sigmoid_backward(dout, cache):
        return dout * cache * (1 - cache)

    fails(_run("sigmoid_layer", _with(ref, sigmoid_forward=sigmoid_forward,
                                      sigmoid_backward=sigmoid_backward)),
          contains=["`dx`", "evaluated on its input", "用输入算了"])


def test_sigmoid_cache_updated_in_place_is_caught(ref):
    def sigmoid_backward(dout, cache):
        out = cache
        out *= 1 - out  # right numbers once, a corrupted cache afterwards
        return dout * out

    fails(_run("sigmoid_layer", _with(ref, sigmoid_backward=sigmoid_backward)),
          kind="mutated", contains=["`sigmoid_backward` changed `cache`", "out *= 1 - out"])


def test_sigmoid_without_upstream_is_named(ref):
    fails(_run("sigmoid_layer", _with(ref, sigmoid_backward=lambda dout, out: out * (1 - out))),
          contains=["`dx`", "`dout` is not used", "上游梯度"])


def test_tanh_without_square_is_named(ref):
    fails(_run("tanh_layer", _with(ref, tanh_backward=lambda dout, out: dout * (1 - out))),
          contains=["`dx`", "with the square", "平方"])


def test_tanh_derivative_from_input_is_named(ref):
    fails(_run("tanh_layer", _with(ref, tanh_forward=lambda x: (np.tanh(x), x),
                                   tanh_backward=lambda dout, x: dout * (1 - x**2))),
          contains=["`dx`", "1 − x²", "输入"])


# ------------------------------------------------------------------ 3.7 / 3.8 losses


def _softmax_ce_with(shift=True, scale=1.0, onehot=True, mean=True):
    def softmax_cross_entropy(x, y):
        n = x.shape[0]
        shifted = x - x.max(axis=1, keepdims=True) if shift else x
        p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(n), y]).mean()
        dx = p.copy()
        if onehot:
            dx[np.arange(n), y] -= 1
        return loss, scale * dx / (n if mean else 1)

    return softmax_cross_entropy


def test_softmax_ce_missing_mean_is_named(ref):
    bug = _softmax_ce_with(mean=False)
    fails(_run("softmax_ce_loss", _with(ref, softmax_cross_entropy=bug)),
          contains=["`dx`", "batch size N=4", "批量大小"])


def test_softmax_ce_sign_error_is_named(ref):
    bug = _softmax_ce_with(scale=-1.0)
    fails(_run("softmax_ce_loss", _with(ref, softmax_cross_entropy=bug)),
          contains=["`dx`", "sign is flipped", "符号反了"])


def test_softmax_ce_without_one_hot_is_named(ref):
    bug = _softmax_ce_with(onehot=False)
    fails(_run("softmax_ce_loss", _with(ref, softmax_cross_entropy=bug)),
          contains=["`dx`", "one-hot target was not subtracted", "one-hot"])


def test_softmax_ce_without_max_shift_overflows(ref, capsys):
    bug = _softmax_ce_with(shift=False)
    fails(lambda: check_loss("softmax_ce_loss", bug, seeds=[0], shapes=[(3, 3, 1e3)]),
          contains=["`loss`", "NaN or inf", "overflow in exp"])
    assert capsys.readouterr().err == ""  # the overflow warning is captured, not printed


def test_mse_divided_by_batch_only_is_named(ref):
    def mse_loss(y_hat, y):
        return np.mean((y_hat - y) ** 2), 2 * (y_hat - y) / y_hat.shape[0]

    fails(_run("mse_loss", _with(ref, mse_loss=mse_loss)),
          contains=["`dy_hat`", "all N·K elements", "N·K"])


def test_mse_missing_factor_two_is_named(ref):
    def mse_loss(y_hat, y):
        return np.mean((y_hat - y) ** 2), (y_hat - y) / y_hat.size

    fails(_run("mse_loss", _with(ref, mse_loss=mse_loss)),
          contains=["`dy_hat`", "factor 2 is missing", "因子 2"])


def test_mse_sign_error_is_named(ref):
    def mse_loss(y_hat, y):
        return np.mean((y_hat - y) ** 2), 2 * (y - y_hat) / y_hat.size

    fails(_run("mse_loss", _with(ref, mse_loss=mse_loss)),
          contains=["`dy_hat`", "sign is flipped"])


# ---------------------------------------------------------------- 3.9 residual_block


def _residual_backward_with(skip=True, branch=True, mask=True):
    def residual_backward(dout, cache):
        (x, w), a = cache
        da = dout * (a > 0) if mask else dout
        dx = (dout if skip else 0) + (da @ w.T if branch else 0)
        return dx, x.T @ da, da.sum(axis=0)

    return residual_backward


def _residual_forward(x, w, b):
    a = x @ w + b
    return x + np.maximum(a, 0), ((x, w), a)


def test_residual_without_skip_path_is_named(ref):
    bug = _residual_backward_with(skip=False)
    fails(_run("residual_block", _with(ref, residual_forward=_residual_forward,
                                       residual_backward=bug)),
          contains=["`dx`", "identity (skip) path is missing", "跳跃"])


def test_residual_without_branch_is_named(ref):
    bug = _residual_backward_with(branch=False)
    fails(_run("residual_block", _with(ref, residual_forward=_residual_forward,
                                       residual_backward=bug)),
          contains=["`dx`", "only the skip path", "只保留了跳跃路径"])


def test_residual_without_relu_mask_is_named(ref):
    bug = _residual_backward_with(mask=False)
    fails(_run("residual_block", _with(ref, residual_forward=_residual_forward,
                                       residual_backward=bug)),
          contains=["`dx`", "ReLU mask was not applied", "掩码"])


# ----------------------------------------------------------- 3.10 mlp_loss_and_grads


def _mlp_with(reg_factor=1.0, reg_bias=False, mean=True, mutate=False, keys=("W1", "b1", "W2", "b2")):
    def loss_and_grads(params, X, y, reg=0.0):
        W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
        a = X @ W1 + b1
        h = np.maximum(a, 0)
        s = h @ W2 + b2
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        n = X.shape[0]
        loss = -np.log(p[np.arange(n), y]).mean() + 0.5 * reg * (np.sum(W1**2) + np.sum(W2**2))
        ds = p.copy()
        ds[np.arange(n), y] -= 1
        ds /= n if mean else 1
        dW2, db2 = h.T @ ds, ds.sum(axis=0)
        da = (ds @ W2.T) * (a > 0)
        dW1, db1 = X.T @ da, da.sum(axis=0)
        if mutate:
            reg_W1 = W1
            reg_W1 *= reg  # aliasing: scales params["W1"] itself
            dW1 = dW1 + reg_W1
        else:
            dW1 = dW1 + reg_factor * reg * W1
        dW2 = dW2 + reg_factor * reg * W2
        if reg_bias:
            db1, db2 = db1 + reg * b1, db2 + reg * b2
        grads = dict(zip(keys, (dW1, db1, dW2, db2), strict=True))
        return loss, grads

    return loss_and_grads


def test_mlp_reference_style_passes(ref):
    _run("mlp_loss_and_grads", _with(ref, loss_and_grads=_mlp_with()))()


def test_mlp_missing_l2_gradient_is_named(ref):
    fails(_run("mlp_loss_and_grads", _with(ref, loss_and_grads=_mlp_with(reg_factor=0.0))),
          contains=["`grads['W2']`", "gradient of the L2 term is missing", "L2"])


def test_mlp_l2_gradient_twice_too_big_is_named(ref):
    fails(_run("mlp_loss_and_grads", _with(ref, loss_and_grads=_mlp_with(reg_factor=2.0))),
          contains=["`grads['W2']`", "not 2·reg·W"])


def test_mlp_regularised_biases_are_named(ref):
    fails(_run("mlp_loss_and_grads", _with(ref, loss_and_grads=_mlp_with(reg_bias=True))),
          contains=["`grads['b2']`", "not the biases", "偏置不做"])


def test_mlp_missing_mean_is_named(ref):
    fails(_run("mlp_loss_and_grads", _with(ref, loss_and_grads=_mlp_with(mean=False))),
          contains=["`grads['W2']`", "divided by N", "除以 N"])


def test_mlp_params_changed_in_place_are_caught(ref):
    fails(_run("mlp_loss_and_grads", _with(ref, loss_and_grads=_mlp_with(mutate=True))),
          kind="mutated", contains=["params['W1']", "原地修改了 params['W1']"])


def test_mlp_grads_with_other_keys_are_explained(ref):
    bug = _mlp_with(keys=("dW1", "db1", "dW2", "db2"))
    fails(_run("mlp_loss_and_grads", _with(ref, loss_and_grads=bug)), kind="type",
          contains=["missing: W1, b1, W2, b2"])


# ---------------------------------------------------- 3.11 / 3.12 gradient checking


def _fd_with(kind):
    def numerical_gradient(f, x, h=1e-5):
        x = x.copy() if kind != "no_restore" else x
        grad = np.zeros_like(x)
        if kind == "all_at_once":
            return np.full(x.shape, (f(x + h) - f(x - h)) / (2 * h))
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            f_plus = f(x)
            x[i] = old - h
            f_minus = f(x)
            if kind != "no_restore":
                x[i] = old
            if kind == "forward":
                grad[i] = (f_plus - f(x)) / h
            elif kind == "over_h":
                grad[i] = (f_plus - f_minus) / h
            else:
                grad[i] = (f_plus - f_minus) / (2 * h)
        return grad

    return numerical_gradient


def test_numerical_gradient_one_sided_is_named(ref):
    fails(_run("numerical_gradient", _with(ref, numerical_gradient=_fd_with("forward"))),
          contains=["`grad`", "one-sided difference", "中心差分", "f=fd_cubic"])


def test_numerical_gradient_divided_by_h_is_named(ref):
    fails(_run("numerical_gradient", _with(ref, numerical_gradient=_fd_with("over_h"))),
          contains=["`grad`", "divide by 2h", "除以 2h"])


def test_numerical_gradient_all_at_once_is_named(ref):
    fails(_run("numerical_gradient", _with(ref, numerical_gradient=_fd_with("all_at_once"))),
          contains=["`grad`", "one element at a time", "每次只扰动一个元素"])


def test_numerical_gradient_that_leaves_x_perturbed_is_caught(ref):
    fails(_run("numerical_gradient", _with(ref, numerical_gradient=_fd_with("no_restore"))),
          kind="mutated", contains=["changed its input `x`"])


def test_relative_error_mean_is_named(ref):
    def relative_error(a, b):
        return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))

    fails(_run("relative_error", _with(ref, relative_error=relative_error)),
          contains=["`rel_error`", "np.max", "最大值"])


def test_relative_error_without_floor_divides_by_zero(ref, capsys):
    def relative_error(a, b):
        return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))

    fails(lambda: check_function("relative_error", relative_error, seeds=[0], shapes=[(5,)]),
          contains=["`rel_error`", "NaN", "division by zero"])
    assert capsys.readouterr().err == ""


def test_relative_error_abs_of_sum_is_named(ref):
    def relative_error(a, b):
        return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a + b))))

    fails(_run("relative_error", _with(ref, relative_error=relative_error)),
          contains=["`rel_error`", "|a| + |b|"])


# ------------------------------------------------------- 3.13 prelu_layer (a new layer)


def _prelu_backward_with(dx_rule=None, dalpha_rule=None):
    def prelu_backward(dout, cache):
        x, alpha = cache
        dx = dx_rule(dout, x, alpha) if dx_rule else np.where(x > 0, dout, alpha * dout)
        dalpha = dalpha_rule(dout, x, alpha) if dalpha_rule else (dout * x * (x <= 0)).sum(axis=0)
        return dx, dalpha

    return prelu_backward


def test_prelu_reference_style_passes(ref):
    _run("prelu_layer", _with(ref, prelu_backward=_prelu_backward_with()))()


def test_prelu_dalpha_not_summed_over_the_batch_is_named(ref):
    bug = _prelu_backward_with(dalpha_rule=lambda dout, x, a: dout * x * (x <= 0))
    fails(_run("prelu_layer", _with(ref, prelu_backward=bug)),
          contains=["`dalpha` has the wrong shape", "Sum over the batch", "axis=0"])


def test_prelu_dalpha_from_every_element_is_named(ref):
    bug = _prelu_backward_with(dalpha_rule=lambda dout, x, a: (dout * x).sum(axis=0))
    fails(_run("prelu_layer", _with(ref, prelu_backward=bug)),
          contains=["`dalpha`", "negative elements only", "负元素"])


def test_prelu_dalpha_without_x_is_named(ref):
    bug = _prelu_backward_with(dalpha_rule=lambda dout, x, a: (dout * (x <= 0)).sum(axis=0))
    fails(_run("prelu_layer", _with(ref, prelu_backward=bug)),
          contains=["`dalpha`", "multiply gate", "乘法门"])


def test_prelu_dx_without_the_slope_is_named(ref):
    bug = _prelu_backward_with(dx_rule=lambda dout, x, a: dout * (x > 0))
    fails(_run("prelu_layer", _with(ref, prelu_backward=bug)),
          contains=["`dx`", "local slope there", "局部斜率"])


def test_prelu_dalpha_averaged_is_named(ref):
    bug = _prelu_backward_with(dalpha_rule=lambda dout, x, a: (dout * x * (x <= 0)).mean(axis=0))
    fails(lambda: check_layer("prelu_layer", ref["prelu_forward"], bug, seeds=[0],
                              shapes=[(4, 3)]),
          contains=["`dalpha`", "N=4", "批量大小"])


def test_prelu_forward_with_one_slope_for_all_is_caught(ref):
    def prelu_forward(x, alpha):
        return np.where(x > 0, x, alpha[0] * x), (x, alpha)

    fails(_run("prelu_layer", _with(ref, prelu_forward=prelu_forward)), contains=["`out`"])


# ------------------------------------------------------------------- more behaviours


def test_mlp_params_key_replaced_is_caught(ref):
    def loss_and_grads(params, X, y, reg=0.0):
        params["W1"] = params["W1"] * 1.0 + 0.0  # a new array, but written into the caller's dict
        params["W1"][0, 0] += 1.0
        return ref["loss_and_grads"]({**params}, X, y, reg)

    fails(_run("mlp_loss_and_grads", _with(ref, loss_and_grads=loss_and_grads)), kind="mutated",
          contains=["params['W1']"])


def test_numerical_gradient_step_h_is_used(ref):
    def numerical_gradient(f, x, h=1e-5):
        return ref["numerical_gradient"](f, x, 1e-2)  # ignores the h it was given

    fails(lambda: check("numerical_gradient", numerical_gradient, seeds=[3], shapes=[(4,)],
                        h=1e-4), contains=["`grad`"])


def test_numerical_gradient_note_only_on_values(ref):
    def numerical_gradient(f, x, h=1e-5):
        return ref["numerical_gradient"](f, x, h).ravel()[:-1]  # wrong shape

    failure = fails(_run("numerical_gradient", _with(ref, numerical_gradient=numerical_gradient)),
                    contains=["`grad` has the wrong shape"])
    assert "Central differences with h" not in failure.args[0]


# ------------------------------------------------------------------------ questions


@pytest.mark.parametrize("question", QUESTIONS)
def test_question_reference_answer_passes(ref, question, capsys):
    check(question, ref[f"answer_{question}"])
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("question", QUESTIONS)
def test_question_blank_is_not_answered(blank, question):
    assert blank[f"answer_{question}"] is None
    fails(lambda: check(question, blank[f"answer_{question}"]), kind="not_done",
          contains=["not answered yet", "还没有作答", f"answer_{question}"])


@pytest.mark.parametrize("question, answer, fragments", [
    ("q3_1", "a", ["one use of x", "两条路径"]),
    ("q3_1", "c", ["value f(3)", "函数值"]),
    ("q3_1", "d", ["add gate", "加法门"]),
    ("q3_1", "B", []),  # accepted: see the next test
    ("q3_2", (784, 128), ["shape of W", "dW"]),
    ("q3_2", "32 x 128", ["shape of out", "out（以及 dout）"]),
    ("q3_2", (32, 784), ["shape of X", "X 的形状"]),
    ("q3_2", (1, 2, 3), ["Read the question again", "请再读一遍题目"]),
    ("q3_3", "a", ["wrong factor", "常数因子"]),
    ("q3_3", "c", ["too small", "舍入误差"]),
    ("q3_3", "d", ["1e-15", "自动微分"]),
    ("q3_4", 0.1, ["1/C is the probability", "概率"]),
    ("q3_4", 0.6931, ["two-class", "二分类"]),
    ("q3_4", 10, ["not C itself", "ln C"]),
    ("q3_4", 0, ["probability 1", "概率为 1"]),
    ("q3_4", -2.3026, ["positive", "正数"]),
    ("q3_4", 1.0, ["natural logarithm", "自然对数"]),
    ("q3_4", 3.3219, ["natural logarithm", "自然对数"]),
])
def test_question_wrong_answers_fail_with_their_hint(question, answer, fragments):
    if not fragments:
        check(question, answer)
        return
    fails(lambda: check(question, answer),
          contains=["not the right answer", "答案不正确", *fragments])


@pytest.mark.parametrize("question, answer", [
    ("q3_1", " B "), ("q3_2", "(32, 128, 784, 128)"), ("q3_2", [32, 128, 784, 128]),
    ("q3_2", (4096, 100352)), ("q3_3", "b"), ("q3_4", float(np.log(10))), ("q3_4", "2.30"),
])
def test_question_right_answers_in_other_forms_pass(question, answer):
    check(question, answer)


@pytest.mark.parametrize("question, answer", [
    ("q3_1", "e"), ("q3_1", 2), ("q3_2", "five"), ("q3_4", "ln 10"), ("q3_4", float("nan")),
])
def test_question_answers_of_the_wrong_kind_say_what_is_expected(question, answer):
    fails(lambda: check(question, answer), kind="type", contains=["should be", "应当是"])


def test_the_manual_question_is_a_graded_markdown_answer():
    from grader import notebooks
    from grader.paths import COURSE, SOLUTIONS

    for root in (SOLUTIONS, COURSE):
        nb = notebooks.read(root / A / "backprop.ipynb")
        manual = [c for c in nb.cells if c.cell_type == "markdown" and notebooks.is_solution_cell(c)]
        assert [notebooks.grade_id(c) for c in manual] == ["answer_q3_5"]
        meta = notebooks.nbgrader_meta(manual[0])
        assert meta["grade"] and meta["points"] == 2 and not meta["locked"]
    assert "YOUR ANSWER HERE" in manual[0].source  # the release holds no model answer


# ------------------------------------------------- the notebook's claims, as printed


@pytest.fixture(scope="module")
def ran():
    """Every code cell of the solution notebook, run in order (demos, recipe and plots)."""
    return run_solution_notebook(A, warnings_off=True)


@pytest.mark.slow
def test_the_worked_example_table_is_what_the_code_computes(ran):
    by_hand, md = ran["by_hand"], ran["_markdown"]
    assert f"$L = {by_hand['L']:.4f}$" in md
    assert f"$h = \\ln 2 = {by_hand['h']:.4f}$" in md and abs(by_hand["h"] - np.log(2)) < 1e-15
    assert f"(h - y) = {by_hand['dh']:.4f}$" in md
    assert f"= {by_hand['dz']:.4f}$" in md and by_hand["z"] == 0
    assert f"\\partial L/\\partial w = {by_hand['dz']:.4f} \\cdot x = {by_hand['dw']:.4f}$" in md
    for name, value in ran["autograd"].items():
        assert abs(by_hand[name] - value.item()) < 1e-15


@pytest.mark.slow
def test_the_jacobian_claim_is_what_the_code_prints(ran):
    entries = ran["jacobian_entries"]
    assert entries == int(np.prod(ran["answer_q3_2"]))
    assert f"about {entries / 1e6:.0f} million entries ({entries * 8 / 1e9:.1f} GB" in ran["_markdown"]


@pytest.mark.slow
def test_the_printed_expected_ranges_hold(ran):
    plain, residual = ran["plain"], ran["residual"]
    assert plain[0] < 1e-20 and residual[0] > 1
    errors = ran["comparison"]
    assert max(errors["yours vs autograd"].values()) < 1e-13
    for row in ("yours vs finite diff", "finite diff vs autograd"):
        assert all(1e-12 < e < 1e-7 for e in errors[row].values()), errors[row]
    assert all(1e-8 < e < 1e-5 for e in errors["float32 vs autograd"].values())
    best = int(np.argmin(ran["central"]))
    assert 1e-7 <= ran["steps"][best] <= 1e-3 and ran["central"][best] > 1e-13
    assert ran["bad_vs_fd"] < 1e-6 and ran["bad_vs_autograd"] > 1e-3
    assert ran["relu_at_zero"][0] == 0.5
    assert ran["worst_error"] < 1e-6


@pytest.mark.slow
def test_the_debugging_recipe_shows_what_it_says(ran):
    losses = ran["initial_losses"]
    for name, classes in (("10 classes", 10), ("two moons", 2)):
        assert abs(losses[name, 0.01] - np.log(classes)) < 0.05
        assert losses[name, 1.0] > np.log(classes) + 0.5  # large output weights: confidently wrong
    assert ran["losses_tiny"][-1] < 0.05 and ran["tiny_accuracy"] == 1.0
    assert ran["accuracy"]["XOR"] == 1.0 and ran["accuracy"]["two moons"] >= 0.97
    assert "expected" in ran["_printed"]


# ------------------------------------------------------------ backward reads its cache


def test_neuron_backward_that_reads_a_global_is_caught(ref):
    last = {}

    def neuron_forward(w, x, b, y):
        loss, cache = ref["neuron_forward"](w, x, b, y)
        last.update(cache)  # the student keeps the forward values in a global instead
        return loss, {"z": cache["z"], "h": cache["h"]}

    def neuron_backward(cache):
        return ref["neuron_backward"]({**last, **cache})

    fails(_run("neuron_chain", _with(ref, neuron_forward=neuron_forward,
                                     neuron_backward=neuron_backward)), contains=["`dh`"])


def test_layer_backward_that_reads_a_global_is_named(ref):
    saved = {}

    def relu_forward(x):
        saved["x"] = x
        return np.maximum(x, 0), None

    def relu_backward(dout, cache):
        return dout * (saved["x"] > 0)

    fails(_run("relu", _with(ref, relu_forward=relu_forward, relu_backward=relu_backward)),
          contains=["`dx`", "last forward call", "最近一次前向调用"])
