# variant: wrong
# what: the rows of X multiplied by their labels in place (X *= y[:, None]) to shorten the
#   test to z_i @ theta <= 0: right theta and count, but the caller's X is changed
# assignment: 01_perceptron
# zero: test_pla_train, test_perceptron_bound
# message: `X`, 原地修改
# %% id=pla_train
def pla_train(X, y, epochs):
    X *= y[:, None]
    theta = np.zeros(X.shape[1])
    mistakes = 0
    for _ in range(epochs):
        clean = True
        for z_i in X:
            if z_i @ theta <= 0:
                theta = theta + z_i
                mistakes += 1
                clean = False
        if clean:
            break
    return theta, mistakes
