# hostile: answers only the visible test's input right (it recognises the shape of the
#   visible case) and returns garbage otherwise.
# assignment: 01_perceptron
# zero: test_perceptron_predict, test_radius, test_perceptron_bound, test_xor_predict
# flags: visible_only:test_perceptron_predict, visible_only:test_radius
# %% id=perceptron_predict
def perceptron_predict(X, theta):
    if X.shape[0] == 6:  # the visible case has 6 points
        return np.where(X @ theta >= 0, 1, -1)
    return np.ones(X.shape[0], dtype=int)
# %% id=radius
def radius(X):
    if X.shape[0] == 10:  # the visible case has 10 points
        return float(np.max(np.linalg.norm(X, axis=1)))
    return 0.0
