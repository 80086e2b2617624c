# variant: wrong
# what: the Gaussian KL with its sign flipped (value and gradients); the ELBO and the VAE
#   that call it inherit the mistake
# assignment: 06_autoencoders
# zero: test_gaussian_kl, test_negative_elbo, test_vae_loss_and_grads
# message: KL
# ruff: noqa: F821
# %% id=gaussian_kl
def gaussian_kl(mu, logvar):
    N = mu.shape[0]
    var = np.exp(logvar)
    return 0.5 * np.sum(1 + logvar - mu**2 - var) / N, -mu / N, -0.5 * (var - 1) / N
