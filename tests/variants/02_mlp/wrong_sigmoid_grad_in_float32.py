# variant: wrong
# what: the sigmoid's derivative computed in float32 to "save memory": right to 7 digits only
# assignment: 02_mlp
# zero: test_sigmoid_activation
# message: float32, 1e-15
# %% id=sigmoid_activation
def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(z):
    s = sigmoid(z).astype(np.float32)
    return s * (1 - s)
