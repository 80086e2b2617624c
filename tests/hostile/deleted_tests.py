# hostile: deletes the test cells of two wrong answers.
# assignment: 01_perceptron
# zero: test_add_bias, test_radius, test_perceptron_bound, test_xor_predict
# flags: test_cell_deleted:test_add_bias, test_cell_deleted:test_radius
# %% delete id=test_add_bias
# %% delete id=test_radius
# %% id=add_bias
def add_bias(X):
    return X
# %% id=radius
def radius(X):
    return 1.0
