"""Assignment 06 · 自编码器: reference passes, stubs are "not done", the bug zoo fails with hints.

Wrong implementations are made the way students make them: by changing one line of
the reference solution (``mutant``), so each test names the exact mistake.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
from support import fails, question_tests, solution, stubs

from grader import check, check_layer, notebooks
from grader.paths import SOLUTIONS

A = "06_autoencoders"


@functools.cache
def _notebook():
    return notebooks.read(sorted((SOLUTIONS / A).glob("*.ipynb"))[0])


def mutant(cell: str, *edits: tuple[str, str]) -> dict:
    """A fresh namespace of the solution with solution cell ``cell`` changed by text edits.

    Every setup and solution cell is run again, so functions that call the changed one
    (``vae_loss_and_grads`` calls ``reparameterize_backward``) see the change too.
    """
    nb = copy.deepcopy(_notebook())
    [target] = [c for c in nb.cells if notebooks.grade_id(c) == cell]
    for old, new in edits:
        assert old in target.source, f"{old!r} not in solution cell {cell!r}"
        target.source = target.source.replace(old, new)
    return notebooks.exec_graded_code(nb, f"<mutant {cell}>")


def with_function(name: str, fn) -> dict:
    """The solution namespace with ``name`` replaced (the graded functions look it up there)."""
    ns = solution(A)
    ns[name] = fn
    return ns


# ---------------------------------------------------------------- how each is checked


def run_tools(ns, seeds=(0, 1)):
    check("tools_from_03", ns["affine_forward"], ns["affine_backward"], ns["sigmoid_forward"],
          ns["sigmoid_backward"], ns["relu_forward"], ns["relu_backward"],
          ns["numerical_gradient"], seeds=list(seeds))


def run_reconstruction_loss(ns):
    check("reconstruction_loss", ns["reconstruction_loss"], seeds=[0, 1], shapes=[(4, 64), (1, 64)])


def run_autoencoder(ns, shapes=((5, 64, 8), (1, 64, 2))):
    check("autoencoder", ns["ae_forward"], ns["ae_backward"], seeds=[0, 3], shapes=list(shapes))


def run_l1(ns):
    check("l1_penalty", ns["l1_penalty"], seeds=[0, 1], shapes=[(5, 8), (1, 4)], lam=0.1)


def run_kl_sparsity(ns, shapes=((6, 8),), **params):
    params = {"rho": 0.05, "beta": 3.0, **params}
    check("kl_sparsity", ns["kl_sparsity"], seeds=[0], shapes=list(shapes), **params)


def run_contractive(ns, **params):
    params = {"lam": 0.1, **params}
    check("contractive_penalty", ns["contractive_penalty"], seeds=[0, 1],
          shapes=[(5, 64, 8), (1, 64, 3)], **params)


def run_reparameterize(ns):
    check_layer("reparameterize", ns["reparameterize_forward"], ns["reparameterize_backward"],
                seeds=[0], shapes=[(4, 2), (1, 2)])


def run_gaussian_kl(ns, **params):
    check("gaussian_kl", ns["gaussian_kl"], seeds=[0], shapes=[(4, 2), (1, 3)], **params)


def run_negative_elbo(ns, **params):
    check("negative_elbo", ns["negative_elbo"], seeds=[0], shapes=[(4, 64, 2)], **params)


def run_vae(ns):
    check("vae_loss_and_grads", ns["vae_loss_and_grads"], seeds=[0], shapes=[(4, 64, 16, 2)])


RUNNERS = [run_tools, run_reconstruction_loss, run_autoencoder, run_l1, run_kl_sparsity, run_contractive,
           run_reparameterize, run_gaussian_kl, run_negative_elbo, run_vae]


# ------------------------------------------------------------ reference and stubs


@pytest.mark.parametrize("run", RUNNERS, ids=lambda r: r.__name__[4:])
def test_reference_passes_without_stderr(run, capsys):
    run(solution(A))
    captured = capsys.readouterr()
    assert "✓" in captured.out
    assert captured.err == ""


def test_reference_passes_edge_inputs():
    ns = solution(A)
    run_kl_sparsity(ns, shapes=[(8, 6)], shift=-4.0)
    run_kl_sparsity(ns, shapes=[(8, 6)], rho=0.2, beta=0.5, shift=3.0)
    run_contractive(ns, lam=0.5, scale=3.0)
    run_gaussian_kl(ns, scale=4.0)
    run_negative_elbo(ns, logit_scale=40.0)


@pytest.mark.parametrize("run", RUNNERS, ids=lambda r: r.__name__[4:])
def test_stub_is_not_done(run):
    fails(lambda: run(stubs(A)), kind="not_done", contains=["NotImplementedError"])


# ---------------------------------------------------------------------- bug zoo


def test_reconstruction_loss_mean_over_pixels_fails():
    ns = mutant("reconstruction_loss", ("np.sum(diff**2) / N", "np.mean(diff**2)"),
                ("2 * diff / N", "2 * diff / diff.size"))
    fails(lambda: run_reconstruction_loss(ns), contains=["`loss`", "averaged over the pixels"])


def test_reconstruction_loss_missing_factor_two_fails():
    ns = mutant("reconstruction_loss", ("2 * diff / N", "diff / N"))
    fails(lambda: run_reconstruction_loss(ns), contains=["`dX_hat`", "0.5 times"])


def test_autoencoder_ignoring_code_gradient_fails():
    ns = mutant("autoencoder", ("dh_decoder + dh,", "dh_decoder,"))
    fails(lambda: run_autoencoder(ns), contains=["`dW1`", "`dh`", "直接到达编码的梯度"])


def test_autoencoder_transposed_dW2_fails():
    ns = mutant("autoencoder", ("return dW1, db1, dW2, db2", "return dW1, db1, dW2.T, db2"))
    fails(lambda: run_autoencoder(ns), contains=["`dW2`", "transposed"])


def test_autoencoder_db1_not_summed_fails():
    ns = mutant("autoencoder", ("_, dW1, db1 = affine_backward(da1, affine1_cache)",
                                "_, dW1, _ = affine_backward(da1, affine1_cache)\n    db1 = da1"))
    fails(lambda: run_autoencoder(ns), contains=["`db1`", "axis=0"])


def test_autoencoder_wrong_output_activation_fails():
    ns = mutant("autoencoder", ("X_hat, sigmoid2_cache = sigmoid_forward(a2)",
                                "X_hat, sigmoid2_cache = a2, None"))
    fails(lambda: run_autoencoder(ns), contains=["`X_hat`", "PyTorch"])


def test_l1_penalty_without_sign_fails():
    ns = mutant("l1_penalty", ("lam * np.sign(h) / N", "lam * np.ones_like(h) / N"))
    fails(lambda: run_l1(ns), contains=["`dh`", "as if |h| were h", "0 的哪一侧"])


def test_l1_penalty_missing_batch_mean_fails():
    ns = mutant("l1_penalty", ("lam * np.sign(h) / N", "lam * np.sign(h)"))
    fails(lambda: run_l1(ns), contains=["`dh`", "batch size"])


def test_kl_sparsity_target_and_mean_swapped_fails():
    ns = mutant(
        "kl_sparsity",
        ("np.sum(rho * np.log(rho / rho_hat)\n"
         "                            + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))",
         "np.sum(rho_hat * np.log(rho_hat / rho)\n"
         "                            + (1 - rho_hat) * np.log((1 - rho_hat) / (1 - rho)))"),
    )
    fails(lambda: run_kl_sparsity(ns), contains=["`penalty`", "swapped", "写反了"])


def test_kl_sparsity_swapped_gradient_only_fails():
    ns = mutant("kl_sparsity", ("beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))",
                                "beta * (np.log(rho_hat / rho) - np.log((1 - rho_hat) / (1 - rho)))"))
    fails(lambda: run_kl_sparsity(ns), contains=["`dh`", "swapped"])


def test_kl_sparsity_per_example_rho_hat_fails():
    # rho_hat = h: one KL per example and unit instead of one per unit
    summed = mutant("kl_sparsity", ("rho_hat = np.mean(h, axis=0)", "rho_hat = h"))
    fails(lambda: run_kl_sparsity(summed), contains=["`penalty`", "mean activation of unit j"])
    averaged = mutant("kl_sparsity", ("rho_hat = np.mean(h, axis=0)", "rho_hat = h"),
                      ("penalty = beta * np.sum(", "penalty = beta / N * np.sum("))
    fails(lambda: run_kl_sparsity(averaged), contains=["`penalty`", "mean activation of unit j"])


def test_kl_sparsity_missing_batch_mean_fails():
    ns = mutant("kl_sparsity", ("dh = np.ones_like(h) * drho_hat / N",
                                "dh = np.ones_like(h) * drho_hat"))
    fails(lambda: run_kl_sparsity(ns), contains=["`dh`", "N=6"])


def test_contractive_missing_activation_derivative_fails():
    # the "Jacobian" taken as W1 alone: plain weight decay
    def contractive_penalty(X, W1, b1, lam):
        return lam * np.sum(W1**2), 2 * lam * W1, np.zeros_like(b1)

    ns = with_function("contractive_penalty", contractive_penalty)
    fails(lambda: run_contractive(ns), contains=["`penalty`", "activation derivative", "激活函数的导数"])


def test_contractive_h_treated_as_constant_fails():
    ns = mutant("contractive_penalty", ("+ X.T @ dz", ""),
                ("db1 = np.sum(dz, axis=0)", "db1 = np.zeros_like(b1)"))
    fails(lambda: run_contractive(ns), contains=["`dW1`", "treated as a constant"])


def test_contractive_not_squared_fails():
    ns = mutant("contractive_penalty", ("penalty = lam * np.sum(a**2 * s) / N",
                                        "penalty = lam * np.sum(a * s) / N"))
    fails(lambda: run_contractive(ns), contains=["`penalty`", "(h_j(1-h_j))²"])


def test_contractive_wrong_activation_second_derivative_fails():
    ns = mutant("contractive_penalty", ("(1 - 2 * h)", "(1 - h)"))
    fails(lambda: run_contractive(ns), contains=["`dW1`", "PyTorch"])


def test_reparameterize_blocking_mu_fails():
    ns = mutant("reparameterize", ("dmu = dz.copy()", "dmu = np.zeros_like(dz)"))
    fails(lambda: run_reparameterize(ns), contains=["`dmu`", "no gradient reaches μ"])


def test_reparameterize_blocking_sigma_fails():
    ns = mutant("reparameterize", ("dlogvar = dz * eps * std * 0.5", "dlogvar = np.zeros_like(dz)"))
    fails(lambda: run_reparameterize(ns), contains=["`dlogvar`", "no gradient reaches log σ²"])


def test_reparameterize_missing_half_fails():
    ns = mutant("reparameterize", ("dlogvar = dz * eps * std * 0.5", "dlogvar = dz * eps * std"))
    fails(lambda: run_reparameterize(ns), contains=["`dlogvar`", "factor ½"])


def test_reparameterize_gradient_wrt_sigma_fails():
    ns = mutant("reparameterize", ("dlogvar = dz * eps * std * 0.5", "dlogvar = dz * eps"))
    fails(lambda: run_reparameterize(ns), contains=["`dlogvar`", "with respect to σ"])


def test_reparameterize_variance_instead_of_std_fails():
    ns = mutant("reparameterize", ("std = np.exp(0.5 * logvar)", "std = np.exp(logvar)"))
    fails(lambda: run_reparameterize(ns), contains=["`out`", "PyTorch"])


def test_gaussian_kl_wrong_sign_fails():
    ns = mutant("gaussian_kl", ("kl = -0.5 * np.sum", "kl = 0.5 * np.sum"),
                ("dmu = mu / N", "dmu = -mu / N"), ("dlogvar = 0.5 *", "dlogvar = -0.5 *"))
    fails(lambda: run_gaussian_kl(ns), contains=["`kl`", "wrong sign", "符号反了"])


def test_gaussian_kl_missing_half_fails():
    ns = mutant("gaussian_kl", ("kl = -0.5 * np.sum", "kl = -np.sum"),
                ("dmu = mu / N", "dmu = 2 * mu / N"), ("dlogvar = 0.5 *", "dlogvar = 1.0 *"))
    fails(lambda: run_gaussian_kl(ns), contains=["`kl`", "factor ½"])


def test_gaussian_kl_half_missing_in_gradient_only_fails():
    ns = mutant("gaussian_kl", ("dlogvar = 0.5 * (var - 1) / N", "dlogvar = (var - 1) / N"))
    fails(lambda: run_gaussian_kl(ns), contains=["`dlogvar`", "factor ½"])


def test_negative_elbo_kl_subtracted_fails():
    ns = mutant("negative_elbo", ("return recon + kl, dlogits, dmu, dlogvar",
                                  "return recon - kl, dlogits, -dmu, -dlogvar"))
    fails(lambda: run_negative_elbo(ns), contains=["`loss`", "PLUS the KL term"])


def test_negative_elbo_unstable_cross_entropy_fails():
    unstable = ("-(X * np.log(sigmoid(logits)) + (1 - X) * np.log(1 - sigmoid(logits)))")
    ns = mutant("negative_elbo", (
        "np.maximum(logits, 0) - logits * X + np.log1p(np.exp(-np.abs(logits)))", unstable))
    run_negative_elbo(ns)  # fine on moderate logits ...
    fails(lambda: run_negative_elbo(ns, logit_scale=40.0),  # ... not on large ones
          contains=["`loss`", "NaN or inf"])


def test_negative_elbo_mean_over_pixels_fails():
    ns = mutant("negative_elbo", ("recon = np.sum(bce) / N", "recon = np.mean(bce)"))
    fails(lambda: run_negative_elbo(ns), contains=["`loss`"])


def test_vae_without_kl_gradient_fails():
    ns = mutant("vae_loss_and_grads", ("dmu + dmu_z", "dmu_z"), ("dlogvar + dlogvar_z", "dlogvar_z"))
    fails(lambda: run_vae(ns), contains=["grads['W1']", "gaussian_kl"])


def test_vae_fanout_not_summed_fails():
    ns = mutant("vae_loss_and_grads", ("relu_backward(dh_mu + dh_logvar", "relu_backward(dh_mu"))
    fails(lambda: run_vae(ns), contains=["grads['W1']", "SUM"])


def test_vae_blocked_mu_in_reparameterisation_fails():
    ns = mutant("reparameterize", ("dmu = dz.copy()", "dmu = np.zeros_like(dz)"))
    fails(lambda: run_vae(ns), contains=["grads['W1']", "no gradient reaches μ"])


def test_vae_reparameterisation_missing_half_fails():
    ns = mutant("reparameterize", ("dlogvar = dz * eps * std * 0.5", "dlogvar = dz * eps * std"))
    fails(lambda: run_vae(ns), contains=["grads['W1']", "factor ½"])


def test_vae_missing_gradient_key_fails():
    ns = mutant("vae_loss_and_grads", ("return loss, grads",
                                       "grads.pop('b_logvar')\n    return loss, grads"))
    fails(lambda: run_vae(ns), contains=["'b_logvar'", "W_logvar"])


def test_vae_grads_as_tuple_fails():
    ns = mutant("vae_loss_and_grads", ("return loss, grads", "return loss, tuple(grads.values())"))
    fails(lambda: run_vae(ns), kind="type", contains=["dict"])


def test_vae_modifying_params_fails():
    ns = mutant("vae_loss_and_grads", ("p = params", "p = params\n    p['W1'] -= 0.0 + 1e-3"))
    fails(lambda: run_vae(ns), kind="mutated", contains=["changed its input"])


# ------------------------------------------- issue #16: one verdict, honest diagnoses


def test_contractive_only_db1_zero_gets_its_own_diagnosis():
    """dW1 right, db1 zero: the diagnosis names b1's path through h, never the activation
    derivative or 'treated as a constant' (which are about dW1)."""
    ns = mutant("contractive_penalty", ("db1 = np.sum(dz, axis=0)", "db1 = np.zeros_like(b1)"))
    failure = fails(lambda: run_contractive(ns), contains=["`db1`", "db1 is zero", "db1 为零"])
    message = failure.args[0]
    assert "activation derivative" not in message and "treated as a constant" not in message


def test_contractive_db1_wrong_but_not_zero_gets_no_zero_diagnosis():
    ns = mutant("contractive_penalty", ("db1 = np.sum(dz, axis=0)", "db1 = 2 * np.sum(dz, axis=0)"))
    failure = fails(lambda: run_contractive(ns), contains=["`db1`", "2 times"])
    assert "db1 is zero" not in failure.args[0]


def test_contractive_without_the_direct_path_fails():
    ns = mutant("contractive_penalty", ("lam / N * 2 * W1 * np.sum(a**2, axis=0) + X.T @ dz",
                                        "X.T @ dz"))
    fails(lambda: run_contractive(ns), contains=["`dW1`", "directly", "直接依赖于 W1"])


def test_reparameterize_backward_in_float32_says_float32_and_float64():
    ns = mutant("reparameterize", ("dlogvar = dz * eps * std * 0.5",
                                   "dlogvar = (dz * eps * std * 0.5).astype(np.float32)"))
    failure = fails(lambda: run_reparameterize(ns), contains=["`dlogvar`", "float32", "float64"])
    assert failure.kind == "numerical"


def test_vae_with_a_float32_reparameterisation_names_the_helpers():
    """Issue #16: the VAE inherits a float32 helper; the message says so, in both languages,
    and says float32 and float64 (the student meets it before submitting)."""
    ns = mutant("reparameterize", ("std = np.exp(0.5 * logvar)",
                                   "std = np.exp(0.5 * logvar).astype(np.float32)"))
    fails(lambda: run_reparameterize(ns), kind="numerical", contains=["float32", "float64"])
    fails(lambda: run_vae(ns), kind="numerical",
          contains=["float32", "float64", "`reparameterize_backward`", "调用了你写的"])


FINITE_DIFFERENCE_KL = """
def gaussian_kl(mu, logvar):
    def value(mu, logvar):
        return -0.5 * np.sum(1 + logvar - mu**2 - np.exp(logvar)) / mu.shape[0]

    grads = []
    for which in (0, 1):
        args = [mu.copy(), logvar.copy()]
        grad = np.zeros_like(args[which])
        for index in np.ndindex(grad.shape):
            up, down = [a.copy() for a in args], [a.copy() for a in args]
            up[which][index] += 1e-5
            down[which][index] -= 1e-5
            grad[index] = (value(*up) - value(*down)) / 2e-5
        grads.append(grad)
    return value(mu, logvar), grads[0], grads[1]
