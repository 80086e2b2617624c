# variant: wrong
# what: tanh'(x) written as 1 - tanh(x), the square forgotten
# assignment: 03_backprop
# zero: test_tanh_layer
# message: with the square, 平方
# %% id=tanh_layer
def tanh_forward(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache)
