"""Assignment 05: reference passes, stubs are "not done", the bug zoo loses its points."""

import numpy as np
import pytest

from grader import check
from grader.checks.exercises.training import InitExercise
from grader.checks.references.training import early_stopping as early_stopping_reference
from tests.support import fails, solution, stubs

A = "05_training"


@pytest.fixture(scope="module")
def ref():
    return solution(A)


@pytest.fixture(scope="module")
def stub():
    return stubs(A)


# One runner per exercise, as the hidden tests call it (kept small: these run in seconds).
RUNNERS = {
    "data_iter": lambda ns: check("data_iter", ns["data_iter"], seeds=[1],
                                  shapes=[(1, 2), (10, 3), (12, 2, 3)], batch_sizes=[1, 4, 100]),
    "sgd": lambda ns: check("sgd", ns["sgd"], seeds=[1], shapes=[(1,), (5, 2)], steps=15,
                            lr=0.05, weight_decay=0.1),
    "sgd_momentum": lambda ns: check("sgd_momentum", ns["sgd_momentum"], seeds=[1],
                                     shapes=[(1,), (6, 2)], steps=20, lr=0.05, momentum=0.5,
                                     weight_decay=0.01),
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
