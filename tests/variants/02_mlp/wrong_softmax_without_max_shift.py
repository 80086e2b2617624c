# variant: wrong
# what: softmax straight from its definition, without the max shift
# assignment: 02_mlp
# zero: test_softmax
# message: not finite, 减去每一行的最大值
# %% id=softmax
def softmax(Z):
    e = np.exp(Z)
    return e / e.sum(axis=1, keepdims=True)
