# variant: wrong
# what: the residual block's backward forgets the identity path: dx is only the branch's
# assignment: 03_backprop
# zero: test_residual_block
# message: skip, 跳跃
# %% id=residual_block
def residual_forward(x, w, b):
    a, affine_cache = affine_forward(x, w, b)
    h, relu_cache = relu_forward(a)
    return x + h, (affine_cache, relu_cache)


def residual_backward(dout, cache):
    affine_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, affine_cache)
