# variant: correct
# what: loops over the batch and the units, np.dot and einsum instead of @, sigmoid via tanh,
#   the KL's gradient spread with np.broadcast_to, the L1 slope with np.where
# assignment: 06_autoencoders
# ruff: noqa: F821
# %% id=reconstruction_loss
def reconstruction_loss(X_hat, X):
    N, D = X.shape
    loss = 0.0
    dX_hat = np.empty_like(X_hat)
    for n in range(N):
        for d in range(D):
            diff = X_hat[n, d] - X[n, d]
            loss += diff * diff
            dX_hat[n, d] = 2.0 * diff / N
    return loss / N, dX_hat
# %% id=autoencoder
def ae_forward(X, W1, b1, W2, b2):
    h = 0.5 * (1.0 + np.tanh(0.5 * (np.dot(X, W1) + b1)))
    X_hat = 0.5 * (1.0 + np.tanh(0.5 * (np.einsum("nh,hd->nd", h, W2) + b2)))
    return X_hat, h, {"X": X, "h": h, "X_hat": X_hat, "W2": W2}


def ae_backward(dX_hat, dh, cache):
    X, h, X_hat, W2 = cache["X"], cache["h"], cache["X_hat"], cache["W2"]
    da2 = dX_hat * X_hat * (1.0 - X_hat)
    dW2 = np.einsum("nh,nd->hd", h, da2)
    db2 = da2.sum(axis=0)
    dh_total = np.dot(da2, W2.T) + dh
    da1 = dh_total * h * (1.0 - h)
    dW1 = np.dot(X.T, da1)
    db1 = np.sum(da1, axis=0)
    return dW1, db1, dW2, db2
# %% id=l1_penalty
def l1_penalty(h, lam):
    N = len(h)
    return lam * np.abs(h).sum() / N, np.where(h > 0, lam / N, -lam / N)
# %% id=kl_sparsity
def kl_sparsity(h, rho, beta):
    N, H = h.shape
    rho_hat = np.zeros(H)
    for j in range(H):
        rho_hat[j] = sum(h[n, j] for n in range(N)) / N
    penalty = 0.0
    for j in range(H):
        penalty += rho * np.log(rho / rho_hat[j]) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat[j]))
    slope = beta * ((1 - rho) / (1 - rho_hat) - rho / rho_hat)
    return beta * penalty, np.broadcast_to(slope / N, h.shape)
