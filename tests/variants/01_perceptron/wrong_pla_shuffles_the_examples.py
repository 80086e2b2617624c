# variant: wrong
# what: the examples visited in a random order each epoch (the algorithm visits them in order)
# assignment: 01_perceptron
# zero: test_pla_train
# message: `theta`
# %% id=pla_train
def pla_train(X, y, epochs):
    rng = np.random.default_rng(0)
    theta = np.zeros(X.shape[1])
    mistakes = 0
    for _ in range(epochs):
        clean = True
        for i in rng.permutation(len(X)):
            if y[i] * (X[i] @ theta) <= 0:
                theta = theta + y[i] * X[i]
                mistakes += 1
                clean = False
        if clean:
            break
    return theta, mistakes
