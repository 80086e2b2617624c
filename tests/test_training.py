"""Assignment 05: reference passes, stubs are "not done", the bug zoo loses its points."""

import numpy as np
import pytest

from grader import check
from grader.checks.exercises.training import InitExercise
from grader.checks.references.training import early_stopping as early_stopping_reference
from tests.support import fails, question_tests, run_solution_notebook, solution, stubs

A = "05_training"


@pytest.fixture(scope="module")
def ref():
    return solution(A)


@pytest.fixture(scope="module")
def stub():
    return stubs(A)


# One runner per exercise, as the hidden tests call it (kept small: these run in seconds).
RUNNERS = {
    "layers_from_03": lambda ns: check("layers_from_03", ns["affine_forward"], ns["affine_backward"],
                                       ns["relu_forward"], ns["relu_backward"],
                                       ns["softmax_cross_entropy"], ns["numerical_gradient"],
                                       ns["relative_error"], seeds=[1]),
    "data_iter": lambda ns: check("data_iter", ns["data_iter"], seeds=[1],
                                  shapes=[(1, 2), (10, 3), (12, 2, 3)], batch_sizes=[1, 4, 100]),
    "sgd": lambda ns: check("sgd", ns["sgd"], seeds=[1], shapes=[(1,), (5, 2)], steps=15,
                            lr=0.05, weight_decay=0.1),
    "sgd_momentum": lambda ns: check("sgd_momentum", ns["sgd_momentum"], seeds=[1],
                                     shapes=[(1,), (6, 2)], steps=20, lr=0.05, momentum=0.5,
                                     weight_decay=0.01),
    "sgd_momentum_schedule": lambda ns: check("sgd_momentum", ns["sgd_momentum"], seeds=[4],
                                              shapes=[(3, 2)], steps=20, lr=0.1, lr_decay=0.9,
                                              momentum=0.8, weight_decay=0.01),
    "adam": lambda ns: check("adam", ns["adam"], seeds=[1], shapes=[(1,), (5, 2)], steps=30,
                             lr=0.1, beta1=0.8, beta2=0.99, weight_decay=0.05),
    "adam_eps": lambda ns: check("adam", ns["adam"], seeds=[3], shapes=[(3, 4)], steps=20,
                                 lr=0.01, eps=1e-3, grad_scale=1e-3),
    "lr_decay": lambda ns: check("lr_decay", ns["exponential_decay"], ns["inverse_time_decay"],
                                 lr=1.0, gamma=0.5, decay=0.05, num_epochs=30),
    "init_schemes": lambda ns: check("init_schemes", ns["glorot_init"], ns["he_init"],
                                     seeds=[1], shapes=[(256, 64), (1, 3)], draws=20),
    "dropout": lambda ns: check("dropout", ns["dropout_forward"], ns["dropout_backward"],
                                seeds=[1], shapes=[(1, 7), (20, 30)], p=0.2, draws=100),
    "dropout_p0": lambda ns: check("dropout", ns["dropout_forward"], ns["dropout_backward"],
                                   seeds=[4], shapes=[(3, 3)], p=0.0, draws=10),
    "early_stopping": lambda ns: check(
        "early_stopping", ns["early_stopping_step"], patience=3,
        sequences=[[0.5, 0.5, 0.5, 0.5, 0.4], [1.0, 0.9, 0.8, 0.7, 0.6],
                   [0.9, 1.0, 1.1, 0.8, 0.85, 0.9, 0.95, 0.7], [3.0]]),
    "mlp_loss_dropout": lambda ns: check("mlp_loss_dropout", ns["mlp_loss"], ns["dropout_forward"],
                                         seeds=[1], shapes=[(1, 4, 3, 2), (32, 64, 16, 10)],
                                         dropout=0.3),
    "train_mlp": lambda ns: check("train_mlp", ns["train_mlp"], seeds=[1]),
    "capstone": lambda ns: check("capstone", ns["train_capstone"], ns["predict"], seeds=[1],
                                 threshold=0.94),
}


@pytest.mark.parametrize("exercise", sorted(RUNNERS))
def test_reference_passes_quietly(ref, exercise, capfd):
    RUNNERS[exercise](ref)
    captured = capfd.readouterr()
    assert captured.err == "", f"a correct answer wrote to stderr:\n{captured.err}"
    assert "✓" in captured.out


@pytest.mark.parametrize("exercise", sorted(RUNNERS))
def test_stub_is_not_done(stub, exercise):
    fails(lambda: RUNNERS[exercise](stub), kind="not_done")


def _with(ref, **replacements):
    ns = dict(ref)
    ns.update(replacements)
    return ns


def _run(exercise, ref, **replacements):
    return lambda: RUNNERS[exercise](_with(ref, **replacements))


# ------------------------------------------------------------------------ 5.1 data_iter


