# variant: correct
# what: PLA with an index loop, theta updated in place on its own float array, the mistakes
#   of each epoch kept in a list and summed, np.c_ for the bias column, the prediction with
#   np.sign and the ties set by a mask
# assignment: 01_perceptron
# %% id=add_bias
def add_bias(X):
    return np.c_[np.ones(X.shape[0]), X]
# %% id=perceptron_predict
def perceptron_predict(X, theta):
    scores = X @ theta
    labels = np.sign(scores)
    labels[scores == 0] = 1
    return labels
# %% id=pla_train
def pla_train(X, y, epochs):
    n, d = X.shape
    theta = np.zeros(d)
    per_epoch = []
    for _ in range(epochs):
        count = 0
        for i in range(n):
            if y[i] * np.dot(theta, X[i]) <= 0:
                theta += y[i] * X[i]
                count += 1
        per_epoch.append(count)
        if count == 0:
            break
    return theta, int(np.sum(per_epoch))
