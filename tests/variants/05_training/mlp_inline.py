# variant: correct
# what: mlp_loss written out with NumPy (the gradients by hand, log-softmax through
#   logsumexp) and only the dropout layers called; predict through np.argmax of a
#   stacked forward pass
# assignment: 05_training
# ruff: noqa: F821, E402
# %% id=mlp_loss_dropout
def init_mlp(num_inputs, num_hiddens, num_outputs, rng):
    return {"W1": he_init(num_inputs, num_hiddens, rng), "b1": np.zeros(num_hiddens),
            "W2": glorot_init(num_hiddens, num_outputs, rng), "b2": np.zeros(num_outputs)}


def predict(params, X):
    hidden = np.maximum(X @ params["W1"] + params["b1"], 0.0)
    return np.argmax(hidden @ params["W2"] + params["b2"], axis=1)


def mlp_loss(params, X, y, dropout=0.0, train=False, rng=None):
    n = X.shape[0]
    z = X @ params["W1"] + params["b1"]
    a = np.where(z > 0, z, 0.0)
    d, drop_cache = dropout_forward(a, dropout, train, rng)
    s = d @ params["W2"] + params["b2"]
    top = s.max(axis=1, keepdims=True)
    log_z = top + np.log(np.sum(np.exp(s - top), axis=1, keepdims=True))
    log_p = s - log_z
    loss = -np.sum(log_p[np.arange(n), y]) / n
    ds = np.exp(log_p)
    ds[np.arange(n), y] = ds[np.arange(n), y] - 1.0
    ds = ds / n
    dd = ds @ params["W2"].T
    da = dropout_backward(dd, drop_cache)
    dz = da * (z > 0)
    return float(loss), {"W1": X.T @ dz, "b1": dz.sum(axis=0), "W2": d.T @ ds,
                         "b2": ds.sum(axis=0)}
