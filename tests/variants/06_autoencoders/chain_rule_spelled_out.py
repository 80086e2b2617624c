# variant: correct
# what: every local derivative as its own array (the KL sparsity through an explicit
#   dρ̂/dh of 1/N, the BCE piecewise for positive and negative logits)
# assignment: 06_autoencoders
# ruff: noqa: F821
# %% id=kl_sparsity
def kl_sparsity(h, rho, beta):
    N, H = h.shape
    rho_hat = h.sum(axis=0) / N
    kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    dpenalty_dkl = beta
    dkl_drho_hat = -rho / rho_hat + (1 - rho) / (1 - rho_hat)
    drho_hat_dh = np.full((N, H), 1.0 / N)
    return beta * kl.sum(), dpenalty_dkl * dkl_drho_hat[None, :] * drho_hat_dh
# %% id=negative_elbo
def negative_elbo(X, logits, mu, logvar):
    N = X.shape[0]
    positive = logits >= 0
    safe = np.where(positive, -logits, logits)           # never positive: exp cannot overflow
    bce = np.where(positive, logits, 0.0) - logits * X + np.log1p(np.exp(safe))
    sig = np.where(positive, 1.0 / (1.0 + np.exp(safe)), np.exp(safe) / (1.0 + np.exp(safe)))
    kl, dmu, dlogvar = gaussian_kl(mu, logvar)
    return bce.sum() / N + kl, (sig - X) / N, dmu, dlogvar
