# variant: wrong
# what: the PReLU slope's gradient collects dout·x from every element, the mask (x < 0)
#   forgotten
# assignment: 03_backprop
# zero: test_prelu_layer
# message: negative elements only, 负元素
# %% id=prelu_layer
def prelu_forward(x, alpha):
    return np.where(x > 0, x, alpha * x), (x, alpha)


def prelu_backward(dout, cache):
    x, alpha = cache
    return np.where(x > 0, dout, alpha * dout), np.sum(dout * x, axis=0)
