# variant: wrong
# what: the Gaussian KL's gradients by central finite differences of the value (right to
#   about 1e-10, so within the tolerance but not analytic)
# assignment: 06_autoencoders
# zero: test_gaussian_kl, test_negative_elbo, test_vae_loss_and_grads
# message: finite differences, 有限差分
# ruff: noqa: F821
# %% id=gaussian_kl
def gaussian_kl(mu, logvar):
    def value(m, lv):
        return -0.5 * np.sum(1 + lv - m**2 - np.exp(lv)) / m.shape[0]

    step = 1e-5
    dmu, dlogvar = np.zeros_like(mu), np.zeros_like(logvar)
    for index in np.ndindex(mu.shape):
        for x, grad, other, first in ((mu, dmu, logvar, True), (logvar, dlogvar, mu, False)):
            up, down = x.copy(), x.copy()
            up[index] += step
            down[index] -= step
            if first:
                grad[index] = (value(up, other) - value(down, other)) / (2 * step)
            else:
                grad[index] = (value(other, up) - value(other, down)) / (2 * step)
    return value(mu, logvar), dmu, dlogvar
