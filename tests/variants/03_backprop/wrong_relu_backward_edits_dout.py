# variant: wrong
# what: relu_backward zeroes dout in place and returns it: the caller's upstream gradient
#   is gone (the residual block, which still needs dout for its skip path, breaks too)
# assignment: 03_backprop
# zero: test_relu, test_residual_block
# message: changed its input `dout`, 原地修改了输入 `dout`
# %% id=relu
def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    dout[cache <= 0] = 0
    return dout
