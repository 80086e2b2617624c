# variant: wrong
# what: ReLU's derivative taken as 1 at z = 0 (z >= 0), not PyTorch's 0
# assignment: 02_mlp
# zero: test_relu_activation
# message: z = 0, 折点
# %% id=relu_activation
def relu(z):
    return np.maximum(z, 0)


def relu_grad(z):
    return (z >= 0).astype(float)
