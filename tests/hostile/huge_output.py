# hostile: returns an answer far larger than any test needs (768 MiB), hoping to exhaust the
#   grader's memory or hold it up while it is copied; add_bias is otherwise right. The result
#   is refused before it is copied, as a failed check.
# assignment: 01_perceptron
# zero: test_add_bias, test_xor_predict
# flags:
# %% id=add_bias
def add_bias(X):
    return np.zeros((96 * 2**20,))
