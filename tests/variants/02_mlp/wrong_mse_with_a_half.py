# variant: wrong
# what: the squared error with the textbook 1/2 in front
# assignment: 02_mlp
# zero: test_mse
# message: 1/2, mse_loss
# %% id=mse
def mse(y_hat, y):
    return 0.5 * np.mean((y_hat - y) ** 2)
