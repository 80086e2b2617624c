# variant: wrong
# what: the bias added after the activation; the forward pass built on dense is wrong too
# assignment: 02_mlp
# zero: test_dense, test_mlp_forward
# message: does not match PyTorch, 与 PyTorch 的结果不一致
# %% id=dense
def activation_fn(name):
    table = {"identity": lambda Z: Z, "sigmoid": sigmoid, "tanh": tanh, "relu": relu,
             "leaky_relu": leaky_relu, "softplus": softplus, "softmax": softmax}
    return table[name]


def dense(X, W, b, activation="relu"):
    return activation_fn(activation)(X @ W) + b
