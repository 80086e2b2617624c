# variant: wrong
# what: the gradient of (reg/2)·||W||² written as 2·reg·W
# assignment: 03_backprop
# zero: test_mlp_loss_and_grads
# message: not 2·reg·W
# %% id=mlp_loss_and_grads
def loss_and_grads(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    a1, cache1 = affine_forward(X, W1, b1)
    h1, cache_relu = relu_forward(a1)
    scores, cache2 = affine_forward(h1, W2, b2)
    data_loss, dscores = softmax_cross_entropy(scores, y)
    loss = data_loss + 0.5 * reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    dh1, dW2, db2 = affine_backward(dscores, cache2)
    _, dW1, db1 = affine_backward(relu_backward(dh1, cache_relu), cache1)
    return loss, {"W1": dW1 + 2 * reg * W1, "b1": db1, "W2": dW2 + 2 * reg * W2, "b2": db2}
