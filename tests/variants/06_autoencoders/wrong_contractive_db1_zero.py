# variant: wrong
# what: the contractive penalty's dW1 has both paths, but b1 is taken to have no effect
# assignment: 06_autoencoders
# zero: test_contractive_penalty
# message: db1 is zero, db1 为零
# ruff: noqa: F821
# %% id=contractive_penalty
def contractive_penalty(X, W1, b1, lam):
    N = X.shape[0]
    h = sigmoid(X @ W1 + b1)
    a = h * (1 - h)
    s = np.sum(W1**2, axis=0)
    dz = 2 * lam / N * a**2 * (1 - 2 * h) * s
    dW1 = 2 * lam / N * W1 * np.sum(a**2, axis=0) + X.T @ dz
    return lam * np.sum(a**2 * s) / N, dW1, np.zeros_like(b1)
