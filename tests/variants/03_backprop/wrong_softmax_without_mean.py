# variant: wrong
# what: the softmax cross-entropy's gradient is not divided by N (the loss is a mean); the
#   MLP, which uses it, is off by N too
# assignment: 03_backprop
# zero: test_softmax_ce_loss, test_mlp_loss_and_grads
# message: batch, 批量
# %% id=softmax_ce_loss
def softmax_cross_entropy(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(N), y]))
    dx = p.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx
