# variant: correct
# what: debugging prints left in, defensive copies of every input, the L1 penalty through
#   np.abs with np.sign computed once and the loss as a Python float
# assignment: 06_autoencoders
# ruff: noqa: F821
# %% id=l1_penalty
def l1_penalty(h, lam):
    h = h.copy()
    print("l1_penalty: h", h.shape)
    s = np.sign(h)
    N = h.shape[0]
    return float(lam * np.sum(s * h) / N), lam / N * s
# %% id=gaussian_kl
def gaussian_kl(mu, logvar):
    mu, logvar = np.array(mu), np.array(logvar)
    print("gaussian_kl on", mu.shape)
    N = mu.shape[0]
    kl = float(np.sum(-0.5 * (1 + logvar - mu * mu - np.exp(logvar))) / N)
    return kl, mu / N, 0.5 * np.expm1(logvar) / N
