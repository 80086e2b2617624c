# variant: wrong
# what: the affine layer computed in float32 to save memory: right to 7 digits, so its
#   gradients fail the one rule for gradients, and so do the layers built on it
# assignment: 03_backprop
# zero: test_affine, test_residual_block, test_mlp_loss_and_grads
# message: float32, float64
# %% id=affine
def affine_forward(x, w, b):
    x32, w32 = x.astype(np.float32), w.astype(np.float32)
    return x32 @ w32 + b.astype(np.float32), (x32, w32)


def affine_backward(dout, cache):
    x32, w32 = cache
    d32 = dout.astype(np.float32)
    return d32 @ w32.T, x32.T @ d32, d32.sum(axis=0)
