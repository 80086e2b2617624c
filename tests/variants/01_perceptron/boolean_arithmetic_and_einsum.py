# variant: correct
# what: labels by boolean arithmetic (2 * (score >= 0) - 1), the bias column written into a
#   new array of ones, norms with np.einsum, the margin with .dot and .min
# assignment: 01_perceptron
# %% id=add_bias
def add_bias(X):
    out = np.ones((X.shape[0], X.shape[1] + 1))
    out[:, 1:] = X
    return out
# %% id=perceptron_predict
def perceptron_predict(X, theta):
    return 2 * (X @ theta >= 0).astype(int) - 1
# %% id=margin
def margin(X, y, theta):
    return (y * X.dot(theta)).min() / np.sqrt(np.einsum("i,i->", theta, theta))
# %% id=radius
def radius(X):
    return np.sqrt(np.einsum("ij,ij->i", X, X).max())
