# variant: correct
# what: the VAE's backward pass written out without the layer helpers, the fan-out summed
#   before the ReLU mask, the gradients returned in an OrderedDict built in another order
# assignment: 06_autoencoders
# ruff: noqa: F821
# %% id=vae_loss_and_grads
def vae_loss_and_grads(params, X, eps):
    from collections import OrderedDict

    p = params
    a1 = X @ p["W1"] + p["b1"]
    h = np.maximum(a1, 0.0)
    mu = h @ p["W_mu"] + p["b_mu"]
    logvar = h @ p["W_logvar"] + p["b_logvar"]
    std = np.exp(logvar / 2)
    z = mu + std * eps
    a2 = z @ p["W2"] + p["b2"]
    h2 = np.maximum(a2, 0.0)
    logits = h2 @ p["W3"] + p["b3"]
    loss, dlogits, dmu_kl, dlogvar_kl = negative_elbo(X, logits, mu, logvar)
    g = OrderedDict()
    g["b3"] = dlogits.sum(0)
    g["W3"] = h2.T @ dlogits
    da2 = (dlogits @ p["W3"].T) * (a2 > 0)
    g["b2"] = da2.sum(0)
    g["W2"] = z.T @ da2
    dz = da2 @ p["W2"].T
    dmu = dz + dmu_kl
    dlogvar = dz * eps * std / 2 + dlogvar_kl
    g["b_logvar"] = dlogvar.sum(0)
    g["W_logvar"] = h.T @ dlogvar
    g["b_mu"] = dmu.sum(0)
    g["W_mu"] = h.T @ dmu
    da1 = (dmu @ p["W_mu"].T + dlogvar @ p["W_logvar"].T) * (a1 > 0)
    g["b1"] = da1.sum(0)
    g["W1"] = X.T @ da1
    return float(loss), g
