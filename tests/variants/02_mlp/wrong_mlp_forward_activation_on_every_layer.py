# variant: wrong
# what: the hidden activation also applied to the output layer (a regression net that can
#   never output a negative number)
# assignment: 02_mlp
# zero: test_mlp_forward
# message: `y_hat`
# %% id=mlp_forward
def mlp_forward(X, params, hidden_activation="relu", output_activation="identity"):
    H = X
    for W, b in params:
        H = dense(H, W, b, hidden_activation)
    return H
