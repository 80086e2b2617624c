# variant: wrong
# what: sigmoid_grad written for the sigmoid's output s (s * (1 - s)) but called with z
# assignment: 02_mlp
# zero: test_sigmoid_activation
# message: applied to z, 用在了 z 上
# %% id=sigmoid_activation
def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(s):
    return s * (1 - s)
