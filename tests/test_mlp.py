"""Assignment 02: reference passes, stubs are "not done", the bug zoo loses its points."""

import numpy as np
import pytest

from grader import check
from tests.support import fails, solution, stubs

A = "02_mlp"


@pytest.fixture(scope="module")
def ref():
    return solution(A)


@pytest.fixture(scope="module")
def stub():
    return stubs(A)


def _act(exercise, name, **params):
    def run(ns):
        check(exercise, ns[name], ns[f"{name}_grad"], seeds=[5], shapes=[(1,), (4, 3)], **params)

    return run


# One runner per exercise, as the hidden tests call it (other seeds and shapes).
RUNNERS = {
    "collapse_affine": lambda ns: check("collapse_affine", ns["collapse_affine"], seeds=[1, 2],
                                        shapes=[(1, 1, 1), (3, 3, 3), (4, 2, 5)]),
    "sigmoid_activation": _act("sigmoid_activation", "sigmoid"),
    "tanh_activation": _act("tanh_activation", "tanh"),
    "relu_activation": _act("relu_activation", "relu"),
    "leaky_relu_activation": _act("leaky_relu_activation", "leaky_relu"),
    "leaky_relu_alpha": _act("leaky_relu_activation", "leaky_relu", alpha=0.2),
    "softplus_activation": _act("softplus_activation", "softplus"),
    "softmax": lambda ns: check("softmax", ns["softmax"], seeds=[3], shapes=[(1, 4), (5, 3)]),
    "log_softmax": lambda ns: check("log_softmax", ns["log_softmax"], seeds=[3],
                                    shapes=[(1, 4), (5, 3)]),
    "dense": lambda ns: check("dense", ns["dense"], seeds=[4], shapes=[(1, 2, 3), (5, 3, 2)],
                              activation="sigmoid"),
    "mlp_forward": lambda ns: check("mlp_forward", ns["mlp_forward"], seeds=[6],
                                    shapes=[(1, 2, 3, 1), (4, 3, 5, 4, 2)]),
    "mlp_forward_softmax": lambda ns: check("mlp_forward", ns["mlp_forward"], seeds=[7],
                                            shapes=[(5, 2, 4, 3)], output_activation="softmax"),
    "mse": lambda ns: check("mse", ns["mse"], seeds=[8], shapes=[(1,), (6,), (4, 3)]),
    "softmax_cross_entropy": lambda ns: check("softmax_cross_entropy", ns["cross_entropy"],
                                              seeds=[9], shapes=[(1, 3), (6, 4)]),
    "entropy": lambda ns: check("entropy", ns["entropy"], seeds=[10], shapes=[(1, 3), (5, 4)]),
    "kl_divergence": lambda ns: check("kl_divergence", ns["kl_divergence"], seeds=[11],
                                      shapes=[(1, 3), (5, 4)]),
    "xor_params": lambda ns: check("xor_params", ns["xor_params"]),
    "xor_params_jitter": lambda ns: check("xor_params", ns["xor_params"], seeds=[1, 2],
                                          jitter=0.1),
}


@pytest.mark.parametrize("exercise", sorted(RUNNERS))
def test_reference_passes(ref, exercise):
    RUNNERS[exercise](ref)


@pytest.mark.parametrize("exercise", sorted(RUNNERS))
def test_stub_is_not_done(stub, exercise):
    fails(lambda: RUNNERS[exercise](stub), kind="not_done")


def _with(ref, **replacements):
    ns = dict(ref)
    ns.update(replacements)
    return ns


def _fails(ref, runner, contains=(), kind=None, **replacements):
    return fails(lambda: RUNNERS[runner](_with(ref, **replacements)), kind=kind,
                 contains=contains)


# --------------------------------------------------------------------- collapse


def test_collapse_forgetting_b1_is_named(ref):
    def bug(W1, b1, W2, b2):
        return W1 @ W2, b2

    _fails(ref, "collapse_affine", ["`b`", "b1 @ W2 + b2", "第一层的偏置"], collapse_affine=bug)


def test_collapse_wrong_order_is_named(ref):
    def bug(W1, b1, W2, b2):
        return W2 @ W1, b1 @ W2 + b2

    _fails(ref, "collapse_affine", ["`W`", "W1 @ W2", "乘法顺序"], collapse_affine=bug)


