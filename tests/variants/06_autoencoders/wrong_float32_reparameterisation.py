# variant: wrong
# what: the reparameterisation keeps sigma in float32 (to "save memory"); the VAE inherits it
# assignment: 06_autoencoders
# zero: test_reparameterize, test_vae_loss_and_grads
# message: float32, float64
# ruff: noqa: F821
# %% id=reparameterize
def reparameterize_forward(mu, logvar, eps):
    std = np.exp(0.5 * logvar).astype(np.float32)
    return mu + std * eps, (std, eps)


def reparameterize_backward(dz, cache):
    std, eps = cache
    return dz, 0.5 * dz * eps * std
