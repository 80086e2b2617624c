# fails: test_data_iter, test_adam, test_dropout, test_early_stopping, test_mlp_loss_dropout, test_train_mlp
# A student who shuffles once with a fixed seed (the same batches every epoch), leaves out
# Adam's bias correction, forgets to rescale the kept activations in dropout, and saves the
# parameters of every epoch instead of the best one. Two bugs travel: the MLP's loss uses
# the unscaled dropout, and the training loop hands back the last epoch's weights instead
# of the best. The capstone still reaches its bar: every one of these bugs hurts a little,
# none of them stops learning, which is exactly why the unit checks matter.

# %% id=data_iter
def data_iter(batch_size, X, y, rng):
    """Yield the mini-batches of one epoch."""
    indices = np.random.default_rng(0).permutation(len(X))
    for start in range(0, len(X), batch_size):
        batch = indices[start:start + batch_size]
        yield X[batch], y[batch]

# %% id=adam
def adam(w, dw, config):
    """One step of Adam."""
    beta1, beta2 = config.get("beta1", 0.9), config.get("beta2", 0.999)
    g = dw + config.get("weight_decay", 0.0) * w
    m = beta1 * config.get("m", np.zeros_like(w)) + (1 - beta1) * g
    v = beta2 * config.get("v", np.zeros_like(w)) + (1 - beta2) * g * g
    next_w = w - config["lr"] * m / (np.sqrt(v) + config.get("eps", 1e-8))
    return next_w, {**config, "m": m, "v": v}

# %% id=dropout
def dropout_forward(x, p, train, rng):
    """Dropout."""
    if not train:
        return x.copy(), np.ones_like(x)
    mask = rng.random(x.shape) >= p
    return x * mask, mask


def dropout_backward(dout, cache):
    return dout * cache

# %% id=early_stopping
def early_stopping_step(val_loss, params, state, patience):
    """Early stopping."""
    state = dict(state)
    state["epoch"] = state.get("epoch", -1) + 1
    if val_loss < state.get("best_loss", np.inf):
        state["best_loss"], state["best_epoch"] = val_loss, state["epoch"]
        state["bad_epochs"] = 0
    else:
        state["bad_epochs"] = state.get("bad_epochs", 0) + 1
    state["best_params"] = {k: v.copy() for k, v in params.items()}
    return state["bad_epochs"] >= patience, state
