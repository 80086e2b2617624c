# variant: wrong
# what: parametric ReLU's derivative with respect to alpha summed to one number (the
#   gradient of a sum, not the elementwise derivative the exercise asks for)
# assignment: 02_mlp
# zero: test_prelu_activation
# message: dalpha, 链式法则
# %% id=prelu_activation
def prelu(z, alpha):
    return np.where(z > 0, z, alpha * z)


def prelu_grad(z, alpha):
    return np.where(z > 0, 1.0, alpha), np.sum(np.where(z > 0, 0.0, z))
