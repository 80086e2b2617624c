# variant: wrong
# what: a mistake tested with < 0: a score of exactly 0 is not counted, so theta = 0 never moves
# assignment: 01_perceptron
# zero: test_pla_train
# message: <= 0
# %% id=pla_train
def pla_train(X, y, epochs):
    theta = np.zeros(X.shape[1])
    mistakes = 0
    for _ in range(epochs):
        clean = True
        for x_i, y_i in zip(X, y):
            if y_i * (x_i @ theta) < 0:
                theta = theta + y_i * x_i
                mistakes += 1
                clean = False
        if clean:
            break
    return theta, mistakes
