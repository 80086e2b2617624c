# variant: wrong
# what: the mean squared error's gradient divided by the batch size only, not by N·K
# assignment: 03_backprop
# zero: test_mse_loss
# message: N·K
# %% id=mse_loss
def mse_loss(y_hat, y):
    return np.mean((y_hat - y) ** 2), 2 * (y_hat - y) / len(y_hat)
