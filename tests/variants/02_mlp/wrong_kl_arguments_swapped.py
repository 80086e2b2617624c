# variant: wrong
# what: KL(p || q) computed for KL(q || p)
# assignment: 02_mlp
# zero: test_kl_divergence
# message: KL(p‖q), 不对称
# %% id=kl_divergence
def kl_divergence(q, p):
    safe = np.where(q > 0, q, 1.0)
    return np.sum(p * (np.log(p) - np.log(safe)), axis=1)
