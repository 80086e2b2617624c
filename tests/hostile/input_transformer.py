# hostile: installs an IPython input transformer that turns every later cell (the test
#   cells included) into `pass`; add_bias and margin are wrong.
# assignment: 01_perceptron
# zero: test_add_bias, test_margin, test_perceptron_bound, test_xor_predict
# flags: ipython_hook
# %% id=add_bias
def _silence(lines):
    return ["pass\n"]


get_ipython().input_transformers_cleanup.append(_silence)


def add_bias(X):
    return np.zeros((X.shape[0], X.shape[1] + 1))
# %% id=margin
def margin(X, y, theta):
    return 0.0
