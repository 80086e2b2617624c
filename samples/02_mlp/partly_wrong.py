# fails: test_sigmoid_activation, test_relu_activation, test_softplus_activation, test_softmax, test_kl_divergence
# A student who writes the textbook formulas as they stand: sigmoid and softmax overflow
# (softplus_grad reuses that sigmoid, so it warns too), the ReLU derivative is 1 at z = 0,
# and KL divergence has its arguments the wrong way round. Everything else is right.

# %% id=sigmoid_activation
def sigmoid(z):
    """The logistic sigmoid 1 / (1 + exp(-z)), elementwise."""
    return 1 / (1 + np.exp(-z))


def sigmoid_grad(z):
    """sigmoid'(z) = s * (1 - s)."""
    s = sigmoid(z)
    return s * (1 - s)

# %% id=relu_activation
def relu(z):
    """max(0, z), elementwise."""
    return np.maximum(z, 0)


def relu_grad(z):
    """1 where z >= 0, else 0."""
    return (z >= 0).astype(float)

# %% id=softmax
def softmax(Z):
    """Row-wise softmax."""
    e = np.exp(Z)
    return e / e.sum(axis=1, keepdims=True)

# %% id=kl_divergence
def kl_divergence(q, p):
    """KL divergence of each row."""
    return np.sum(p * np.log(p / q), axis=1)
