# variant: correct
# what: a stable sigmoid by boolean masks on a float copy (np.exp only on the half that is
#   safe), tanh' through cosh written stably, other XOR weights with a wide margin
# assignment: 02_mlp
# %% id=sigmoid_activation
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def sigmoid_grad(z):
    s = sigmoid(z)
    return s - s * s
# %% id=tanh_activation
def tanh(z):
    return np.tanh(z)


def tanh_grad(z):
    a = np.abs(z)
    e = np.exp(-2.0 * a)  # 1 / cosh(z)^2 = 4 e^{-2|z|} / (1 + e^{-2|z|})^2
    return 4.0 * e / (1.0 + e) ** 2
# %% id=xor_params
def xor_params():
    # h1 = relu(2s), h2 = relu(2s - 2) with s = x1 + x2; y_hat = h1 - 2 h2 - 0.5
    W1 = np.array([[2.0, 2.0], [2.0, 2.0]])
    b1 = np.array([0.0, -2.0])
    W2 = np.array([[1.0], [-2.0]])
    b2 = np.array([-0.5])
    return W1, b1, W2, b2
