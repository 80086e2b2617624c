# variant: wrong
# what: the L1 penalty's derivative taken as 1 everywhere
# assignment: 06_autoencoders
# zero: test_l1_penalty
# message: as if |h| were h, 0 的哪一侧
# ruff: noqa: F821
# %% id=l1_penalty
def l1_penalty(h, lam):
    N = h.shape[0]
    return lam * np.abs(h).sum() / N, np.ones_like(h) * lam / N