def test_data_iter_permutation_reused_across_epochs_is_named(ref):
    def bug(batch_size, X, y, rng):
        indices = np.random.default_rng(0).permutation(len(X))  # the same order every epoch
        for start in range(0, len(X), batch_size):
            yield X[indices[start:start + batch_size]], y[indices[start:start + batch_size]]

    fails(_run("data_iter", ref, data_iter=bug),
          contains=["same order", "permutation is reused", "排列被重复使用"])


def test_data_iter_permutation_cached_once_is_named(ref):
    cache = {}

    def bug(batch_size, X, y, rng):
        indices = cache.setdefault(len(X), rng.permutation(len(X)))  # drawn once, then kept
        for start in range(0, len(X), batch_size):
            yield X[indices[start:start + batch_size]], y[indices[start:start + batch_size]]

    fails(_run("data_iter", ref, data_iter=bug), contains=["same order"])


def test_data_iter_with_replacement_is_named(ref):
    def bug(batch_size, X, y, rng):
        indices = rng.integers(0, len(X), size=len(X))
        for start in range(0, len(X), batch_size):
            yield X[indices[start:start + batch_size]], y[indices[start:start + batch_size]]

    fails(_run("data_iter", ref, data_iter=bug),
          contains=["exactly once", "with replacement", "有放回"])


def test_data_iter_dropping_last_batch_is_named(ref):
    def bug(batch_size, X, y, rng):
        indices = rng.permutation(len(X))
        for start in range(0, len(X) - batch_size + 1, batch_size):
            yield X[indices[start:start + batch_size]], y[indices[start:start + batch_size]]

    fails(_run("data_iter", ref, data_iter=bug), contains=["batch sizes", "last, smaller batch"])


def test_data_iter_without_shuffling_is_named(ref):
    def bug(batch_size, X, y, rng):
        for start in range(0, len(X), batch_size):
            yield X[start:start + batch_size], y[start:start + batch_size]

    fails(_run("data_iter", ref, data_iter=bug), contains=["original order"])


def test_data_iter_global_random_is_named(ref):
    def bug(batch_size, X, y, rng):
        indices = np.random.permutation(len(X))
        for start in range(0, len(X), batch_size):
            yield X[indices[start:start + batch_size]], y[indices[start:start + batch_size]]

    fails(_run("data_iter", ref, data_iter=bug), contains=["`rng` argument", "参数 `rng`"])


def test_data_iter_separate_shuffles_are_named(ref):
    def bug(batch_size, X, y, rng):
        ix, iy = rng.permutation(len(X)), rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            yield X[ix[start:start + batch_size]], y[iy[start:start + batch_size]]

    fails(_run("data_iter", ref, data_iter=bug), contains=["X_batch", "same indices"])


def test_data_iter_shuffling_in_place_is_caught(ref):
    def bug(batch_size, X, y, rng):
        order = rng.permutation(len(X))
        X[:], y[:] = X[order], y[order]
        for start in range(0, len(X), batch_size):
            yield X[start:start + batch_size], y[start:start + batch_size]

    fails(_run("data_iter", ref, data_iter=bug), kind="mutated")


# ------------------------------------------------------------------- 5.2–5.4 optimisers


def test_sgd_weight_decay_sign_is_named(ref):
    def bug(w, dw, config):
        return w - config["lr"] * (dw - config["weight_decay"] * w), config

    fails(_run("sgd", ref, sgd=bug), contains=["next_w", "torch.optim", "wrong sign"])


def test_sgd_weight_decay_ignored_is_named(ref):
    fails(_run("sgd", ref, sgd=lambda w, dw, config: (w - config["lr"] * dw, config)),
          contains=["weight decay is ignored", "忽略了权重衰减"])


def test_sgd_in_place_update_is_caught(ref):
    def bug(w, dw, config):
        w -= config["lr"] * (dw + config["weight_decay"] * w)  # the cs231n habit
        return w, config

    fails(_run("sgd", ref, sgd=bug), kind="mutated", contains=["`w`"])


def _momentum(order="velocity first", sign=1.0, dampening=False, keep_state=True,
              decay_first=True):
    def rule(w, dw, config):
        lr, beta, wd = config["lr"], config["momentum"], config["weight_decay"]
        v = config.get("velocity", np.zeros_like(w)) if keep_state else np.zeros_like(w)
        g = dw + wd * w if decay_first else dw
        if order == "position first":
            next_w = w - lr * v
            return next_w, {**config, "velocity": beta * v + g}
        v = beta * v + ((1 - beta) * g if dampening else g)
        next_w = w - sign * lr * v
        if not decay_first:
            next_w = next_w - lr * wd * w
        return next_w, {**config, "velocity": v}

    return rule


