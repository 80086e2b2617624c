# variant: correct
# what: element by element with math and np.vectorize, softmax and log-softmax row by row in
#   Python loops, entropy and KL as loops over the entries that are not zero
# assignment: 02_mlp
# %% id=sigmoid_activation
import math


def _sigmoid_scalar(v):
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


def sigmoid(z):
    return np.vectorize(_sigmoid_scalar, otypes=[float])(z)


def sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1.0 - s)
# %% id=tanh_activation
def tanh(z):
    return np.vectorize(math.tanh, otypes=[float])(z)


def tanh_grad(z):
    t = tanh(z)
    return 1.0 - t * t
# %% id=relu_activation
def relu(z):
    return np.vectorize(lambda v: v if v > 0 else 0.0, otypes=[float])(z)


def relu_grad(z):
    return np.vectorize(lambda v: 1.0 if v > 0 else 0.0, otypes=[float])(z)
# %% id=leaky_relu_activation
def leaky_relu(z, alpha=0.01):
    return np.vectorize(lambda v: v if v > 0 else alpha * v, otypes=[float])(z)


def leaky_relu_grad(z, alpha=0.01):
    return np.vectorize(lambda v: 1.0 if v > 0 else alpha, otypes=[float])(z)
# %% id=softplus_activation
def softplus(z):
    def one(v):
        return max(v, 0.0) + math.log1p(math.exp(-abs(v)))

    return np.vectorize(one, otypes=[float])(z)


def softplus_grad(z):
    return sigmoid(z)
# %% id=softmax
def softmax(Z):
    out = np.zeros(Z.shape)
    for i in range(Z.shape[0]):
        top = max(Z[i])
        row = [math.exp(v - top) for v in Z[i]]
        total = sum(row)
        for j in range(Z.shape[1]):
            out[i, j] = row[j] / total
    return out
# %% id=log_softmax
def log_softmax(Z):
    out = np.zeros(Z.shape)
    for i in range(Z.shape[0]):
        top = max(Z[i])
        log_total = math.log(sum(math.exp(v - top) for v in Z[i]))
        for j in range(Z.shape[1]):
            out[i, j] = Z[i, j] - top - log_total
    return out
# %% id=entropy
def entropy(q):
    H = np.zeros(q.shape[0])
    for i in range(q.shape[0]):
        for value in q[i]:
            if value > 0:
                H[i] -= value * math.log(value)
    return H
# %% id=kl_divergence
def kl_divergence(q, p):
    KL = np.zeros(q.shape[0])
    for i in range(q.shape[0]):
        for a, b in zip(q[i], p[i]):
            if a > 0:
                KL[i] += a * (math.log(a) - math.log(b))
    return KL
