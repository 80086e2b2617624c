# variant: wrong
# what: ReLU keeps its output and builds the mask with >= 0, so every gradient passes; the
#   residual block and the MLP lose their ReLU mask too
# assignment: 03_backprop
# zero: test_relu, test_residual_block, test_mlp_loss_and_grads
# message: mask, 掩码
# %% id=relu
def relu_forward(x):
    out = np.maximum(x, 0)
    return out, out


def relu_backward(dout, cache):
    return dout * (cache >= 0)
