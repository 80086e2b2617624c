# variant: wrong
# what: the KL sparsity penalty per example and unit (each h_nj against rho), averaged
# assignment: 06_autoencoders
# zero: test_kl_sparsity
# message: mean activation of unit j, 平均激活
# ruff: noqa: F821
# %% id=kl_sparsity
def kl_sparsity(h, rho, beta):
    N = h.shape[0]
    kl = rho * np.log(rho / h) + (1 - rho) * np.log((1 - rho) / (1 - h))
    return beta * kl.sum() / N, beta * (-rho / h + (1 - rho) / (1 - h)) / N
