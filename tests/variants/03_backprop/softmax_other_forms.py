# variant: correct
# what: softmax cross-entropy through np.logaddexp.reduce and a one-hot matrix from np.eye;
#   MSE with np.square and np.subtract, the mean over all elements written as a product
# assignment: 03_backprop
# %% id=softmax_ce_loss
def softmax_cross_entropy(x, y):
    N, C = x.shape
    log_z = np.logaddexp.reduce(x, axis=1, keepdims=True)
    log_p = x - log_z
    one_hot = np.eye(C)[y]
    loss = -np.sum(one_hot * log_p) / N
    return loss, (np.exp(log_p) - one_hot) / N
# %% id=mse_loss
def mse_loss(y_hat, y):
    diff = np.subtract(y_hat, y)
    count = diff.shape[0] * diff.shape[1]
    return float(np.square(diff).sum() / count), diff * (2.0 / count)
