# fails: test_kl_sparsity, test_contractive_penalty, test_reparameterize, test_vae_loss_and_grads
# A student who swaps the target and the mean in the KL sparsity penalty, treats h(1-h) as a
# constant in the contractive gradient, and forgets the 1/2 of sigma = exp(logvar / 2) in the
# reparameterisation (which the VAE's full backward pass inherits).

# %% id=kl_sparsity
def kl_sparsity(h, rho, beta):
    """beta * sum_j KL(rho || rho_hat_j), rho_hat_j the mean of h[:, j] over the batch."""
    N = h.shape[0]
    rho_hat = h.mean(axis=0)
    kl = rho_hat * np.log(rho_hat / rho) + (1 - rho_hat) * np.log((1 - rho_hat) / (1 - rho))
    dkl = np.log(rho_hat / rho) - np.log((1 - rho_hat) / (1 - rho))
    return beta * kl.sum(), np.tile(beta * dkl / N, (N, 1))

# %% id=contractive_penalty
def contractive_penalty(X, W1, b1, lam):
    """lam / N * sum_n ||dh_n/dx_n||_F^2 for the encoder h = sigmoid(X @ W1 + b1)."""
    N = X.shape[0]
    h = sigmoid(X @ W1 + b1)
    a2 = (h * (1 - h)) ** 2
    penalty = lam / N * np.sum(a2 * np.sum(W1**2, axis=0))
    dW1 = 2 * lam / N * W1 * a2.sum(axis=0)
    db1 = np.zeros_like(b1)
    return penalty, dW1, db1

# %% id=reparameterize
def reparameterize_forward(mu, logvar, eps):
    std = np.exp(0.5 * logvar)
    return mu + std * eps, (std, eps)


def reparameterize_backward(dz, cache):
    std, eps = cache
    return dz, dz * eps * std
