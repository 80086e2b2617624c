# hostile: computes the backward passes by central finite differences of the forward
#   (accepted by a 1e-6 tolerance, rejected by the grade of record's gradient policy).
# assignment: 03_backprop
# zero: test_affine, test_sigmoid_layer, test_residual_block, test_mlp_loss_and_grads
# flags: numerical_gradient:test_affine, numerical_gradient:test_sigmoid_layer
# %% before=affine
def _fd(f, x, dout, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = f(x).copy()
        x[i] = old - h
        minus = f(x).copy()
        x[i] = old
        grad[i] = np.sum((plus - minus) * dout) / (2 * h)
        it.iternext()
    return grad
# %% id=affine
def affine_forward(x, w, b):
    return x @ w + b, (x.copy(), w.copy(), b.copy())


def affine_backward(dout, cache):
    x, w, b = (a.copy() for a in cache)
    dx = _fd(lambda v: v @ w + b, x, dout)
    dw = _fd(lambda v: x @ v + b, w, dout)
    db = _fd(lambda v: x @ w + v, b, dout)
    return dx, dw, db
# %% id=sigmoid_layer
def sigmoid_forward(x):
    return 1 / (1 + np.exp(-x)), x.copy()


def sigmoid_backward(dout, cache):
    x = cache.copy()
    return _fd(lambda v: 1 / (1 + np.exp(-v)), x, dout)
