# variant: wrong
# what: the column of ones appended at the end instead of put first
# assignment: 01_perceptron
# zero: test_add_bias, test_xor_predict
# message: expected, 期望
# %% id=add_bias
def add_bias(X):
    return np.hstack([X, np.ones((X.shape[0], 1))])
