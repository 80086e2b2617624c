# variant: wrong
# what: KL(rho_hat || rho) instead of KL(rho || rho_hat), value and gradient consistent
# assignment: 06_autoencoders
# zero: test_kl_sparsity
# message: swapped, 写反了
# ruff: noqa: F821
# %% id=kl_sparsity
def kl_sparsity(h, rho, beta):
    N = h.shape[0]
    q = h.mean(axis=0)
    kl = q * np.log(q / rho) + (1 - q) * np.log((1 - q) / (1 - rho))
    dq = np.log(q / rho) - np.log((1 - q) / (1 - rho))
    return beta * kl.sum(), np.tile(beta * dq / N, (N, 1))
