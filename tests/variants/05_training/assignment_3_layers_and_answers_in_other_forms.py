# variant: correct
# what: the pasted Assignment 3 layers written differently (einsum, np.where, logsumexp via
#   np.logaddexp.reduce, np.nditer for the numerical gradient, a loop for the relative
#   error); the questions answered as expressions, strings and floats
# assignment: 05_training
# ruff: noqa: F821, E402
# %% id=layers_from_03
def affine_forward(x, w, b):
    return np.einsum("nd,dm->nm", x, w) + b, (x.copy(), w.copy())


def affine_backward(dout, cache):
    x, w = cache
    return np.einsum("nm,dm->nd", dout, w), np.einsum("nd,nm->dm", x, dout), np.sum(dout, axis=0)


def relu_forward(x):
    return np.where(x > 0, x, 0.0), x > 0


def relu_backward(dout, cache):
    return np.where(cache, dout, 0.0)


def softmax_cross_entropy(scores, y):
    n = scores.shape[0]
    log_z = np.logaddexp.reduce(scores, axis=1)
    log_p = scores - log_z[:, None]
    probs = np.exp(log_p)
    one_hot = np.zeros_like(scores)
    one_hot[np.arange(n), y] = 1.0
    return float(-np.sum(log_p * one_hot) / n), (probs - one_hot) / n


def numerical_gradient(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64, copy=True)
    grad = np.empty_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        keep = x[i]
        x[i] = keep + h
        up = f(x)
        x[i] = keep - h
        down = f(x)
        x[i] = keep
        grad[i] = (up - down) / (2 * h)
    return grad


def relative_error(a, b):
    worst = 0.0
    for u, v in zip(np.ravel(a), np.ravel(b)):
        worst = max(worst, abs(u - v) / max(1e-8, abs(u) + abs(v)))
    return float(worst)
# %% id=answer_q5_1
answer_q5_1 = 2 / 25
# %% id=answer_q5_2
answer_q5_2 = "1"
# %% id=answer_q5_3
answer_q5_3 = 0.16 / np.sqrt(2)
# %% id=answer_q5_4
answer_q5_4 = 5.0
