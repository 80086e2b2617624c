# variant: correct
# what: np.einsum, np.dot, np.matmul and np.add.reduce instead of @ and .sum; the residual
#   block and the MLP written out without calling the layers
# assignment: 03_backprop
# %% id=affine
def affine_forward(x, w, b):
    return np.einsum("nd,dm->nm", x, w) + b[np.newaxis, :], {"x": x, "w": w}


def affine_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    return np.einsum("nm,dm->nd", dout, w), np.einsum("nd,nm->dm", x, dout), np.add.reduce(dout, axis=0)
# %% id=residual_block
def residual_forward(x, w, b):
    a = np.dot(x, w) + b
    return x + np.maximum(a, 0.0), (x, w, a)


def residual_backward(dout, cache):
    x, w, a = cache
    da = np.where(a > 0, dout, 0.0)
    return dout + np.matmul(da, w.T), np.matmul(x.T, da), np.sum(da, axis=0)
# %% id=mlp_loss_and_grads
def loss_and_grads(params, X, y, reg=0.0):
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    N = len(X)
    a = np.einsum("nd,dh->nh", X, W1) + b1
    h = np.maximum(a, 0)
    s = np.einsum("nh,hc->nc", h, W2) + b2
    s = s - s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    loss = -np.mean(log_p[np.arange(N), y]) + 0.5 * reg * (np.einsum("ij,ij->", W1, W1)
                                                           + np.einsum("ij,ij->", W2, W2))
    ds = (np.exp(log_p) - np.eye(W2.shape[1])[y]) / N
    dh = ds @ W2.T
    da = dh * (a > 0)
    return loss, {"W1": X.T @ da + reg * W1, "b1": da.sum(0), "W2": h.T @ ds + reg * W2,
                  "b2": ds.sum(0)}
