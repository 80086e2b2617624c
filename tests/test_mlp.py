"""Assignment 02: reference passes, stubs are "not done", the bug zoo loses its points."""

import numpy as np
import pytest

from grader import check
from tests.support import fails, question_tests, run_solution_notebook, solution, stubs

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
    "prelu_activation": _act("prelu_activation", "prelu", alpha=0.25),
    "prelu_alpha": _act("prelu_activation", "prelu", alpha=-0.6),
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
    """All cases of a check call travel together (one message to the sandbox)."""
    from grader.checks import steps as steps_module

    runs = []
    original = steps_module.LocalExecutor.run

    def counting(self, steps):
        runs.append(len(steps.items))
        return original(self, steps)

    monkeypatch.setattr(steps_module.LocalExecutor, "run", counting)
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


# ------------------------------------------------------------------- parametric ReLU


def _prelu_grad(dz=None, dalpha=None):
    """The reference prelu_grad with one of its two arrays replaced."""
    def prelu_grad(z, alpha):
        right_dz, right_dalpha = np.where(z > 0, 1.0, alpha), np.where(z > 0, 0.0, z)
        return (dz(z, alpha) if dz else right_dz), (dalpha(z, alpha) if dalpha else right_dalpha)

    return prelu_grad


def test_prelu_slope_treated_as_a_constant_is_named(ref):
    _fails(ref, "prelu_activation", ["`dalpha (prelu_grad)`", "as if the slope were a constant",
                                     "好像斜率是常数"],
           prelu_grad=_prelu_grad(dalpha=lambda z, a: np.zeros_like(z)))


def test_prelu_dalpha_without_the_mask_is_named(ref):
    _fails(ref, "prelu_activation", ["`dalpha (prelu_grad)`", "alpha does not appear"],
           prelu_grad=_prelu_grad(dalpha=lambda z, a: z.copy()))


def test_prelu_dalpha_given_the_slope_is_named(ref):
    _fails(ref, "prelu_alpha", ["derivative with respect to z"],
           prelu_grad=_prelu_grad(dalpha=lambda z, a: np.where(z > 0, 1.0, a)))


def test_prelu_dalpha_summed_to_one_number_is_named(ref):
    _fails(ref, "prelu_activation", ["wrong shape", "one number came back", "链式法则"],
           prelu_grad=_prelu_grad(dalpha=lambda z, a: np.where(z > 0, 0.0, z).sum()))


def test_prelu_written_in_slope_is_named(ref):
    failure = _fails(ref, "prelu_alpha", ["`out`", "written into the code"],
                     prelu=lambda z, alpha: np.where(z > 0, z, 0.25 * z))
    assert "写死" in failure.args[0]
    _fails(ref, "prelu_alpha", ["`dz (prelu_grad)`", "written into the code"],
           prelu_grad=_prelu_grad(dz=lambda z, a: np.where(z > 0, 1.0, 0.25)))


def test_prelu_grad_at_zero_is_named(ref):
    _fails(ref, "prelu_activation", ["`dz (prelu_grad)`", "z = 0", "left slope"],
           prelu_grad=_prelu_grad(dz=lambda z, a: np.where(z >= 0, 1.0, a)))


def test_prelu_as_relu_is_named(ref):
    _fails(ref, "prelu_activation", ["`out`", "slope for z < 0 is 0"],
           prelu=lambda z, alpha: np.maximum(z, 0.0))


def test_prelu_grad_returning_one_array_is_a_type_failure(ref):
    _fails(ref, "prelu_activation", ["dz, dalpha"], kind="type",
           prelu_grad=lambda z, alpha: np.where(z > 0, 1.0, alpha))


def test_prelu_expected_dalpha_is_autograds_sum_element_by_element():
    """The reference's elementwise d out / d alpha, summed against dout, is nn.PReLU's grad."""
    import torch

    from grader.checks import exercises

    spec = exercises.get("prelu_activation")
    for case in spec.cases(seeds=[3], shapes=[(5, 4)], alpha=0.4):
        z, dout = case.inputs["z"], case.data["dout"]
        layer = torch.nn.PReLU().double()
        with torch.no_grad():
            layer.weight.fill_(0.4)  # exactly 0.4 (init= rounds it to float32 first)
        zt = torch.tensor(z, requires_grad=True)
        layer(zt).backward(torch.tensor(dout))
        assert np.isclose((dout * case.data["dalpha"]).sum(), layer.weight.grad.item(),
                          rtol=1e-12, atol=1e-12)
        assert np.allclose(dout * case.data["dz"], zt.grad.numpy(), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------- the questions

QUESTIONS = {  # question: (right answers, {wrong answer: a fragment of its hint})
    "q2_1": ([(32, 64), "(32, 64)", [32, 64], "32x64"],
             {(128, 64): "shape of W2", (64, 32): "swapped", (32, 10): "whole network",
              (32, 128): "layer 1"}),
    "q2_2": ([0.95, 0.9503, "0.95"], {0.665: "before scaling", 1: "not yet 1",
                                       0.333: "sharper, not flatter"}),
    "q2_3": (["b", "B", " b "], {"a": "one straight line", "c": "cycles", "d": "one straight line"}),
}


(test_question_right_answers_pass, test_question_wrong_answers_fail_with_their_hint,
 test_question_left_blank_is_not_done) = question_tests(A, QUESTIONS)


def test_one_question_is_graded_by_hand():
    from grader import notebooks
    from grader.paths import COURSE

    manual = [c for c in notebooks.read(COURSE / A / "mlp.ipynb").cells
              if c.cell_type == "markdown" and notebooks.nbgrader_meta(c).get("grade")]
    assert [notebooks.grade_id(c) for c in manual] == ["answer_q2_4"]
    meta = notebooks.nbgrader_meta(manual[0])
    assert meta["solution"] and meta["points"] == 2 and not meta["locked"]
    assert "YOUR ANSWER HERE" in manual[0].source  # the release holds no model answer


# ------------------------------------------------- the notebook's claims, as printed


@pytest.fixture(scope="module")
def ran():
    """Every code cell of the solution notebook, run in order, as a student runs it."""
    return run_solution_notebook(A, warnings_off=True)


def test_the_xor_training_claims_hold(ran):
    """'most random starts end stuck near 75 %', 'some stuck runs have a dead ReLU, the others
    not', 'with 8 neurons training solves XOR', as the notebook prints them."""
    runs2, runs8 = ran["xor_runs"][2], ran["xor_runs"][8]
    assert len(runs2) == len(runs8) == 10
    stuck = [r for r in runs2 if 0.70 <= r["accuracy"] <= 0.80]
    assert len(stuck) >= 6 and ran["stuck"] == len(stuck)
    assert all(len(r["wrong corners"]) == 1 for r in stuck)  # one corner on the wrong side
    assert 1 <= sum(r["dead"] > 0 for r in stuck) < len(stuck)
    assert sum(r["accuracy"] >= 0.95 for r in runs8) >= 9
    assert "expected: at least 6" in ran["_printed"] and "expected: at least 9" in ran["_printed"]


def test_one_neuron_is_a_line_and_features_bend_the_data(ran):
    accuracy = ran["logistic_accuracy"]
    assert accuracy["raw inputs (x1, x2)"] <= 0.80
    assert accuracy["inputs and x1 * x2"] >= 0.95 and accuracy["20 kernel features"] >= 0.95
    assert ran["answer_q2_3"] == "b"  # the product feature is the answer of Question 2.3


def test_the_softmax_and_regression_claims_hold(ran):
    softmax = ran["softmax"]
    row = np.array([[2.0, 1.0, 0.0]])
    assert round(softmax(row)[0, 0], 3) == 0.665  # as the question states
    assert abs(softmax(3 * row)[0, 0] - ran["answer_q2_2"]) < 0.005
    assert softmax(10 * row)[0, 0] > 0.9999  # winner takes all
    p_pass = ran["p_you"][0, 1]
    assert 0.195 <= p_pass < 0.205  # "gives you a 20 % chance"
    (train2, test2), (train50, test50) = ran["regression_mse"].values()
    noise_variance = ran["noise"] ** 2
    assert train50 < noise_variance and test50 > test2


def test_the_worked_example_agrees_with_autograd(ran):
    import torch

    z = np.array([-1000.0, -3.0, -0.5, 0.0, 0.7, 1000.0])
    zt = torch.tensor(z, requires_grad=True)
    torch.nn.functional.elu(zt).sum().backward()
    with np.errstate(over="raise", invalid="raise"):
        assert np.allclose(ran["elu"](z), torch.nn.functional.elu(torch.tensor(z)).numpy())
        assert np.allclose(ran["elu_grad"](z), zt.grad.numpy(), rtol=1e-15, atol=0)