# ------------------------------------------------------------------ activations


def test_sigmoid_naive_overflow_warning_fails(ref):
    def bug(z):
        return 1 / (1 + np.exp(-z))  # right values at ±1000, but warns at -1000

    failure = _fails(ref, "sigmoid_activation",
                     ["numerical warning", "overflow", "数值警告", "np.exp(-np.abs(z))"],
                     sigmoid=bug)
    assert "z = [-1000" in failure.args[0]  # names the edge case that reproduces it


def test_sigmoid_np_where_both_branches_fails(ref):
    def bug(z):
        return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))

    _fails(ref, "sigmoid_activation", ["np.where", "both", "同时计算"], sigmoid=bug)


def test_sigmoid_nan_at_large_z_is_not_finite(ref):
    def bug(z):
        return np.exp(z) / (1 + np.exp(z))  # inf / inf at z = 1000

    _fails(ref, "sigmoid_activation", ["not finite", "NaN", "不是有限值", "np.exp(-np.abs(z))"],
           sigmoid=bug)


def test_sigmoid_grad_formula_on_z_is_named(ref):
    _fails(ref, "sigmoid_activation", ["sigmoid_grad(z)", "applied to z"],
           sigmoid_grad=lambda z: z * (1 - z))


def test_sigmoid_grad_returning_sigmoid_is_named(ref):
    _fails(ref, "sigmoid_activation", ["activation itself"], sigmoid_grad=ref["sigmoid"])


def test_tanh_from_exponentials_is_not_finite(ref):
    def bug(z):
        return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))

    _fails(ref, "tanh_activation", ["`out`", "not finite", "np.tanh"], tanh=bug)


def test_tanh_grad_missing_square_is_named(ref):
    _fails(ref, "tanh_activation", ["tanh_grad(z)", "square", "平方"],
           tanh_grad=lambda z: 1 - np.tanh(z))


def test_relu_grad_at_zero_is_named(ref):
    failure = _fails(ref, "relu_activation", ["relu_grad(z)", "z = 0", "z > 0", "折点"],
                     relu_grad=lambda z: (z >= 0).astype(float))
    assert "0.0" in failure.args[0] or "0," in failure.args[0]


def test_relu_grad_from_output_sign_is_named(ref):
    relu = ref["relu"]
    _fails(ref, "relu_activation", ["relu_grad(z)", "from the output"],
           relu_grad=lambda z: (relu(z) >= 0).astype(float))


def test_relu_grad_np_sign_is_named(ref):
    _fails(ref, "relu_activation", ["np.sign(z)", "-1"], relu_grad=np.sign)


def test_leaky_relu_grad_at_zero_is_named(ref):
    _fails(ref, "leaky_relu_activation", ["leaky_relu_grad(z)", "left slope", "左侧斜率"],
           leaky_relu_grad=lambda z, alpha=0.01: np.where(z >= 0, 1.0, alpha))


def test_leaky_relu_hard_coded_alpha_is_named(ref):
    _fails(ref, "leaky_relu_alpha", ["alpha"],
           leaky_relu=lambda z, alpha=0.01: np.where(z > 0, z, 0.01 * z))


def test_softplus_naive_log_exp_is_not_finite(ref):
    def bug(z):
        return np.log(1 + np.exp(z))

    _fails(ref, "softplus_activation", ["not finite", "log1p", "np.logaddexp"], softplus=bug)


# ------------------------------------------------------------- softmax and losses


def test_softmax_without_max_shift_is_not_finite(ref):
    def bug(Z):
        e = np.exp(Z)
        return e / e.sum(axis=1, keepdims=True)

    failure = _fails(ref, "softmax", ["not finite", "NaN", "subtract each row's maximum",
                                      "减去每一行的最大值"], softmax=bug)
    assert "1e+04" in failure.args[0] or "10000" in failure.args[0]