@pytest.mark.parametrize(
    "bug, hint",
    [
        (_momentum(sign=-1.0), "goes uphill"),
        (_momentum(order="position first"), "old velocity"),
        (_momentum(dampening=True), "(1 - momentum)"),
        (_momentum(keep_state=False), "not carried to the next step"),
        (_momentum(decay_first=False), "after the momentum step"),
    ],
    ids=["wrong_sign", "wrong_order", "dampening", "state_lost", "decay_after"],
)
def test_sgd_momentum_bug_is_named(ref, bug, hint):
    fails(_run("sgd_momentum", ref, sgd_momentum=bug), contains=["step", hint])


def _adam(bias_correction=True, eps_inside=False, decoupled=False):
    def rule(w, dw, config):
        b1, b2, eps, wd = (config.get(k, d) for k, d in
                           (("beta1", 0.9), ("beta2", 0.999), ("eps", 1e-8),
                            ("weight_decay", 0.0)))
        g = dw if decoupled else dw + wd * w
        t = config.get("t", 0) + 1
        m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * g
        v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * g * g
        m_hat, v_hat = (m / (1 - b1**t), v / (1 - b2**t)) if bias_correction else (m, v)
        step = m_hat / (np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps)
        if decoupled:
            step = step + wd * w
        return w - config["lr"] * step, {**config, "m": m, "v": v, "t": t}

    return rule


def test_adam_without_bias_correction_is_named(ref):
    fails(_run("adam", ref, adam=_adam(bias_correction=False)),
          contains=["next_w", "torch.optim", "no bias correction", "偏差修正"])


def test_adam_eps_inside_sqrt_is_named(ref):
    fails(_run("adam_eps", ref, adam=_adam(eps_inside=True)), contains=["eps is inside"])


def test_adam_decoupled_weight_decay_is_named(ref):
    fails(_run("adam", ref, adam=_adam(decoupled=True)), contains=["AdamW"])


def test_adam_step_counter_from_zero_is_caught(ref):
    def bug(w, dw, config):
        t = config.get("t", 0)  # used before it is incremented: 1 - beta**0 == 0
        m = 0.8 * config.get("m", np.zeros_like(w)) + 0.2 * dw
        v = 0.99 * config.get("v", np.zeros_like(w)) + 0.01 * dw * dw
        with np.errstate(all="ignore"):
            step = (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.99**t)) + 1e-8)
        return w - config["lr"] * step, {**config, "m": m, "v": v, "t": t + 1}

    fails(_run("adam", ref, adam=bug), contains=["NaN or inf"])


# ------------------------------------------------------------------------ 5.5 schedules


def test_exponential_decay_off_by_one_is_named(ref):
    fails(_run("lr_decay", ref, exponential_decay=lambda lr, gamma, epoch: lr * gamma ** (epoch + 1)),
          contains=["ExponentialLR", "off by one epoch"])


def test_exponential_decay_with_exp_is_named(ref):
    fails(_run("lr_decay", ref, exponential_decay=lambda lr, gamma, epoch: lr * np.exp(-gamma * epoch)),
          contains=["exp(-gamma * epoch)"])


def test_inverse_time_decay_sqrt_is_named(ref):
    fails(_run("lr_decay", ref,
               inverse_time_decay=lambda lr, decay, epoch: lr / np.sqrt(1 + decay * epoch)),
          contains=["LambdaLR", "square root"])


# ------------------------------------------------------------------- 5.6 initialisation


@pytest.mark.parametrize(
    "replacement, hint",
    [
        ({"glorot_init": lambda i, o, rng: rng.normal(0, np.sqrt(1 / i), (i, o))}, "LeCun"),
        ({"glorot_init": lambda i, o, rng: rng.normal(0, 2 / (i + o), (i, o))},
         "standard deviation"),
        ({"glorot_init": lambda i, o, rng: rng.uniform(-np.sqrt(2 / (i + o)),
                                                       np.sqrt(2 / (i + o)), (i, o))},
         "a**2 / 3"),
        ({"he_init": lambda i, o, rng: rng.normal(0, np.sqrt(2 / o), (i, o))}, "fan_out used"),
        ({"he_init": lambda i, o, rng: rng.normal(0, np.sqrt(2 / (i + o)), (i, o))}, "swapped"),
    ],
    ids=["lecun", "std_as_var", "uniform_limit", "fan_out", "swapped"],
)
def test_init_wrong_variance_is_named(ref, replacement, hint):
    fails(_run("init_schemes", ref, **replacement), contains=["variance", "方差", hint])


def test_init_global_random_is_named(ref):
    fails(_run("init_schemes", ref,
               he_init=lambda i, o, rng: np.random.normal(0, np.sqrt(2 / i), (i, o))),
          contains=["`rng` argument"])


def test_init_transposed_shape_is_named(ref):
    fails(_run("init_schemes", ref,
               glorot_init=lambda i, o, rng: rng.normal(0, np.sqrt(2 / (i + o)), (o, i))),
          contains=["wrong shape", "transposed"])


