# variant: wrong
# what: ReLU keeps its input in a global variable instead of the cache; the backward pass
#   reads whatever the last forward call left there (the residual block breaks too)
# assignment: 03_backprop
# zero: test_relu, test_residual_block
# message: `dx`
# %% id=relu
_last_input = {}


def relu_forward(x):
    _last_input["x"] = x
    return np.maximum(x, 0), None


def relu_backward(dout, cache):
    return dout * (_last_input["x"] > 0)
