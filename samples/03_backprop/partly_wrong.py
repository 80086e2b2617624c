# fails: test_gate_graph, test_sigmoid_layer, test_softmax_ce_loss, test_mlp_loss_and_grads, test_numerical_gradient
# A student who forgets that y is used twice in the small graph, saves memory in the
# sigmoid by reusing the cached output (out *= 1 - out), drops the 1/N from the softmax
# gradient (so the MLP, built on it, fails too) and uses one-sided differences.

# %% id=gate_graph
def graph_forward(x, y, z):
    """f = (x + y) * max(y, z), element-wise. x, y, z: arrays of one shape.

    Returns (f, cache): f has the shape of x; cache holds what graph_backward needs.
    """
    q = x + y
    m = np.maximum(y, z)
    return q * m, (x, y, z, q, m)


def graph_backward(dout, cache):
    """dout: upstream gradient, shape of f. Returns (dx, dy, dz), each of that shape."""
    x, y, z, q, m = cache
    dq, dm = mul_backward(dout, q, m)
    dx, dy = add_backward(dq, x, y)
    _, dz = max_backward(dm, y, z)
    return dx, dy, dz

# %% id=sigmoid_layer
def sigmoid_forward(x):
    """out = 1 / (1 + exp(-x)) element-wise. x: any shape. Returns out (shape of x), cache."""
    out = 1 / (1 + np.exp(-x))
    return out, out


def sigmoid_backward(dout, cache):
    """dout: shape of x. Returns dx, shape of x."""
    out = cache
    out *= 1 - out
    return dout * out

# %% id=softmax_ce_loss
def softmax_cross_entropy(x, y):
    """Mean softmax cross-entropy of scores x with integer labels y.

    x: (N, C) scores (logits); y: (N,) integers in [0, C).
    Returns loss (float) and dx (N, C), the gradient of loss with respect to x.
    """
    N = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(N), y]))
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx

# %% id=numerical_gradient
def numerical_gradient(f, x, h=1e-5):
    """Central-difference gradient of a scalar function f at x.

    f: function taking an array shaped like x and returning a float.
    x: float array of any shape (not modified). h: step size.
    Returns grad, shape of x: grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h).
    """
    grad = np.zeros_like(x)
    fx = f(x)
    for i in range(x.size):
        x_step = x.copy().reshape(-1)
        x_step[i] += h
        grad.reshape(-1)[i] = (f(x_step.reshape(x.shape)) - fx) / h
    return grad
