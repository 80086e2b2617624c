# variant: wrong
# what: the collapsed bias keeps only b2 (b1 is forgotten as it passes through W2)
# assignment: 02_mlp
# zero: test_collapse_affine
# message: b1 @ W2 + b2, 第一层的偏置
# %% id=collapse_affine
def collapse_affine(W1, b1, W2, b2):
    return W1 @ W2, b2
