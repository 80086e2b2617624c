# variant: wrong
# what: log-softmax as np.log(softmax(Z)): -inf where a probability rounds to 0, which also
#   breaks the cross-entropy built on it
# assignment: 02_mlp
# zero: test_log_softmax, test_softmax_cross_entropy
# message: np.log of softmax, 不要对 softmax 取 np.log
# %% id=log_softmax
def log_softmax(Z):
    return np.log(softmax(Z))
