# variant: correct
# what: XOR as "OR and not AND" with a hand-set output perceptron over (OR, AND), the
#   hidden outputs kept as ±1 and the output weights chosen for ±1 inputs; a while loop PLA
#   with an explicit epoch counter
# assignment: 01_perceptron
# %% id=xor_predict
def xor_predict(X01):
    gates = gate_weights()
    X1 = add_bias(X01)
    h_or = perceptron_predict(X1, gates["OR"])
    h_and = perceptron_predict(X1, gates["AND"])
    # true exactly when OR is +1 and AND is -1: score = -1 + h_or - h_and
    H = np.column_stack([h_or, h_and]).astype(float)
    return perceptron_predict(add_bias(H), np.array([-1.0, 1.0, -1.0]))
# %% id=pla_train
def pla_train(X, y, epochs):
    theta = np.zeros(X.shape[1])
    mistakes = 0
    epoch = 0
    while epoch < epochs:
        updated = False
        for x_i, y_i in zip(X, y):
            if y_i * (theta @ x_i) <= 0:
                theta = theta + y_i * x_i
                mistakes += 1
                updated = True
        epoch += 1
        if not updated:
            break
    return theta, mistakes
