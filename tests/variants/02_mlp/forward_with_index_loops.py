# variant: correct
# what: the forward pass with an index loop and a test for the last layer, dense with
#   np.dot and a bias broadcast by reshape, an `if` ladder instead of a table of activations
# assignment: 02_mlp
# %% id=dense
def activation_fn(name):
    if name == "identity":
        return lambda Z: Z
    if name == "sigmoid":
        return sigmoid
    if name == "tanh":
        return tanh
    if name == "relu":
        return relu
    if name == "leaky_relu":
        return leaky_relu
    if name == "softplus":
        return softplus
    if name == "softmax":
        return softmax
    raise ValueError(name)


def dense(X, W, b, activation="relu"):
    Z = np.dot(X, W) + b.reshape(1, -1)
    return activation_fn(activation)(Z)
# %% id=mlp_forward
def mlp_forward(X, params, hidden_activation="relu", output_activation="identity"):
    out = X
    for i in range(len(params)):
        W, b = params[i]
        if i == len(params) - 1:
            out = dense(out, W, b, output_activation)
        else:
            out = dense(out, W, b, hidden_activation)
    return out
