# variant: wrong
# what: parametric ReLU's slope treated as a constant: the derivative with respect to alpha
#   is 0 everywhere (the forward and dz are right)
# assignment: 02_mlp
# zero: test_prelu_activation
# message: dalpha, alpha
# %% id=prelu_activation
def prelu(z, alpha):
    return np.where(z > 0, z, alpha * z)


def prelu_grad(z, alpha):
    return np.where(z > 0, 1.0, alpha), np.zeros_like(z)
