# fails: test_pla_train, test_margin, test_perceptron_bound
# A student who counts boundary points as correct (so theta = 0 never moves) and
# forgets to divide the margin by ||theta||. The bound uses margin(), so it fails too.

# %% id=pla_train
def pla_train(X, y, epochs):
    theta = np.zeros(X.shape[1])
    mistakes = 0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            if y_i * (x_i @ theta) < 0:
                theta = theta + y_i * x_i
                mistakes += 1
    return theta, mistakes

# %% id=margin
def margin(X, y, theta):
    return np.min(y * (X @ theta))
