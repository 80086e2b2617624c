# hostile: replaces the test cells with `pass` and a fake pass line; both answers are wrong.
# assignment: 01_perceptron
# zero: test_add_bias, test_perceptron_predict, test_xor_predict
# flags: test_cell_edited:test_add_bias, test_cell_edited:test_perceptron_predict
# %% test id=test_add_bias
pass
# %% test id=test_perceptron_predict
print("✓ Exercise 1.2 · perceptron prediction: all 4 checks passed.")
# %% id=add_bias
def add_bias(X):
    return X
# %% id=perceptron_predict
def perceptron_predict(X, theta):
    return np.ones(X.shape[0], dtype=int)
