# variant: wrong
# what: h(1-h) treated as a constant in the contractive gradient (only the direct path)
# assignment: 06_autoencoders
# zero: test_contractive_penalty
# message: treated as a constant, 当成了常数
# ruff: noqa: F821
# %% id=contractive_penalty
def contractive_penalty(X, W1, b1, lam):
    N = X.shape[0]
    h = sigmoid(X @ W1 + b1)
    a2 = (h * (1 - h)) ** 2
    penalty = lam / N * np.sum(a2 * np.sum(W1**2, axis=0))
    return penalty, 2 * lam / N * W1 * a2.sum(axis=0), np.zeros_like(b1)