"""


def replaced(cell: str, source: str) -> dict:
    """A fresh namespace of the solution with solution cell ``cell`` replaced by ``source``."""
    nb = copy.deepcopy(_notebook())
    [target] = [c for c in nb.cells if notebooks.grade_id(c) == cell]
    target.source = source
    return notebooks.exec_graded_code(nb, f"<replaced {cell}>")


def test_gaussian_kl_by_finite_differences_fails_in_every_exercise_that_uses_it():
    ns = replaced("gaussian_kl", FINITE_DIFFERENCE_KL)
    fails(lambda: run_gaussian_kl(ns), kind="numerical", contains=["finite differences"])
    fails(lambda: run_negative_elbo(ns), kind="numerical",
          contains=["finite differences", "`gaussian_kl`", "有限差分"])
    fails(lambda: run_vae(ns), kind="numerical", contains=["finite differences", "`gaussian_kl`"])


def test_vae_failure_lists_which_gradients_agree():
    ns = mutant("vae_loss_and_grads", ("relu_backward(dh_mu + dh_logvar", "relu_backward(dh_mu"))
    failure = fails(lambda: run_vae(ns), contains=["Gradients that agree with autograd: b3, W3, "
                                                   "b2, W2, b_logvar, W_logvar, b_mu, W_mu.",
                                                   "Gradients that do not: b1, W1."])
    assert "不一致的梯度：b1, W1" in failure.args[0]


def test_vae_kl_subtracted_is_named():
    ns = mutant("vae_loss_and_grads", ("loss, dlogits, dmu, dlogvar = negative_elbo(X, logits, mu, logvar)",
                                       "loss, dlogits, dmu, dlogvar = negative_elbo(X, logits, mu, logvar)\n"
                                       "    kl, dmu, dlogvar = gaussian_kl(mu, logvar)\n"
                                       "    loss, dmu, dlogvar = loss - 2 * kl, -dmu, -dlogvar"))
    fails(lambda: run_vae(ns), contains=["`loss`", "PLUS the KL term"])


def test_vae_grads_in_any_mapping_pass():
    import collections

    solved = solution(A)["vae_loss_and_grads"]

    def vae_loss_and_grads(params, X, eps):
        loss, grads = solved(params, X, eps)
        return loss, collections.OrderedDict(sorted(grads.items()))

    run_vae(with_function("vae_loss_and_grads", vae_loss_and_grads))


def test_vae_replacing_a_params_entry_fails():
    solved = solution(A)["vae_loss_and_grads"]

    def vae_loss_and_grads(params, X, eps):
        params["W3"] = params["W3"] * 1.0  # same values, a new array in the caller's dict
        params["b3"] = params["b3"] + 1e-3
        return solved(params, X, eps)

    fails(lambda: run_vae(with_function("vae_loss_and_grads", vae_loss_and_grads)),
          kind="mutated", contains=["params['b3']"])


def test_autoencoder_backward_changing_the_cache_fails():
    ns = mutant("autoencoder", ("affine1_cache, sigmoid1_cache, affine2_cache, sigmoid2_cache = cache",
                                "affine1_cache, sigmoid1_cache, affine2_cache, sigmoid2_cache = cache\n"
                                "    affine1_cache[0][...] = 0.0"))
    fails(lambda: run_autoencoder(ns), kind="mutated", contains=["X"])


def test_each_check_call_is_one_run_of_steps(monkeypatch):
    """All cases of a check call travel together (one message to the sandbox)."""
    from grader.checks import steps as steps_module

    runs = []
    original = steps_module.LocalExecutor.run

    def counting(self, steps):
        runs.append(len(steps.items))
        return original(self, steps)

    monkeypatch.setattr(steps_module.LocalExecutor, "run", counting)
    ns = solution(A)
    for run in RUNNERS:
        runs.clear()
        run(ns)
        assert len(runs) == 1, (run.__name__, runs)


# ------------------------------------------------ 6.0: the student's tools from 03


def test_tools_transposed_affine_weight_gradient_fails():
    ns = mutant("tools_from_03", ("return dout @ w.T, x.T @ dout, dout.sum(axis=0)",
                                  "return dout @ w.T, dout.T @ x, dout.sum(axis=0)"))
    fails(lambda: run_tools(ns), contains=["your affine layer from assignment 03", "`dw`",
                                           "transposed", "作业 03 中你的仿射层"])


def test_tools_relu_mask_from_the_output_is_fine_but_a_missing_mask_fails():
    ns = mutant("tools_from_03", ("return dout * (x > 0)", "return dout"))
    fails(lambda: run_tools(ns), contains=["your ReLU layer", "`dx`"])


def test_tools_sigmoid_in_float32_fails_with_the_rule():
    ns = mutant("tools_from_03", ("return dout * out * (1.0 - out)",
                                  "return (dout * out * (1.0 - out)).astype(np.float32)"))
    fails(lambda: run_tools(ns), kind="numerical", contains=["your sigmoid layer", "float32"])


def test_tools_one_sided_differences_fail():
    ns = mutant("tools_from_03", ("f_minus = f(x)", "f_minus = f(x + 0.0 * old)"),
                ("x[index] = old - h", "x[index] = old"),
                ("grad[index] = (f_plus - f_minus) / (2 * h)",
                 "grad[index] = (f_plus - f_minus) / h"))
    fails(lambda: run_tools(ns), contains=["numerical_gradient", "`grad`"])


def test_tools_checker_that_leaves_x_perturbed_fails():
    ns = mutant("tools_from_03", ("    x = np.array(x, dtype=float)\n", ""),
                ("        x[index] = old\n", ""))
    fails(lambda: run_tools(ns), kind="mutated", contains=["numerical_gradient", "`x`"])


def test_the_setup_sigmoid_is_the_students_sigmoid_forward():
    """06 gives no answer of 02 or 03: sigmoid in the setup cell calls the student's layer."""
    ns = mutant("tools_from_03", ("out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
                                  "out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)) + 1"))
    assert ns["sigmoid"](np.zeros(1))[0] == 1.5
    fails(lambda: run_negative_elbo(ns), contains=["`dlogits`"])