def test_softmax_over_wrong_axis_is_named(ref):
    def bug(Z):
        e = np.exp(Z - Z.max(axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    _fails(ref, "softmax", ["wrong axis", "axis=1"], softmax=bug)


def test_log_softmax_as_log_of_softmax_is_not_finite(ref):
    softmax = ref["softmax"]
    _fails(ref, "log_softmax", ["not finite", "np.log of softmax"],
           log_softmax=lambda Z: np.log(softmax(Z)))


def test_mse_with_half_factor_is_named(ref):
    _fails(ref, "mse", ["`loss`", "1/2", "mse_loss"], mse=lambda y_hat, y: np.mean((y_hat - y) ** 2) / 2)


def test_mse_sum_instead_of_mean_is_batch_scale(ref):
    _fails(ref, "mse", ["batch size", "批量大小"], mse=lambda y_hat, y: np.sum((y_hat - y) ** 2))


def test_cross_entropy_without_mean_is_batch_scale(ref):
    log_softmax = ref["log_softmax"]

    def bug(Z, y):
        return -log_softmax(Z)[np.arange(len(y)), y].sum()

    _fails(ref, "softmax_cross_entropy", ["`loss`", "batch size N=6", "批量大小"],
           cross_entropy=bug)


def test_cross_entropy_log_of_softmax_is_not_finite(ref):
    softmax = ref["softmax"]

    def bug(Z, y):
        return -np.log(softmax(Z)[np.arange(len(y)), y]).mean()

    _fails(ref, "softmax_cross_entropy", ["not finite", "np.log of softmax"], cross_entropy=bug)


def test_entropy_zero_log_zero_is_not_finite(ref):
    _fails(ref, "entropy", ["`H`", "not finite", "0 * np.log(0)"],
           entropy=lambda q: -np.sum(q * np.log(q), axis=1))


def test_entropy_in_bits_is_named(ref):
    def bug(q):
        return -np.sum(q * np.log2(np.where(q > 0, q, 1.0)), axis=1)

    _fails(ref, "entropy", ["np.log2", "自然对数"], entropy=bug)


def test_kl_swapped_arguments_is_named(ref):
    def bug(q, p):
        return np.sum(p * np.log(p / q), axis=1)

    _fails(ref, "kl_divergence", ["`KL`", "swapped", "KL(p‖q)", "不对称"], kl_divergence=bug)


def test_kl_zero_log_zero_is_not_finite(ref):
    def bug(q, p):
        return np.sum(q * np.log(q / p), axis=1)

    _fails(ref, "kl_divergence", ["not finite", "q > 0"], kl_divergence=bug)


# ------------------------------------------------------------------ layers and XOR


def test_dense_without_bias_is_named(ref):
    sigmoid = ref["sigmoid"]
    _fails(ref, "dense", ["`out`", "bias b was not added"],
           dense=lambda X, W, b, activation="relu": sigmoid(X @ W))


def test_dense_bias_after_activation_is_named(ref):
    sigmoid = ref["sigmoid"]
    _fails(ref, "dense", ["after the activation"],
           dense=lambda X, W, b, activation="relu": sigmoid(X @ W) + b)


def test_mlp_output_activation_on_last_layer_is_named(ref):
    dense = ref["dense"]

    def bug(X, params, hidden_activation="relu", output_activation="identity"):
        H = X
        for W, b in params:
            H = dense(H, W, b, hidden_activation)
        return H

    _fails(ref, "mlp_forward", ["`y_hat`", "output layer too"], mlp_forward=bug)


def test_mlp_without_hidden_activation_is_named(ref):
    def bug(X, params, hidden_activation="relu", output_activation="identity"):
        H = X
        for W, b in params:
            H = H @ W + b
        return H

    _fails(ref, "mlp_forward", ["collapses into one affine map"], mlp_forward=bug)


def test_mlp_missing_softmax_is_named(ref):
    dense = ref["dense"]

    def bug(X, params, hidden_activation="relu", output_activation="identity"):
        H = X
        for W, b in params[:-1]:
            H = dense(H, W, b, hidden_activation)
        W, b = params[-1]
        return H @ W + b

    _fails(ref, "mlp_forward_softmax", ["`output_activation` was not applied"], mlp_forward=bug)


def test_xor_wrong_weights_show_truth_table(ref):
    def bug():
        return (np.ones((2, 2)), np.array([0.0, -1.0]), np.array([[1.0], [-1.0]]),
                np.array([0.0]))

    failure = _fails(ref, "xor_params", ["does not compute XOR", "✗ x = (1, 1)", "异或为 0"],
                     xor_params=bug)
    assert "✓ x = (0, 0)" in failure.args[0]


def test_xor_without_margin_fails_jitter(ref):
    def thin():  # right on the corners, but (0, 1) gives 0.51: no room for noise
        return (np.ones((2, 2)), np.array([0.0, -1.0]), np.array([[0.51], [-1.02]]),
                np.array([0.0]))

    RUNNERS["xor_params"](_with(ref, xor_params=thin))  # the visible test passes
    _fails(ref, "xor_params_jitter", ["moved by up to 0.1", "余量"], xor_params=thin)


def test_xor_wrong_shapes_are_named(ref):
    def bug():
        return np.ones((2, 3)), np.zeros(3), np.ones((3, 1)), np.zeros(1)

    _fails(ref, "xor_params", ["wrong shape", "`(2, 1)`", "(2, 3)"],
           kind="type", xor_params=bug)


# ------------------------------------------------------------ one run of steps per call


@pytest.mark.parametrize("exercise", sorted(RUNNERS))
def test_each_check_call_is_one_run_of_steps(ref, exercise, monkeypatch):
    """All cases of a check call travel together (one message to the sandbox), and no
    check calls the student's code outside its steps."""
    from grader.checks import compare
    from grader.checks import steps as steps_module

    runs = []
    original = steps_module.LocalExecutor.run

    def counting(self, steps):
        runs.append(len(steps.items))
        return original(self, steps)

    monkeypatch.setattr(steps_module.LocalExecutor, "run", counting)
    monkeypatch.setattr(compare, "call_student", None)  # nothing may call it any more
    RUNNERS[exercise](ref)
    assert len(runs) == 1 and runs[0] >= 1, runs


def test_mlp_forward_that_pops_the_output_layer_from_params_fails(ref):
    dense = ref["dense"]

    def bug(X, params, hidden_activation="relu", output_activation="identity"):
        W_out, b_out = params.pop()  # right values, but the caller's list loses a layer
        H = X
        for W, b in params:
            H = dense(H, W, b, hidden_activation)
        return dense(H, W_out, b_out, output_activation)

    _fails(ref, "mlp_forward", ["changed its input `params` in place", "原地修改了输入 `params`"],
           kind="mutated", mlp_forward=bug)


def test_mlp_forward_that_scales_a_weight_in_place_fails(ref):
    dense = ref["dense"]

    def bug(X, params, hidden_activation="relu", output_activation="identity"):
        H = X
        for W, b in params[:-1]:
            H = dense(H, W, b, hidden_activation)
        W, b = params[-1]
        W *= 2.0  # in place; halved again below, so the output is exactly right
        return dense(H, W / 2.0, b, output_activation)

    _fails(ref, "mlp_forward", ["`params`"], kind="mutated", mlp_forward=bug)


# ------------------------------------------------------ hints only where their pattern is


def test_softplus_grad_through_a_naive_sigmoid_points_at_the_sigmoid(ref):
    def naive_sigmoid(z):
        return 1 / (1 + np.exp(-z))

    failure = _fails(ref, "softplus_activation",
                     ["`softplus_grad`", "numerical warning", "softplus' is the sigmoid",
                      "Exercise 2.2"], softplus_grad=naive_sigmoid)
    assert "log1p" not in failure.args[0]  # the forward's hint is not the story here


def test_leaky_relu_with_slope_zero_is_told_apart_from_a_written_in_alpha(ref):
    failure = _fails(ref, "leaky_relu_alpha", ["slope for z < 0 is 0"],
                     leaky_relu_grad=lambda z, alpha=0.01: (z > 0).astype(float))
    assert "0.01" not in failure.args[0]
    failure = _fails(ref, "leaky_relu_alpha", ["slope 0.01 is written into the code", "写死"],
                     leaky_relu_grad=lambda z, alpha=0.01: np.where(z > 0, 1.0, 0.01))
    assert "is 0, as for ReLU" not in failure.args[0]


def test_relu_grad_of_ones_says_what_is_wrong_whatever_made_it(ref):
    _fails(ref, "relu_activation", ["derivative is 1 everywhere", "z > 0"],
           relu_grad=lambda z: np.ones_like(z))
