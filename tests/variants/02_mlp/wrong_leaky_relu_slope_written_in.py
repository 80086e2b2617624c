# variant: wrong
# what: leaky ReLU with the slope 0.01 written into the code, the alpha argument ignored
#   (right for the default, wrong when another alpha is passed)
# assignment: 02_mlp
# zero: test_leaky_relu_activation
# message: 0.01, alpha
# %% id=leaky_relu_activation
def leaky_relu(z, alpha=0.01):
    return np.where(z > 0, z, 0.01 * z)


def leaky_relu_grad(z, alpha=0.01):
    return np.where(z > 0, 1.0, 0.01)
