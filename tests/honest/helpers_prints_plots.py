# honest: a helper function in an extra cell (with a plot and a print next to it), prints
#   and warnings inside graded functions, a plot at the top of a solution cell, IPython
#   magics: all full marks.
# assignment: 01_perceptron
# zero:
# flags:
# %% before=add_bias
%matplotlib inline
import warnings


def ones_column(n):
    return np.ones((n, 1))


plt.plot([0, 1], [1, 0])
plt.title("a demo the grader does not run")
print("demo cell")
for epoch in range(10**9):  # a long demo loop: not run by the trusted grader
    pass
# %% id=add_bias
plt.figure()
plt.plot([1, 2, 3])
print("defining add_bias")


def add_bias(X):
    print("add_bias got", X.shape)
    warnings.warn("just a warning", RuntimeWarning)
    return np.hstack([ones_column(X.shape[0]), X])
# %% id=radius
def radius(X):
    import sys

    print("to stderr", file=sys.stderr)
    best = 0.0
    for row in X:  # loops instead of vectorised code
        total = 0.0
        for value in row:
            total += value * value
        best = max(best, total ** 0.5)
    return best
