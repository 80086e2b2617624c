# variant: wrong
# what: the radius as the largest squared norm
# assignment: 01_perceptron
# zero: test_radius, test_perceptron_bound
# message: squared norm, 范数平方
# %% id=radius
def radius(X):
    return float(np.max(np.sum(X**2, axis=1)))
