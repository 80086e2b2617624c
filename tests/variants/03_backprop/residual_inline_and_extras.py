# variant: correct
# what: the residual block computed inline with its own cache layout; extra prints while
#   debugging (stdout costs nothing); a backward that returns a list instead of a tuple
# assignment: 03_backprop
# %% id=residual_block
def residual_forward(x, w, b):
    pre = x @ w + b
    branch = pre * (pre > 0)
    return x + branch, [x, w, pre]


def residual_backward(dout, cache):
    x, w, pre = cache
    print("residual_backward: dout", dout.shape)
    dpre = dout * (pre > 0)
    return [dout + dpre @ w.T, x.T @ dpre, dpre.sum(axis=0)]
