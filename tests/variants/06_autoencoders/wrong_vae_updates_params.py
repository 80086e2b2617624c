# variant: wrong
# what: the VAE takes an SGD step on params inside the loss function (in place)
# assignment: 06_autoencoders
# zero: test_vae_loss_and_grads
# message: changed its input, 原地修改
# ruff: noqa: F821
# %% id=vae_loss_and_grads
def vae_loss_and_grads(params, X, eps):
    p = params
    a1, c1 = affine_forward(X, p["W1"], p["b1"])
    h, r1 = relu_forward(a1)
    mu, cm = affine_forward(h, p["W_mu"], p["b_mu"])
    logvar, cl = affine_forward(h, p["W_logvar"], p["b_logvar"])
    z, cr = reparameterize_forward(mu, logvar, eps)
    a2, c2 = affine_forward(z, p["W2"], p["b2"])
    h2, r2 = relu_forward(a2)
    logits, c3 = affine_forward(h2, p["W3"], p["b3"])
    loss, dlogits, dmu, dlogvar = negative_elbo(X, logits, mu, logvar)
    g = {}
    dh2, g["W3"], g["b3"] = affine_backward(dlogits, c3)
    dz, g["W2"], g["b2"] = affine_backward(relu_backward(dh2, r2), c2)
    dmu_z, dlogvar_z = reparameterize_backward(dz, cr)
    dh_mu, g["W_mu"], g["b_mu"] = affine_backward(dmu + dmu_z, cm)
    dh_lv, g["W_logvar"], g["b_logvar"] = affine_backward(dlogvar + dlogvar_z, cl)
    _, g["W1"], g["b1"] = affine_backward(relu_backward(dh_mu + dh_lv, r1), c1)
    for k in p:
        p[k] -= 0.01 * g[k]
    return loss, g
