# variant: wrong
# what: the permutation is drawn once, from a generator of its own, and reused every epoch
# assignment: 05_training
# zero: test_data_iter
# message: same order, 顺序完全相同
# ruff: noqa: F821, E402
# %% id=data_iter
ORDER = {}


def data_iter(batch_size, X, y, rng):
    if len(X) not in ORDER:
        ORDER[len(X)] = np.random.default_rng(42).permutation(len(X))
    indices = ORDER[len(X)]
    for start in range(0, len(X), batch_size):
        batch = indices[start:start + batch_size]
        yield X[batch], y[batch]