def test_init_target_variances_agree_with_torch():
    import torch

    fan_in, fan_out = 300, 100
    weight = torch.empty(fan_out, fan_in, dtype=torch.float64)  # torch stores (out, in)
    torch.manual_seed(0)
    torch.nn.init.xavier_normal_(weight)
    glorot = weight.var().item()
    torch.nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="relu")
    he = weight.var().item()
    target = InitExercise.variances(fan_in, fan_out)
    assert glorot == pytest.approx(target["glorot"], rel=0.03)
    assert he == pytest.approx(target["he"], rel=0.03)


# --------------------------------------------------------------------------- 5.7 dropout


def test_dropout_not_rescaled_is_named(ref):
    def forward(x, p, train, rng):
        if not train:
            return x.copy(), np.ones_like(x)
        mask = rng.random(x.shape) >= p
        return x * mask, mask

    fails(_run("dropout", ref, dropout_forward=forward,
               dropout_backward=lambda dout, mask: dout * mask),
          contains=["`out`", "not rescaled", "1 - p"])


def test_dropout_p_as_keep_probability_is_named(ref):
    def forward(x, p, train, rng):
        if not train:
            return x.copy(), 1.0
        mask = (rng.random(x.shape) < p) / p
        return x * mask, mask

    fails(_run("dropout", ref, dropout_forward=forward), contains=["kept", "probability of keeping"])


def test_dropout_backward_without_mask_is_named(ref):
    fails(_run("dropout", ref, dropout_backward=lambda dout, cache: dout),
          contains=["`dx`", "autograd", "ignores the mask"])


def test_dropout_classic_eval_scaling_is_named(ref):
    forward = ref["dropout_forward"]

    def bug(x, p, train, rng):
        if train:
            return forward(x, p, train, rng)
        return x * (1 - p), 1 - p  # scaling at test time, as in non-inverted dropout

    fails(_run("dropout", ref, dropout_forward=bug), contains=["eval mode", "identity"])


def test_dropout_fresh_mask_in_backward_is_caught(ref):
    def forward(x, p, train, rng):
        if not train:
            return x.copy(), (x.shape, 0.0, None)
        keep = (rng.random(x.shape) >= p) / (1 - p)
        return x * keep, (x.shape, p, rng)

    def backward(dout, cache):
        shape, p, rng = cache
        if rng is None:
            return dout
        return dout * (rng.random(shape) >= p) / (1 - p)  # a second, different mask

    fails(_run("dropout", ref, dropout_forward=forward, dropout_backward=backward),
          contains=["`dx`", "autograd"])


# -------------------------------------------------------------------- 5.8 early stopping


def _stopper(compare=lambda loss, best: loss < best, limit=lambda patience: patience,
             reset=True, copy=True, keep_last=False):
    def rule(val_loss, params, state, patience):
        state = dict(state)
        state["epoch"] = epoch = state.get("epoch", -1) + 1
        if compare(val_loss, state.get("best_loss", np.inf)):
            state["best_loss"], state["best_epoch"] = val_loss, epoch
            state["best_params"] = {k: v.copy() for k, v in params.items()} if copy else params
            state["bad"] = 0 if reset else state.get("bad", 0)
        else:
            state["bad"] = state.get("bad", 0) + 1
        if keep_last:
            state["best_params"] = {k: v.copy() for k, v in params.items()}
        return state["bad"] >= limit(patience), state

    return rule


@pytest.mark.parametrize(
    "bug, hint",
    [
        (_stopper(keep_last=True), "weights of the last epoch"),
        (_stopper(copy=False), "store copies"),
        (_stopper(compare=lambda loss, best: loss <= best), "equal to the best"),
        (_stopper(limit=lambda patience: patience + 1), "off by one"),
        (_stopper(reset=False), "not reset"),
    ],
    ids=["keeps_last", "no_copy", "tie", "off_by_one", "no_reset"],
)
def test_early_stopping_bug_is_named(ref, bug, hint):
    fails(_run("early_stopping", ref, early_stopping_step=bug), contains=[hint])


def test_early_stopping_missing_state_key_is_named(ref):
    def bug(val_loss, params, state, patience):
        stop, state = ref["early_stopping_step"](val_loss, params, state, patience)
        return stop, {k: v for k, v in state.items() if k != "best_epoch"}

    fails(_run("early_stopping", ref, early_stopping_step=bug), contains=["'best_epoch'"])


def test_early_stopping_reference_semantics():
    assert early_stopping_reference([1.0, 0.8, 0.9, 0.7, 0.75, 0.72, 0.8], 2) == (5, 3)
    assert early_stopping_reference([0.5, 0.5, 0.5, 0.5, 0.4], 3) == (3, 0)
    assert early_stopping_reference([1.0, 0.9, 0.8], 1) == (None, 2)
    assert early_stopping_reference([3.0], 3) == (None, 0)
    assert early_stopping_reference([0.5, 0.5, 0.5, 0.5, 0.4], 3, variant="tie") == (None, 4)


