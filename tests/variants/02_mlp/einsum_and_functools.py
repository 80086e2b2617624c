# variant: correct
# what: collapse with np.einsum and np.dot, dense with np.einsum, the forward pass with
#   functools.reduce over the hidden layers, XOR weights given as nested lists, W2 as a
#   vector (|x1 - x2| as relu(x1 - x2) + relu(x2 - x1))
# assignment: 02_mlp
# %% id=collapse_affine
def collapse_affine(W1, b1, W2, b2):
    W = np.einsum("ih,ho->io", W1, W2)
    b = np.dot(b1, W2) + b2
    return W, b
# %% id=dense
def activation_fn(name):
    table = {"identity": lambda Z: Z, "sigmoid": sigmoid, "tanh": tanh, "relu": relu,
             "leaky_relu": leaky_relu, "softplus": softplus, "softmax": softmax}
    return table[name]


def dense(X, W, b, activation="relu"):
    return activation_fn(activation)(np.einsum("nd,dm->nm", X, W) + b[None, :])
# %% id=mlp_forward
import functools


def mlp_forward(X, params, hidden_activation="relu", output_activation="identity"):
    H = functools.reduce(lambda H, layer: dense(H, layer[0], layer[1], hidden_activation),
                         params[:-1], X)
    return dense(H, *params[-1], activation=output_activation)
# %% id=xor_params
def xor_params():
    W1 = [[1.0, -1.0], [-1.0, 1.0]]
    b1 = [0.0, 0.0]
    W2 = [1.0, 1.0]
    b2 = [0.0]
    return W1, b1, W2, b2
