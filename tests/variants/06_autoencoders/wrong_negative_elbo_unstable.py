# variant: wrong
# what: the BCE as -(x log p + (1-x) log(1-p)) with p = sigmoid(logits): right for moderate
#   logits, inf once they are large (the hidden test with logit_scale=40)
# assignment: 06_autoencoders
# zero: test_negative_elbo
# message: NaN or inf
# ruff: noqa: F821
# %% id=negative_elbo
def negative_elbo(X, logits, mu, logvar):
    N = X.shape[0]
    p = sigmoid(logits)
    recon = -np.sum(X * np.log(p) + (1 - X) * np.log(1 - p)) / N
    kl, dmu, dlogvar = gaussian_kl(mu, logvar)
    return recon + kl, (p - X) / N, dmu, dlogvar
