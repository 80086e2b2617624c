# variant: wrong
# what: the margin without the division by ||theta||; the bound built on it is wrong too
# assignment: 01_perceptron
# zero: test_margin, test_perceptron_bound
# message: ||theta||, 除以 ||theta||
# %% id=margin
def margin(X, y, theta):
    return float(np.min(y * (X @ theta)))
