# hostile: returns an answer far larger than any test needs (768 MiB), hoping to exhaust the
#   grader's memory; add_bias is otherwise right.
# assignment: 01_perceptron
# zero: test_add_bias, test_xor_predict
# flags: protocol:test_add_bias
# %% id=add_bias
def add_bias(X):
    return np.zeros((96 * 2**20,))
