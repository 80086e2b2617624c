# variant: wrong
# what: unbroadcast sums the axes broadcasting added in front, but not the axes of size 1
# assignment: 04_autodiff
# zero: test_unbroadcast, test_tensor_ops
# message: has the wrong shape, reduce
# %% id=unbroadcast
def unbroadcast(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    return grad