# --------------------------------------------------------------------- 5.9–5.10 the MLP


def test_mlp_loss_without_relu_backward_is_named(ref):
    ns = ref

    def bug(params, X, y, dropout=0.0, train=False, rng=None):
        hidden, cache1 = ns["affine_forward"](X, params["W1"], params["b1"])
        act, _ = ns["relu_forward"](hidden)
        scores, cache2 = ns["affine_forward"](act, params["W2"], params["b2"])
        loss, dscores = ns["softmax_cross_entropy"](scores, y)
        dact, dW2, db2 = ns["affine_backward"](dscores, cache2)
        _, dW1, db1 = ns["affine_backward"](dact, cache1)  # skipped the ReLU's mask
        return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

    fails(_run("mlp_loss_dropout", ref, mlp_loss=bug), contains=["dW1", "autograd"])


def test_mlp_loss_gradient_keys_are_named(ref):
    def bug(params, X, y, dropout=0.0, train=False, rng=None):
        loss, grads = ref["mlp_loss"](params, X, y, dropout, train, rng)
        return loss, {"d" + k: v for k, v in grads.items()}

    fails(_run("mlp_loss_dropout", ref, mlp_loss=bug), contains=["'W1'", "dW1"])


def test_capstone_that_does_not_learn_fails_with_accuracy(ref):
    init_mlp = ref["init_mlp"]

    def bug(X_train, y_train, X_val, y_val, seed):
        rng = np.random.default_rng(seed)
        return init_mlp(X_train.shape[1], 32, 10, rng), {}  # "forgot" to train

    fails(_run("capstone", ref, train_capstone=bug), contains=["held-out", "留出", "94.00%"])


def test_train_mlp_progress_bar_on_stderr_costs_nothing(ref, capfd):
    train_mlp = ref["train_mlp"]

    def noisy(*args, progress=True, **kwargs):
        import sys

        print("epoch 1/20 ...", file=sys.stderr)  # a bar that ignores progress=False
        return train_mlp(*args, **kwargs, progress=False)

    RUNNERS["train_mlp"](_with(ref, train_mlp=noisy))
    assert capfd.readouterr().err == ""


# ------------------------------------------------- issue #16: every promised behaviour


def test_momentum_with_lr_folded_into_the_velocity_is_named(ref):
    def folded(w, dw, config):  # v <- beta v - lr g, w <- w + v: right while lr is constant
        g = dw + config["weight_decay"] * w
        velocity = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["lr"] * g
        return w + velocity, {**config, "velocity": velocity}

    fails(_run("sgd_momentum", ref, sgd_momentum=folded),
          contains=["config['velocity']", "folded into the velocity", "并进了速度"])


def test_momentum_that_keeps_its_first_lr_fails_when_the_lr_changes(ref):
    momentum = ref["sgd_momentum"]

    def first_lr(w, dw, config):  # remembers the learning rate of the first step
        lr = config.get("lr0", config["lr"])
        next_w, state = momentum(w, dw, {**config, "lr": lr})
        return next_w, {**state, "lr0": lr}

    RUNNERS["sgd_momentum"](_with(ref, sgd_momentum=first_lr))  # constant lr: no difference
    fails(_run("sgd_momentum_schedule", ref, sgd_momentum=first_lr),
          contains=["next_w", "config['lr'] = 0.1 * 0.9**t", "step 2 of 20"])


def test_adam_state_under_other_names_is_named(ref):
    adam = ref["adam"]

    def renamed(w, dw, config):
        inner = {k: v for k, v in config.items() if k not in ("m1", "m2", "steps")}
        inner.update({"m": config["m1"], "v": config["m2"], "t": config["steps"]} if "m1" in config
                     else {})
        next_w, state = adam(w, dw, inner)
        return next_w, {k: v for k, v in config.items() if k not in ("m", "v", "t")} | {
            "m1": state["m"], "m2": state["v"], "steps": state["t"]}

    fails(_run("adam", ref, adam=renamed), kind="type", contains=["'m'", "first moment"])


def test_adam_step_counter_from_zero_in_the_state_is_named(ref):
    adam = ref["adam"]

    def counted(w, dw, config):
        next_w, state = adam(w, dw, {**config, "t": config.get("t", -1) + 1} if "t" in config
                             else config)
        return next_w, {**state, "t": state["t"] - 1}

    fails(_run("adam", ref, adam=counted), contains=["config['t']"])


