# variant: correct
# what: debug prints in every function, np.concatenate for the bias column, the margin with
#   a Python min over a generator, the radius with np.hypot.reduce
# assignment: 01_perceptron
# %% id=add_bias
def add_bias(X):
    print("adding a bias column to", X.shape)
    return np.concatenate([np.ones((len(X), 1)), X], axis=1)
# %% id=margin
def margin(X, y, theta):
    g = min(y_i * (x_i @ theta) for x_i, y_i in zip(X, y)) / np.linalg.norm(theta)
    print("margin", g)
    return g
# %% id=radius
def radius(X):
    r = float(np.max(np.hypot.reduce(X, axis=1)))
    print("radius", r)
    return r
