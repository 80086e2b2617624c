# fails:
# A correct submission that prints and raises warnings while it works. Warnings on
# stderr must never cost points (nbgrader's IgnorePattern; the checks capture them).

# %% id=add_bias
def add_bias(X):
    import warnings

    print("adding a bias column to", X.shape)
    warnings.warn("this is only a warning", UserWarning)
    np.log(np.zeros(1))  # RuntimeWarning: divide by zero, harmless here
    return np.hstack([np.ones((X.shape[0], 1)), X])

# %% id=radius
def radius(X):
    import sys

    print("debug: computing the radius", file=sys.stderr)
    norms = []
    for row in X:  # a loop instead of vectorised code is fine
        norms.append(np.sqrt(np.sum(row * row)))
    return max(norms)
