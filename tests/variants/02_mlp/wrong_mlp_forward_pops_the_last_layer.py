# variant: wrong
# what: the forward pass takes the output layer off the caller's list with params.pop():
#   right values once, one layer fewer for whoever uses params next
# assignment: 02_mlp
# zero: test_mlp_forward
# message: `params`, 原地修改
# %% id=mlp_forward
def mlp_forward(X, params, hidden_activation="relu", output_activation="identity"):
    W_out, b_out = params.pop()
    H = X
    for W, b in params:
        H = dense(H, W, b, hidden_activation)
    return dense(H, W_out, b_out, output_activation)
