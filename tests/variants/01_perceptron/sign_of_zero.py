# variant: wrong
# what: np.sign gives 0 for a score of exactly 0 (the course predicts +1)
# assignment: 01_perceptron
# zero: test_perceptron_predict
# message: np.sign, np.sign
# %% id=perceptron_predict
def perceptron_predict(X, theta):
    return np.sign(X @ theta)
