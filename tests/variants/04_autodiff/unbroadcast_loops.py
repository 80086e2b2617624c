# variant: correct
# what: unbroadcast with a while loop over the axes added in front and a loop over the axes
#   of size 1 (np.sum with keepdims), no final reshape
# assignment: 04_autodiff
# %% id=unbroadcast
def unbroadcast(grad, shape):
    out = np.array(grad, dtype=float)
    while out.ndim > len(shape):
        out = np.sum(out, axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and out.shape[axis] != 1:
            out = np.sum(out, axis=axis, keepdims=True)
    return out
