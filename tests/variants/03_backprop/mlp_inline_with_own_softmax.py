# variant: correct
# what: the MLP without the layer functions, the L2 term through np.linalg.norm, the
#   probabilities normalised after exp, gradients collected in a loop over the parameters
# assignment: 03_backprop
# %% id=mlp_loss_and_grads
def loss_and_grads(params, X, y, reg=0.0):
    N = X.shape[0]
    hidden_in = X @ params["W1"] + params["b1"]
    hidden = np.where(hidden_in > 0, hidden_in, 0.0)
    scores = hidden @ params["W2"] + params["b2"]
    shifted = scores - scores.max(axis=1)[:, None]
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1)[:, None]
    loss = -np.log(probs[range(N), y]).sum() / N
    loss += reg / 2 * (np.linalg.norm(params["W1"]) ** 2 + np.linalg.norm(params["W2"]) ** 2)
    dscores = probs.copy()
    dscores[range(N), y] -= 1
    dscores /= N
    dhidden = dscores @ params["W2"].T
    dhidden[hidden_in <= 0] = 0
    grads = {"W2": hidden.T @ dscores, "b2": dscores.sum(axis=0),
             "W1": X.T @ dhidden, "b1": dhidden.sum(axis=0)}
    for name in ("W1", "W2"):
        grads[name] = grads[name] + reg * params[name]
    return loss, grads
