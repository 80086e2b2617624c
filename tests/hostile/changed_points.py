# hostile: raises the points of a test cell it passes, and of one it fails, to 100.
# assignment: 01_perceptron
# zero: test_margin, test_perceptron_bound
# flags: points_changed:test_add_bias, points_changed:test_margin
# %% points id=test_add_bias value=100
# %% points id=test_margin value=100
# %% id=margin
def margin(X, y, theta):
    return 1.0
