# variant: wrong
# what: softplus as np.log(1 + np.exp(z)): inf at z = 1000
# assignment: 02_mlp
# zero: test_softplus_activation
# message: log1p, np.logaddexp
# %% id=softplus_activation
def softplus(z):
    return np.log(1 + np.exp(z))


def softplus_grad(z):
    return sigmoid(z)
