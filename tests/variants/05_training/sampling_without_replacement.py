# variant: correct
# what: the permutation drawn with rng.choice(n, n, replace=False) and split with a while loop;
#   dropout's mask from rng.uniform kept as a boolean array with p in the cache
# assignment: 05_training
# ruff: noqa: F821, E402
# %% id=data_iter
def data_iter(batch_size, X, y, rng):
    n = len(y)
    order = rng.choice(n, size=n, replace=False)
    start = 0
    while start < n:
        rows = order[start:start + batch_size]
        yield X[rows], y[rows]
        start += batch_size
# %% id=dropout
def dropout_forward(x, p, train, rng):
    if not train:
        return np.array(x, copy=True), ("eval", None, p)
    keep = rng.uniform(0.0, 1.0, size=x.shape) >= p
    return np.where(keep, x, 0.0) / (1.0 - p), ("train", keep, p)


def dropout_backward(dout, cache):
    mode, keep, p = cache
    if mode == "eval":
        return dout.copy()
    return np.where(keep, dout, 0.0) / (1.0 - p)
