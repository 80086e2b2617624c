# variant: correct
# what: debug prints in every function (stdout and stderr), lists instead of tuples for the
#   pairs returned, copies of the inputs taken first, the iterator yielding lists
# assignment: 05_training
# ruff: noqa: F821, E402
# %% id=data_iter
import sys


def data_iter(batch_size, X, y, rng):
    X, y = np.copy(X), np.copy(y)
    print("data_iter: shuffling", len(X), "examples", file=sys.stderr)
    indices = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        rows = indices[start:start + batch_size]
        yield [X[rows], y[rows]]
# %% id=sgd
def sgd(w, dw, config):
    print("sgd step with lr", config["lr"])
    w = w.copy()
    w = w - config["lr"] * (dw + config.get("weight_decay", 0.0) * w)
    return [w, config]
# %% id=dropout
def dropout_forward(x, p, train, rng):
    print("dropout", "train" if train else "eval", x.shape)
    if train:
        keep = rng.random(x.shape) < 1 - p
        return [np.where(keep, x / (1 - p), 0.0), keep / (1 - p)]
    return [x.copy(), np.ones_like(x)]


def dropout_backward(dout, cache):
    print("dropout backward", dout.shape, file=sys.stderr)
    return dout * cache
