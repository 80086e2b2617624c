# variant: wrong
# what: the bias gradient is dout itself (one row per example), not summed over the batch;
#   the residual block and the MLP, built on affine_backward, inherit it
# assignment: 03_backprop
# zero: test_affine, test_residual_block, test_mlp_loss_and_grads
# message: axis=0, 批量
# %% id=affine
def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout
