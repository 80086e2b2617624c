# variant: wrong
# what: the code's direct gradient dh is dropped in the autoencoder's backward pass
# assignment: 06_autoencoders
# zero: test_autoencoder
# message: `dh`, 直接到达编码的梯度
# ruff: noqa: F821
# %% id=autoencoder
def ae_forward(X, W1, b1, W2, b2):
    a1, c1 = affine_forward(X, W1, b1)
    h, s1 = sigmoid_forward(a1)
    a2, c2 = affine_forward(h, W2, b2)
    X_hat, s2 = sigmoid_forward(a2)
    return X_hat, h, (c1, s1, c2, s2)


def ae_backward(dX_hat, dh, cache):
    c1, s1, c2, s2 = cache
    dh_decoder, dW2, db2 = affine_backward(sigmoid_backward(dX_hat, s2), c2)
    _, dW1, db1 = affine_backward(sigmoid_backward(dh_decoder, s1), c1)
    return dW1, db1, dW2, db2
