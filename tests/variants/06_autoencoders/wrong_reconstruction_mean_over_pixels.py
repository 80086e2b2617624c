# variant: wrong
# what: the reconstruction loss as np.mean over every element (the MSE of a framework)
# assignment: 06_autoencoders
# zero: test_reconstruction_loss
# message: averaged over the pixels, 像素维度
# ruff: noqa: F821
# %% id=reconstruction_loss
def reconstruction_loss(X_hat, X):
    diff = X_hat - X
    return np.mean(diff**2), 2 * diff / diff.size
