# variant: correct
# what: the autoencoder written with the given layers but the decoder's gradient added to dh
#   first (dh + dh_decoder), a namedtuple cache, the reconstruction loss with np.square and
#   np.mean over the pixel sums
# assignment: 06_autoencoders
# ruff: noqa: F821, E402
# %% id=reconstruction_loss
def reconstruction_loss(X_hat, X):
    per_image = np.square(X_hat - X).sum(axis=1)
    return np.mean(per_image), 2 * (X_hat - X) / len(X)
# %% id=autoencoder
from collections import namedtuple

AECache = namedtuple("AECache", "a1 s1 a2 s2")


def ae_forward(X, W1, b1, W2, b2):
    z1, a1 = affine_forward(X, W1, b1)
    h, s1 = sigmoid_forward(z1)
    z2, a2 = affine_forward(h, W2, b2)
    X_hat, s2 = sigmoid_forward(z2)
    return X_hat, h, AECache(a1, s1, a2, s2)


def ae_backward(dX_hat, dh, cache):
    dz2 = sigmoid_backward(dX_hat, cache.s2)
    dh_decoder, dW2, db2 = affine_backward(dz2, cache.a2)
    dz1 = sigmoid_backward(dh + dh_decoder, cache.s1)
    dX, dW1, db1 = affine_backward(dz1, cache.a1)
    return dW1, db1, dW2, db2
