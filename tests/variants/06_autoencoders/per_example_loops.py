# variant: correct
# what: the Gaussian KL one example at a time with math.exp, the contractive penalty from an
#   explicit Jacobian per example and a loop over the hidden units for its gradient
# assignment: 06_autoencoders
# ruff: noqa: F821
# %% id=gaussian_kl
def gaussian_kl(mu, logvar):
    import math

    N, Z = mu.shape
    kl = 0.0
    dmu = np.zeros((N, Z))
    dlogvar = np.zeros((N, Z))
    for n in range(N):
        for j in range(Z):
            var = math.exp(logvar[n, j])
            kl += -0.5 * (1 + logvar[n, j] - mu[n, j] ** 2 - var)
            dmu[n, j] = mu[n, j] / N
            dlogvar[n, j] = 0.5 * (var - 1) / N
    return kl / N, dmu, dlogvar
# %% id=contractive_penalty
def contractive_penalty(X, W1, b1, lam):
    N, D = X.shape
    H = W1.shape[1]
    penalty = 0.0
    dW1 = np.zeros_like(W1)
    db1 = np.zeros_like(b1)
    for n in range(N):
        h = sigmoid(X[n] @ W1 + b1)                 # (H,)
        a = h * (1 - h)
        J = a[:, None] * W1.T                       # (H, D): dh_j / dx_i
        penalty += np.sum(J * J)
        for j in range(H):
            w2 = np.dot(W1[:, j], W1[:, j])
            dW1[:, j] += 2 * a[j] ** 2 * W1[:, j]               # directly
            dz = 2 * a[j] * a[j] * (1 - 2 * h[j]) * w2          # through h_j
            dW1[:, j] += dz * X[n]
            db1[j] += dz
    return lam * penalty / N, lam * dW1 / N, lam * db1 / N
