# variant: correct
# what: ReLU caches a boolean mask instead of x; PReLU with boolean indexing and
#   np.minimum(x, 0) for the slope's gradient, its cache a dict
# assignment: 03_backprop
# %% id=relu
def relu_forward(x):
    mask = x > 0
    return x * mask, mask


def relu_backward(dout, cache):
    return np.where(cache, dout, 0.0)
# %% id=prelu_layer
def prelu_forward(x, alpha):
    out = x.copy()
    negative = x <= 0
    out[negative] = (alpha * x)[negative]
    return out, {"x": x, "alpha": alpha}


def prelu_backward(dout, cache):
    x, alpha = cache["x"], cache["alpha"]
    dx = dout.copy()
    slope = np.broadcast_to(alpha, x.shape)
    dx[x <= 0] = dout[x <= 0] * slope[x <= 0]
    dalpha = np.einsum("nd,nd->d", dout, np.minimum(x, 0))
    return dx, dalpha
