# variant: correct
# what: the contractive gradient through the pre-activation with h - 3h² + 2h³, the
#   reparameterisation caching (mu, logvar, eps) and recomputing sigma as sqrt(exp(logvar)),
#   the KL through var and separate sums, the BCE with np.logaddexp and a stable sigmoid
#   written out, explicit float64 dtypes
# assignment: 06_autoencoders
# ruff: noqa: F821
# %% id=contractive_penalty
def contractive_penalty(X, W1, b1, lam):
    N = X.shape[0]
    z = X @ W1 + b1
    h = sigmoid(z)
    slope = h - h**2                       # h(1 - h)
    col = np.einsum("ij,ij->j", W1, W1)    # sum_i W1[i, j]^2
    penalty = lam / N * np.einsum("nj,nj,j->", slope, slope, col)
    dslope_dz = h - 3 * h**2 + 2 * h**3    # d/dz of h(1 - h)
    dz = (2 * lam / N) * slope * dslope_dz * col[None, :]
    dW1 = X.T @ dz + (2 * lam / N) * W1 * (slope**2).sum(axis=0)[None, :]
    db1 = dz.sum(axis=0)
    return penalty, dW1, db1
# %% id=reparameterize
def reparameterize_forward(mu, logvar, eps):
    z = mu + np.sqrt(np.exp(logvar)) * eps
    return z, (mu, logvar, eps)


def reparameterize_backward(dz, cache):
    mu, logvar, eps = cache
    sigma = np.sqrt(np.exp(logvar))
    dmu = np.array(dz, dtype=np.float64, copy=True)
    dlogvar = 0.5 * sigma * eps * dz
    return dmu, dlogvar
# %% id=gaussian_kl
def gaussian_kl(mu, logvar):
    N = mu.shape[0]
    var = np.exp(logvar)
    kl = 0.5 * (np.sum(mu**2) + np.sum(var) - np.sum(logvar) - mu.size) / N
    return kl, mu / N, (var - 1.0) / (2.0 * N)
# %% id=negative_elbo
def negative_elbo(X, logits, mu, logvar):
    N = X.shape[0]
    recon = np.sum(np.logaddexp(0.0, logits) - logits * X) / N
    e = np.exp(-np.abs(logits))
    probs = np.where(logits >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    kl, dmu, dlogvar = gaussian_kl(mu, logvar)
    return recon + kl, (probs - X) / N, dmu, dlogvar
