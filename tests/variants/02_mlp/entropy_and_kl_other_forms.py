# variant: correct
# what: entropy with np.where over a log that warns at 0 (silenced by np.errstate), KL as
#   cross-entropy minus entropy, with masked arrays
# assignment: 02_mlp
# %% id=entropy
def entropy(q):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(q > 0, q * np.log(q), 0.0)
    return -terms.sum(axis=1)
# %% id=kl_divergence
def kl_divergence(q, p):
    cross = -np.sum(np.ma.masked_equal(q, 0) * np.log(p), axis=1).filled(0.0)
    return np.asarray(cross - entropy(q))
