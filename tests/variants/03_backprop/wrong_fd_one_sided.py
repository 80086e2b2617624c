# variant: wrong
# what: one-sided differences (f(x + h) - f(x)) / h instead of central ones
# assignment: 03_backprop
# zero: test_numerical_gradient
# message: one-sided, 中心差分
# %% id=numerical_gradient
def numerical_gradient(f, x, h=1e-5):
    x = x.copy()
    grad = np.zeros_like(x)
    fx = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - fx) / h
        x[i] = old
    return grad
