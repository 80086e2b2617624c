# variant: correct
# what: the BCE through log-sigmoids written with logaddexp, the reparameterisation's
#   gradient from the cached z and mu (dlogvar = dz * (z - mu) / 2), dmu returned as dz
#   itself
# assignment: 06_autoencoders
# ruff: noqa: F821
# %% id=reparameterize
def reparameterize_forward(mu, logvar, eps):
    z = mu + np.exp(0.5 * logvar) * eps
    return z, {"z": z, "mu": mu}


def reparameterize_backward(dz, cache):
    return dz, dz * (cache["z"] - cache["mu"]) / 2
# %% id=negative_elbo
def negative_elbo(X, logits, mu, logvar):
    N = X.shape[0]
    log_p = -np.logaddexp(0.0, -logits)        # log sigmoid(l)
    log_not_p = -np.logaddexp(0.0, logits)     # log (1 - sigmoid(l))
    recon = -np.sum(X * log_p + (1 - X) * log_not_p) / N
    kl, dmu, dlogvar = gaussian_kl(mu, logvar)
    dlogits = (np.exp(log_p) - X) / N
    return recon + kl, dlogits, dmu, dlogvar
