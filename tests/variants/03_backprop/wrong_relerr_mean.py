# variant: wrong
# what: the relative error averaged over the elements instead of its maximum
# assignment: 03_backprop
# zero: test_relative_error
# message: np.max, 最大值
# %% id=relative_error
def relative_error(a, b):
    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
