# variant: correct
# what: the iterator returns a list built with np.array_split of one permutation; SGD as
#   w - lr*dw - lr*wd*w; the schedules with math.pow and a division written out
# assignment: 05_training
# ruff: noqa: F821, E402
# %% id=data_iter
def data_iter(batch_size, X, y, rng):
    order = rng.permutation(X.shape[0])
    pieces = np.array_split(order, range(batch_size, len(order), batch_size))
    return [(X[piece], y[piece]) for piece in pieces if len(piece)]
# %% id=sgd
def sgd(w, dw, config):
    lr = config["lr"]
    wd = config["weight_decay"] if "weight_decay" in config else 0
    return w - lr * dw - lr * wd * w, dict(config)
# %% id=lr_decay
import math


def exponential_decay(lr, gamma, epoch):
    return lr * math.pow(gamma, epoch)


def inverse_time_decay(lr, decay, epoch):
    return lr * (1.0 / (1.0 + decay * epoch))