def test_adam_in_float32_is_named_float32_not_a_misplaced_eps(ref):
    def float32(w, dw, config):
        b1, b2 = np.float32(config.get("beta1", 0.9)), np.float32(config.get("beta2", 0.999))
        eps, lr = np.float32(config.get("eps", 1e-8)), np.float32(config["lr"])
        g = (dw + config.get("weight_decay", 0.0) * w).astype(np.float32)
        t = config.get("t", 0) + 1
        m = b1 * config.get("m", np.zeros_like(g)) + (1 - b1) * g
        v = b2 * config.get("v", np.zeros_like(g)) + (1 - b2) * g * g
        step = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        return (w.astype(np.float32) - lr * step), {**config, "m": m, "v": v, "t": t}

    for runner in ("adam", "adam_eps"):
        failure = fails(_run(runner, ref, adam=float32), contains=["float32", "float64"])
        assert "eps is inside" not in failure.args[0]


def test_dropout_with_a_generator_of_its_own_is_named(ref):
    def forward(x, p, train, rng):
        if not train:
            return x.copy(), 1.0
        mask = (np.random.default_rng(0).random(x.shape) >= p) / (1 - p)  # ignores `rng`
        return x * mask, mask

    fails(_run("dropout", ref, dropout_forward=forward), contains=["same elements", "`rng`"])


def _mlp(ns, *, eval_dropout=False, train_dropout=True, backward=True, own_rng=False,
         in_place=False):
    """The MLP's loss with one behaviour changed."""

    def mlp_loss(params, X, y, dropout=0.0, train=False, rng=None):
        hidden, cache1 = ns["affine_forward"](X, params["W1"], params["b1"])
        act, cache2 = ns["relu_forward"](hidden)
        generator = np.random.default_rng(12345) if own_rng else rng
        apply = (train and train_dropout) or (eval_dropout and not train)
        dropped, cache3 = ns["dropout_forward"](act, dropout, apply, generator)
        scores, cache4 = ns["affine_forward"](dropped, params["W2"], params["b2"])
        loss, dscores = ns["softmax_cross_entropy"](scores, y)
        ddropped, dW2, db2 = ns["affine_backward"](dscores, cache4)
        dact = ns["dropout_backward"](ddropped, cache3) if backward else ddropped
        _, dW1, db1 = ns["affine_backward"](ns["relu_backward"](dact, cache2), cache1)
        if in_place:
            params["W1"] -= 0.0 * dW1 + 1e-3  # "a step" taken inside the loss
        return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

    return mlp_loss


@pytest.mark.parametrize("change, hint", [
    ({"eval_dropout": True}, "applied in eval mode"),
    ({"train_dropout": False}, "no dropout in train mode"),
    ({"backward": False}, "skips dropout"),
    ({"own_rng": True}, "difference is in the dropout path"),
], ids=["dropout_at_eval", "no_dropout", "no_dropout_backward", "own_generator"])
def test_mlp_loss_dropout_mistakes_are_named(ref, change, hint):
    fails(_run("mlp_loss_dropout", ref, mlp_loss=_mlp(ref, **change)), contains=[hint])


def test_mlp_loss_changing_params_in_place_is_caught(ref):
    fails(_run("mlp_loss_dropout", ref, mlp_loss=_mlp(ref, in_place=True)), kind="mutated",
          contains=["params['W1']"])


def _loop(ns, *, keep_last=False, extra_epoch=False, best_shift=0, train_mode_loss=False,
          drop_key=None):
    """train_mlp with one promise broken (the reference's parts otherwise)."""

    def train_mlp(X_train, y_train, X_val, y_val, *, num_hiddens=32, num_outputs=10,
                  num_epochs=10, batch_size=64, lr=1e-3, weight_decay=0.0, dropout=0.0,
                  patience=5, seed=0, progress=True):
        rng = np.random.default_rng(seed)
        params = ns["init_mlp"](X_train.shape[1], num_hiddens, num_outputs, rng)
        configs = {k: {"lr": lr, "weight_decay": weight_decay if k[0] == "W" else 0.0}
                   for k in params}
        history = {"train_loss": [], "val_loss": [], "val_acc": []}
        state, waiting = {}, None
        for _ in range(num_epochs):
            for X_batch, y_batch in ns["data_iter"](batch_size, X_train, y_train, rng):
                _, grads = ns["mlp_loss"](params, X_batch, y_batch, dropout, True, rng)
                for k in params:
                    params[k], configs[k] = ns["adam"](params[k], grads[k], configs[k])
            train_loss = ns["mlp_loss"](params, X_train, y_train, dropout, train_mode_loss,
                                        rng)[0]
            val_loss = ns["mlp_loss"](params, X_val, y_val)[0]
            history["train_loss"].append(train_loss)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(float(np.mean(ns["predict"](params, X_val) == y_val)))
            if waiting is not None:
                break
            if patience is not None:
                stop, state = ns["early_stopping_step"](val_loss, params, state, patience)
                if stop and extra_epoch:
                    waiting = True  # one more epoch "to be sure"
                elif stop:
                    break
        if patience is not None:
            params = params if keep_last else state["best_params"]
            history["best_epoch"] = state["best_epoch"] + best_shift
        if drop_key:
            del history[drop_key]
        return params, history

    return train_mlp


