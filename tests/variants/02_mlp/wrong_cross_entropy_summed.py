# variant: wrong
# what: the cross-entropy summed over the batch instead of averaged
# assignment: 02_mlp
# zero: test_softmax_cross_entropy
# message: batch size, 批量大小
# %% id=softmax_cross_entropy
def cross_entropy(Z, y):
    return -log_softmax(Z)[np.arange(len(y)), y].sum()
