# variant: correct
# what: loops instead of vectorised code, np.sign with the tie handled, np.column_stack,
#   a while loop for PLA, the norm by hand
# assignment: 01_perceptron
# %% id=add_bias
def add_bias(X):
    return np.column_stack([np.ones(len(X)), X])
# %% id=perceptron_predict
def perceptron_predict(X, theta):
    s = np.sign(X @ theta)
    s[s == 0] = 1
    return s.astype(int)
# %% id=pla_train
def pla_train(X, y, epochs):
    theta = np.zeros(X.shape[1])
    mistakes, epoch, clean = 0, 0, False
    while epoch < epochs and not clean:
        clean = True
        for i in range(len(X)):
            if y[i] * float(np.dot(X[i], theta)) <= 0:
                theta = theta + y[i] * X[i]
                mistakes += 1
                clean = False
        epoch += 1
    return theta, mistakes
# %% id=margin
def margin(X, y, theta):
    norm = sum(t * t for t in theta) ** 0.5
    return min(y[i] * (X[i] @ theta) for i in range(len(X))) / norm
