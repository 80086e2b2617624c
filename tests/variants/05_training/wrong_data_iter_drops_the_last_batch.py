# variant: wrong
# what: the last, smaller batch is left out (range stops before N - batch_size + 1)
# assignment: 05_training
# zero: test_data_iter
# message: last, smaller batch, 最后那个较小的批
# ruff: noqa: F821, E402
# %% id=data_iter
def data_iter(batch_size, X, y, rng):
    indices = rng.permutation(len(X))
    for start in range(0, len(X) - batch_size + 1, batch_size):
        batch = indices[start:start + batch_size]
        yield X[batch], y[batch]
