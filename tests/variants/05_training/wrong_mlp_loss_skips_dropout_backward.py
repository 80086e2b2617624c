# variant: wrong
# what: the backward pass of mlp_loss goes from the output layer straight to the ReLU,
#   without dropout_backward
# assignment: 05_training
# zero: test_mlp_loss_dropout
# message: skips dropout, 跳过了暂退层
# ruff: noqa: F821, E402
# %% id=mlp_loss_dropout
def init_mlp(num_inputs, num_hiddens, num_outputs, rng):
    return {"W1": he_init(num_inputs, num_hiddens, rng), "b1": np.zeros(num_hiddens),
            "W2": glorot_init(num_hiddens, num_outputs, rng), "b2": np.zeros(num_outputs)}


def predict(params, X):
    hidden, _ = relu_forward(affine_forward(X, params["W1"], params["b1"])[0])
    scores, _ = affine_forward(hidden, params["W2"], params["b2"])
    return scores.argmax(axis=1)


def mlp_loss(params, X, y, dropout=0.0, train=False, rng=None):
    hidden, cache1 = affine_forward(X, params["W1"], params["b1"])
    act, cache2 = relu_forward(hidden)
    dropped, _ = dropout_forward(act, dropout, train, rng)
    scores, cache4 = affine_forward(dropped, params["W2"], params["b2"])
    loss, dscores = softmax_cross_entropy(scores, y)
    ddropped, dW2, db2 = affine_backward(dscores, cache4)
    _, dW1, db1 = affine_backward(relu_backward(ddropped, cache2), cache1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