# ------------------------------------------------------------------ the questions

QUESTIONS = {  # question: (right answers, {wrong answer: a fragment of its hint})
    "q6_1": (["c"], {"a": "many codes are equally", "b": "not the only one",
                   "d": "Eckart–Young"}),
    "q6_2": (["c"], {"a": "without a penalty", "b": "ten times", "d": "reconstruction loss"}),
    "q6_3": ([0.5], {1: "-½", -0.5: "never negative", 0: "μ = 1", 1.5: "The 1 inside"}),
}


(test_question_right_answers_pass, test_question_wrong_answers_fail_with_their_hint,
 test_question_left_blank_is_not_done) = question_tests(A, QUESTIONS)


def test_question_other_forms_of_the_right_answer_pass():
    check("q6_1", " C ")
    check("q6_2", "(c)")
    check("q6_3", "0.50")
    check("q6_3", 1 / 2)


def test_question_answers_of_the_wrong_kind_say_what_is_expected():
    fails(lambda: check("q6_1", "e"), kind="type", contains=["one of the letters"])
    fails(lambda: check("q6_3", "half"), kind="type", contains=["a number"])


# ------------------------------------------------- the notebook's claims (issue #20)


@pytest.fixture(scope="module")
def full_run():
    """Every code cell of the solution notebook, run in order as a student runs it (the
    full run, not the shortened one of autograding)."""
    import contextlib
    import io
    import os

    import matplotlib

    matplotlib.use("Agg")
    nb = _notebook()
    namespace: dict = {"__name__": "__main__"}
    saved = {k: os.environ.pop(k, None) for k in ("NBGRADER_EXECUTION",)}
    os.environ["TQDM_DISABLE"] = "1"
    try:
        with contextlib.redirect_stdout(io.StringIO()) as out:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    exec(compile(cell.source, f"<cell {index}>", "exec"), namespace)
    finally:
        for k, v in saved.items():
            if v is not None:
                os.environ[k] = v
        import matplotlib.pyplot as plt

        plt.close("all")
    namespace["_printed"] = out.getvalue()
    return namespace


@pytest.mark.slow
def test_claim_every_gradient_check_of_the_notebook_agrees(full_run):
    errors = full_run["gradient_errors"]
    assert len(errors) >= 10
    assert all(error < 1e-6 for error in errors.values()), errors
    assert "DISAGREES" not in full_run["_printed"]


@pytest.mark.slow
def test_claim_smaller_codes_reconstruct_worse(full_run):
    ns = full_run
    error = {k: ns["test_error"](p, ns["X_test"], ns["X_test"]) for k, p in ns["autoencoders"].items()}
    assert error[2] > error[8] > error[32]
    assert error[2] > 2.5 and error[32] < 0.5, error


@pytest.mark.slow
def test_claim_each_denoiser_beats_the_plain_autoencoder_on_its_noise(full_run):
    d = full_run["denoising"]
    for kind in ("gaussian", "masking"):
        assert d["plain AE"][kind] > 1.5 * d[f"DAE ({kind})"][kind], d
    assert d["plain AE"]["clean"] < min(d["DAE (gaussian)"]["clean"], d["DAE (masking)"]["clean"])


@pytest.mark.slow
def test_claim_sparsity_penalties_switch_units_off_at_a_cost(full_run):
    s = full_run["sparsity"]
    assert s["KL"]["active units"] < s["L1"]["active units"] < s["no penalty"]["active units"]
    assert s["KL"]["active units"] < 10  # question 6.2's answer (c)
    assert s["no penalty"]["active units"] > 45  # "most units are on for every image"
    assert abs(s["KL"]["mean activation"] - 0.05) < 0.02  # "near the target"
    per_unit = full_run["encode"](full_run["sparse_models"]["KL"], full_run["X_test"]).mean(axis=0)
    assert np.mean(per_unit < 0.15) > 0.5, per_unit  # "most units' mean activations"
    assert (s["KL"]["reconstruction"] > s["L1"]["reconstruction"]
            > s["no penalty"]["reconstruction"])


