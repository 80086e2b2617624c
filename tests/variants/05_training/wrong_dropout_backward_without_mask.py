# variant: wrong
# what: dropout's backward pass returns dout unchanged (the mask is forgotten); the MLP's
#   loss, built on it, loses its gradients with dropout on
# assignment: 05_training
# zero: test_dropout, test_mlp_loss_dropout
# message: PyTorch autograd, dropout
# ruff: noqa: F821, E402
# %% id=dropout
def dropout_forward(x, p, train, rng):
    if not train:
        return x.copy(), None
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask


def dropout_backward(dout, cache):
    return dout.copy()
