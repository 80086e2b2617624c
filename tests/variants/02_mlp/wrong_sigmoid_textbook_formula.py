# variant: wrong
# what: the textbook sigmoid 1 / (1 + exp(-z)): right values, but np.exp overflows at
#   z = -1000; softplus' reuses that sigmoid and warns too
# assignment: 02_mlp
# zero: test_sigmoid_activation, test_softplus_activation
# message: numerical warning, 数值警告, overflow
# %% id=sigmoid_activation
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1 - s)