@pytest.mark.slow
def test_claim_the_contractive_code_moves_less(full_run):
    c = full_run["contraction"]
    assert c["CAE"]["moved at 1"] < 0.5 * c["plain AE"]["moved at 1"], c
    assert c["CAE"]["jacobian"] < c["plain AE"]["jacobian"]
    assert c["CAE"]["reconstruction"] > c["plain AE"]["reconstruction"]


@pytest.mark.slow
def test_claim_the_vae_switches_some_latent_units_off(full_run):
    kl = full_run["kl_per_unit"]
    assert (kl < 0.05).any() and (kl > 0.5).any(), kl


@pytest.mark.slow
def test_claim_few_labels(full_run):
    """Section 8: the AE code below the pixels at every k; at k = 1 the DAE code above the
    pixels and the fine-tuned DAE above the same network trained from scratch."""
    acc = {name: np.array(values) for name, values in full_run["accuracy"].items()}
    assert full_run["labels_per_class"][0] == 1
    assert (acc["AE code"] < acc["raw pixels"]).all(), acc
    assert acc["DAE code"][0] > acc["raw pixels"][0], acc
    assert acc["fine-tuned DAE"][0] > acc["same network, random init"][0], acc


def test_a_linear_autoencoder_code_is_pca_up_to_an_invertible_map():
    """Section 3's corrected statement (question 6.1): an optimal linear autoencoder's code
    spans the principal subspace, and a non-orthogonal map of the code is just as good."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 6)) @ rng.standard_normal((6, 6))
    Xc = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(Xc, full_matrices=False)
    V2 = Vt[:2].T
    best = Xc @ V2 @ V2.T
    A_map = np.array([[2.0, 0.7], [0.0, 0.5]])  # invertible, not a rotation
    W1, W2 = V2 @ A_map, np.linalg.inv(A_map) @ V2.T
    assert np.allclose(Xc @ W1 @ W2, best)
    assert not np.allclose(A_map @ A_map.T, np.eye(2))


@pytest.mark.slow
def test_claim_the_2d_code_groups_digits_and_the_printed_differences_hold(full_run):
    """Section 3's scatter plot (digits of one kind land near each other): the nearest
    training code's digit is right far more often than chance; the worked example and the
    contractive demo agree with autograd as printed."""
    ns = full_run
    codes_train = ns["encode"](ns["autoencoders"][2], ns["X_train"])
    codes_test = ns["encode"](ns["autoencoders"][2], ns["X_test"])
    nearest = ((codes_test[:, None, :] - codes_train[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    assert np.mean(ns["y_train"][nearest] == ns["y_test"]) > 0.5
    assert np.abs(ns["W1_t"].grad.numpy() - ns["dW1_mine"]).max() < 1e-12
    import torch

    h = np.random.default_rng(0).standard_normal((5, 8))  # the worked example's inputs
    h_t = torch.tensor(h, requires_grad=True)
    (0.1 * (h_t**2).sum() / (2 * 5)).backward()
    assert np.abs(ns["l2_code_penalty"](h, 0.1)[1] - h_t.grad.numpy()).max() < 1e-15
