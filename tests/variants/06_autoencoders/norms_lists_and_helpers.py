# variant: correct
# what: the loss through row norms, helper functions inside the solution cell, the cache as a
#   tuple of dicts, gradients returned as a list, the KL sparsity through separate logs
#   and np.tile
# assignment: 06_autoencoders
# ruff: noqa: F821
# %% id=reconstruction_loss
def reconstruction_loss(X_hat, X):
    N = X.shape[0]
    row_errors = np.linalg.norm(X_hat - X, axis=1) ** 2
    return row_errors.mean(), (2.0 / N) * (X_hat - X)
# %% id=autoencoder
def _layer(x, W, b):
    out = sigmoid(x @ W + b)
    return out, {"x": x, "W": W, "out": out}


def _layer_back(dout, c):
    da = dout * c["out"] * (1 - c["out"])
    return da @ c["W"].T, c["x"].T @ da, da.sum(axis=0)


def ae_forward(X, W1, b1, W2, b2):
    h, c1 = _layer(X, W1, b1)
    X_hat, c2 = _layer(h, W2, b2)
    return X_hat, h, (c1, c2)


def ae_backward(dX_hat, dh, cache):
    c1, c2 = cache
    dh_from_decoder, dW2, db2 = _layer_back(dX_hat, c2)
    _, dW1, db1 = _layer_back(dh_from_decoder + dh, c1)
    return [dW1, db1, dW2, db2]
# %% id=kl_sparsity
def kl_sparsity(h, rho, beta):
    N = h.shape[0]
    q = h.mean(axis=0)
    kl = (rho * np.log(rho) - rho * np.log(q)
          + (1 - rho) * np.log(1 - rho) - (1 - rho) * np.log(1 - q))
    dq = beta * (-(rho / q) + (1 - rho) / (1 - q))
    return beta * np.sum(kl), np.tile(dq / N, (N, 1))