@pytest.mark.parametrize("change, contains", [
    ({"keep_last": True}, ["not the promised ones", "not of the best epoch"]),
    ({"extra_epoch": True}, ["should stop after", "应当在"]),
    ({"best_shift": 1}, ["history['best_epoch']", "first at epoch"]),
    ({"train_mode_loss": True}, ["history['train_loss']", "eval mode"]),
    ({"drop_key": "val_acc"}, ["'val_acc'"]),
], ids=["last_params", "one_epoch_too_many", "best_epoch_off", "train_loss_with_dropout",
        "no_val_acc"])
def test_train_mlp_broken_promises_are_named(ref, change, contains):
    fails(_run("train_mlp", ref, train_mlp=_loop(ref, **change)), contains=contains)


def test_train_mlp_parts_of_the_reference_pass(ref):
    RUNNERS["train_mlp"](_with(ref, train_mlp=_loop(ref)))  # the helper above is right as is


def test_the_checks_digits_are_load_digits_without_importing_scikit_learn():
    """The checks read scikit-learn's digits file themselves (the import cost 1-2 s per
    grading process): the same numbers as load_digits, and scikit-learn stays unimported."""
    import subprocess
    import sys

    from sklearn.datasets import load_digits

    from grader.checks.exercises.training.common import _digits

    X, y = _digits()
    digits = load_digits()
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert np.array_equal(X, digits.data / 16.0) and np.array_equal(y, digits.target)
    probe = ("import sys; from grader.checks.exercises.training.common import _digits; "
             "X, y = _digits(); print(X.shape, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["(1797,", "64)", "False"], out


def test_capstone_defaults_do_not_reach_the_bar(ref):
    train_mlp = ref["train_mlp"]

    def defaults(X_train, y_train, X_val, y_val, seed):
        return train_mlp(X_train, y_train, X_val, y_val, seed=seed, progress=False)

    for seed in (0, 1, 2):
        fails(lambda seed=seed: check("capstone", defaults, ref["predict"], seeds=[seed],
                                      threshold=0.94), contains=["held-out"])


@pytest.mark.slow
def test_capstone_reference_reaches_the_bar_for_many_students(ref):
    """The grade of record gives each student a split of their own: the reference must pass
    on any of them (a sample of seeds that are no check call's)."""
    check("capstone", ref["train_capstone"], ref["predict"], seeds=list(range(100, 110)),
          threshold=0.94)


# ------------------------------------------------- 5.0 Assignment 3's layers, checked again


def test_assignment_3_layers_are_not_printed_in_this_notebook():
    """The release of 05 holds no Assignment 3 answer: the layers are the student's own."""
    from grader.checks import exercises

    text = "\n".join(c.source for c in _release().cells)
    for ident in ("affine", "relu", "softmax_ce_loss"):
        for fragment in getattr(exercises.get(ident), "answer_text", ()):
            assert fragment not in text, (ident, fragment)
    assert "dout @ w.T" not in text and "x.T @ dout" not in text


def test_the_release_can_run_exercise_5_0_from_assignment_3_records():
    """Assignment 3's checks read recorded values in the release: 5.0 must ask them exactly
    what Assignment 3's visible checks ask (seed 0, the same shapes)."""
    from grader.checks import exercises, recorded
    from grader.checks.exercises.training.recap import SHAPES
    from grader.course.release import recorded_calls
    from grader.paths import COURSE

    calls = recorded_calls(COURSE)
    for ident, shapes in SHAPES.items():
        if exercises.get(ident).needs_solution:
            assert recorded.call_key({"seeds": [0], "shapes": shapes}) in calls.get(ident, {}), ident


def test_a_wrong_assignment_3_layer_is_named_by_its_assignment_3_exercise(ref):
    def affine_backward(dout, cache):
        x, w = cache
        return dout @ w.T, x.T @ dout, dout.mean(axis=0)  # db averaged, not summed

    fails(_run("layers_from_03", ref, affine_backward=affine_backward),
          contains=["Exercise 3.3", "db"])


# ---------------------------------------------------------------------- the questions

QUESTIONS = {  # question: (right answers, {wrong answer: a fragment of its hint})
    "q5_1": ([0.08, 2 / 25, "0.08"], {2: "flat direction", 0.04: "1/λ"}),
    "q5_2": ([1, 1.0], {3.16: "without bias correction", 0.1: "before the correction"}),
    "q5_3": ([0.113, 0.01 * 16 / np.sqrt(2), 0.11], {0.16: "linear layer alone", 0.08: "not by 1/2",
                                                    0.0128: "variance"}),
    "q5_4": ([5, 5.0], {3: "restored", 4: "only one epoch", 6: "never runs epoch 6"}),
}


(test_question_right_answers_pass, test_question_wrong_answers_fail_with_their_hint,
 test_question_left_blank_is_not_done) = question_tests(A, QUESTIONS)


def test_two_questions_are_graded_by_hand():
    from grader import notebooks

    manual = [c for c in _release().cells if c.cell_type == "markdown"
              and notebooks.nbgrader_meta(c).get("grade")]
    assert [notebooks.grade_id(c) for c in manual] == ["answer_q5_5", "answer_q5_6"]
    for cell in manual:
        meta = notebooks.nbgrader_meta(cell)
        assert meta["solution"] and meta["points"] == 2 and not meta["locked"]
        assert "YOUR ANSWER HERE" in cell.source  # the release holds no model answer


def _release():
    from grader import notebooks
    from grader.paths import COURSE

    return notebooks.read(COURSE / A / "training.ipynb")


# ------------------------------------------------- the notebook's claims, as printed


@pytest.fixture(scope="module")
def ran():
    """Every code cell of the solution notebook, run in order (demos, recipe and plots)."""
    return run_solution_notebook(A, warnings_off=True)


@pytest.mark.slow
def test_the_printed_expected_ranges_hold(ran):
    table = ran["batch_table"]
    losses = [table[b][1] for b in sorted(table)]
    assert losses == sorted(losses) and table[512][0] < table[32][0]
    runs, ceiling = ran["lr_runs"], ran["ceiling"]
    slow, good, under, over = (runs[lr] for lr in (0.01, 0.3, 0.95 * ceiling, 1.15 * ceiling))
    assert slow[-1] > slow[0] / 2 and good[-1] < 0.01 and under[-1] < 0.01 and over[-1] > over[0]
    valley = ran["valley_after_40"]
    assert valley["sgd_momentum"] < 1e-4 and valley["sgd"] > 1e-3 and valley["adam"] > 1e-3
    assert 0.004 < ran["best_loss"] < 0.006
    excess = ran["final_excess"]
    assert 5 * max(excess["exponential"], excess["1/t"]) < excess["constant"]
    assert excess["exponential"] == min(excess.values())
    assert ran["distinct_units"] == {"all zeros": 1, "all 0.1": 1, "random N(0, 0.1²)": 32}
    factor = ran["per_layer"]
    assert 0.10 < factor["N(0, 0.01²)"] < 0.125 and 10 < factor["N(0, 1)"] < 12.5
    assert 0.65 < factor["Glorot"] < 0.8 and 0.9 < factor["He"] < 1.1
    assert abs(factor["N(0, 0.01²)"] - ran["answer_q5_3"]) < 0.01  # Question 5.3's answer
    kept = ran["train_out"] != 0
    assert 0.4 <= kept.mean() <= 0.6 and set(np.unique(ran["train_out"][kept])) == {2.0}
    assert 0.98 < ran["average"].mean() < 1.02
    (stop2, best2), (stop10, best10) = ran["stopped"][2], ran["stopped"][10]
    assert best2 < 20 and best10 == int(np.argmin(ran["val_curve"])) and stop2 < stop10
    assert "expected" in ran["_printed"]


@pytest.mark.slow
def test_the_debugging_recipe_shows_what_it_says(ran):
    assert all(2.2 < loss < 2.8 for loss in ran["initial_losses"])
    assert max(ran["gradient_errors"].values()) < 1e-6
    assert ran["tiny_losses"][-1] < 0.05 and ran["tiny_accuracy"] == 1.0


@pytest.mark.slow
def test_the_tuning_and_overfitting_claims_hold(ran):
    tuning = list(ran["tuning"].values())
    assert tuning[0] < 0.94 <= 0.95 <= tuning[-1]  # the defaults miss the bar, the choice clears it
    table = ran["runs_table"]  # name -> (train acc, val acc, test acc, distance travelled)
    history = ran["runs_history"]
    plain, random = table["no regularisation"], table["all labels random"]
    assert plain[0] == 1.0 and random[0] == 1.0 and random[1] <= 0.2
    val = np.array(history["no regularisation"]["val_loss"])
    assert val[-1] >= val.min() + 0.15
    finals = {name: history[name]["val_loss"][-1]
              for name in ("no regularisation", "L2, weight_decay=3e-3", "dropout 0.5")}
    assert min(finals, key=finals.get) == "dropout 0.5"
    stopped = "early stopping, patience 10"
    assert len(history[stopped]["val_loss"]) < 40
    first_four = [name for name in table if name != "all labels random"]
    assert max(first_four, key=lambda name: table[name][2]) == stopped
    assert table[stopped][3] < table["no regularisation"][3] / 2
    batch = ran["batch_runs"]
    assert batch[32]["train_loss"][-1] < batch[128]["train_loss"][-1] < batch[512]["train_loss"][-1]
