# variant: wrong
# what: the epoch limit ignored (at most 1000 passes, whatever `epochs` says): right on
#   separable data, wrong where PLA cannot finish
# assignment: 01_perceptron
# zero: test_pla_train
# message: epochs=7
# %% id=pla_train
def pla_train(X, y, epochs):
    theta = np.zeros(X.shape[1])
    mistakes = 0
    for _ in range(1000):
        clean = True
        for x_i, y_i in zip(X, y):
            if y_i * (x_i @ theta) <= 0:
                theta = theta + y_i * x_i
                mistakes += 1
                clean = False
        if clean:
            break
    return theta, mistakes
