# variant: correct
# what: other valid formulas: sigmoid through tanh, sigmoid' written with exp(-|z|), tanh as
#   2 sigmoid(2z) - 1 and its derivative through sigmoid, ReLU as z * (z > 0) and its
#   derivative with np.heaviside, leaky ReLU as a maximum, softplus with np.logaddexp,
#   masked assignment instead of np.where
# assignment: 02_mlp
# %% id=sigmoid_activation
def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def sigmoid_grad(z):
    e = np.exp(-np.abs(z))
    return e / (1.0 + e) ** 2
# %% id=tanh_activation
def tanh(z):
    return 2.0 * sigmoid(2.0 * z) - 1.0


def tanh_grad(z):
    s = sigmoid(2.0 * z)
    return 4.0 * s * (1.0 - s)
# %% id=relu_activation
def relu(z):
    return z * (z > 0)


def relu_grad(z):
    return np.heaviside(z, 0.0)
# %% id=leaky_relu_activation
def leaky_relu(z, alpha=0.01):
    return np.maximum(z, alpha * z)  # alpha < 1


def leaky_relu_grad(z, alpha=0.01):
    out = np.full(np.shape(z), float(alpha))
    out[z > 0] = 1.0
    return out
# %% id=softplus_activation
def softplus(z):
    return np.logaddexp(0.0, z)


def softplus_grad(z):
    out = np.empty(np.shape(z))
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    e = np.exp(z[~positive])
    out[~positive] = e / (1.0 + e)
    return out
