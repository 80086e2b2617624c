# variant: wrong
# what: entropy in bits (np.log2)
# assignment: 02_mlp
# zero: test_entropy
# message: np.log2, 自然对数
# %% id=entropy
def entropy(q):
    safe = np.where(q > 0, q, 1.0)
    return -np.sum(q * np.log2(safe), axis=1)
