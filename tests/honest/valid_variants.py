# honest: different but valid formulas, float32 inputs converted to float64, loops,
#   operation order changed: all full marks (the gradient policy accepts them).
# assignment: 03_backprop
# zero:
# flags:
# %% id=affine
def affine_forward(x, w, b):
    x = np.asarray(x, dtype=np.float64)
    out = np.einsum("nd,dm->nm", x, w) + b[None, :]
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):  # a loop over the batch
        dx[n] = w @ dout[n]
    dw = sum(np.outer(x[n], dout[n]) for n in range(x.shape[0]))
    db = dout.sum(axis=0)
    return dx, dw, db
# %% id=sigmoid_layer
def sigmoid_forward(x):
    out = 0.5 * (1.0 + np.tanh(0.5 * x))  # sigmoid through tanh
    return out, out


def sigmoid_backward(dout, cache):
    s = cache
    return dout * s - dout * s * s
# %% id=tanh_layer
def tanh_forward(x):
    e = np.exp(-2.0 * np.abs(x))
    out = np.sign(x) * (1.0 - e) / (1.0 + e)  # tanh written by hand, stably
    return out, out


def tanh_backward(dout, cache):
    return dout * (1.0 - cache) * (1.0 + cache)
