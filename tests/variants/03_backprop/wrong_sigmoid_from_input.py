# variant: wrong
# what: the sigmoid's derivative taken on its input: x * (1 - x) instead of out * (1 - out)
# assignment: 03_backprop
# zero: test_sigmoid_layer
# message: evaluated on its input, 用输入算了
# %% id=sigmoid_layer
def sigmoid_forward(x):
    return 1 / (1 + np.exp(-x)), x


def sigmoid_backward(dout, cache):
    x = cache
    return dout * x * (1 - x)
