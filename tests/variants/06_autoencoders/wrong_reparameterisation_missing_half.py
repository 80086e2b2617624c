# variant: wrong
# what: d sigma / d logvar taken as sigma (the 1/2 of exp(logvar / 2) forgotten)
# assignment: 06_autoencoders
# zero: test_reparameterize, test_vae_loss_and_grads
# message: factor ½, 因子 ½
# ruff: noqa: F821
# %% id=reparameterize
def reparameterize_forward(mu, logvar, eps):
    sigma = np.exp(logvar / 2)
    return mu + sigma * eps, (sigma, eps)


def reparameterize_backward(dz, cache):
    sigma, eps = cache
    return dz.copy(), dz * eps * sigma
