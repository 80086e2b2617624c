# variant: correct
# what: the two heads of the VAE as one matrix product on concatenated weights (the fan-out
#   sum done by the product), a dict comprehension for the result, loss as a 0-d array
# assignment: 06_autoencoders
# ruff: noqa: F821
# %% id=vae_loss_and_grads
def vae_loss_and_grads(params, X, eps):
    p = params
    Z = p["W_mu"].shape[1]
    a1, c1 = affine_forward(X, p["W1"], p["b1"])
    h, r1 = relu_forward(a1)
    W_heads = np.concatenate([p["W_mu"], p["W_logvar"]], axis=1)
    b_heads = np.concatenate([p["b_mu"], p["b_logvar"]])
    heads, c_heads = affine_forward(h, W_heads, b_heads)
    mu, logvar = heads[:, :Z], heads[:, Z:]
    z, c_rep = reparameterize_forward(mu, logvar, eps)
    a2, c2 = affine_forward(z, p["W2"], p["b2"])
    h2, r2 = relu_forward(a2)
    logits, c3 = affine_forward(h2, p["W3"], p["b3"])
    loss, dlogits, dmu, dlogvar = negative_elbo(X, logits, mu, logvar)
    dh2, dW3, db3 = affine_backward(dlogits, c3)
    dz, dW2, db2 = affine_backward(relu_backward(dh2, r2), c2)
    dmu_z, dlogvar_z = reparameterize_backward(dz, c_rep)
    dheads = np.concatenate([dmu + dmu_z, dlogvar + dlogvar_z], axis=1)
    dh, dW_heads, db_heads = affine_backward(dheads, c_heads)
    _, dW1, db1 = affine_backward(relu_backward(dh, r1), c1)
    found = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3,
             "W_mu": dW_heads[:, :Z], "b_mu": db_heads[:Z],
             "W_logvar": dW_heads[:, Z:], "b_logvar": db_heads[Z:]}
    return np.asarray(loss), {k: np.ascontiguousarray(v) for k, v in found.items()}
