# variant: correct
# what: numerical_gradient over a flat copy with np.nditer-free index arithmetic and a
#   reshape back; relative_error with np.clip for the floor and .max() on the array
# assignment: 03_backprop
# %% id=numerical_gradient
def numerical_gradient(f, x, h=1e-5):
    flat = np.array(x, dtype=np.float64).ravel()
    grad = np.empty_like(flat)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + h
        plus = f(flat.reshape(np.shape(x)))
        flat[i] = keep - h
        minus = f(flat.reshape(np.shape(x)))
        flat[i] = keep
        grad[i] = (plus - minus) / (2 * h)
    return grad.reshape(np.shape(x))
# %% id=relative_error
def relative_error(a, b):
    ratio = np.abs(a - b) / np.clip(np.abs(a) + np.abs(b), 1e-8, None)
    return ratio.max()
