# variant: wrong
# what: the mistake counter reset at every epoch, so only the last epoch's mistakes (0 on
#   separable data) are returned
# assignment: 01_perceptron
# zero: test_pla_train
# message: `mistakes`
# %% id=pla_train
def pla_train(X, y, epochs):
    theta = np.zeros(X.shape[1])
    for _ in range(epochs):
        mistakes = 0
        for x_i, y_i in zip(X, y):
            if y_i * (x_i @ theta) <= 0:
                theta = theta + y_i * x_i
                mistakes += 1
        if mistakes == 0:
            break
    return theta, mistakes
