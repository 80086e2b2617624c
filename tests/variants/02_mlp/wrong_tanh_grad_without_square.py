# variant: wrong
# what: tanh'(z) written as 1 - tanh(z), the square forgotten
# assignment: 02_mlp
# zero: test_tanh_activation
# message: square, 平方
# %% id=tanh_activation
def tanh(z):
    return np.tanh(z)


def tanh_grad(z):
    return 1 - np.tanh(z)
