# variant: correct
# what: explicit Python loops over the batch and the classes instead of vectorised NumPy
#   (affine, ReLU, softmax cross-entropy, MSE); the gradients come out in another order
# assignment: 03_backprop
# %% id=affine
def affine_forward(x, w, b):
    N, D = x.shape
    M = w.shape[1]
    out = np.zeros((N, M))
    for n in range(N):
        for m in range(M):
            out[n, m] = np.dot(x[n], w[:, m]) + b[m]
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    N, D = x.shape
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    db = np.zeros(w.shape[1])
    for n in range(N):
        db += dout[n]
        dw += np.outer(x[n], dout[n])
        dx[n] = w @ dout[n]
    return dx, dw, db
# %% id=relu
def relu_forward(x):
    out = x.copy()
    out[out < 0] = 0
    return out, x


def relu_backward(dout, cache):
    dx = dout.copy()
    dx[cache <= 0] = 0
    return dx
# %% id=softmax_ce_loss
def softmax_cross_entropy(x, y):
    N, C = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for n in range(N):
        row = x[n] - np.max(x[n])
        total = np.sum(np.exp(row))
        loss += np.log(total) - row[y[n]]
        for c in range(C):
            dx[n, c] = np.exp(row[c]) / total
        dx[n, y[n]] -= 1
    return loss / N, dx / N
# %% id=mse_loss
def mse_loss(y_hat, y):
    N, K = y_hat.shape
    total = 0.0
    grad = np.empty_like(y_hat)
    for n in range(N):
        for k in range(K):
            d = y_hat[n, k] - y[n, k]
            total += d * d
            grad[n, k] = 2 * d / (N * K)
    return total / (N * K), grad
