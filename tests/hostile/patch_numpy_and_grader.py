# hostile: patches NumPy's comparisons and reaches for the grader's comparison helpers (as
#   they would be seen in a kernel) so that any answer compares equal; radius is wrong. In
#   the sandbox the grader's modules do not exist and NumPy's comparisons are not the ones
#   the checks use.
# assignment: 01_perceptron
# zero: test_radius, test_perceptron_bound
# flags: grader_internals
# %% id=radius
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.array_equal = lambda *args, **kwargs: True
try:
    import grader.checks.compare
    import grader.checks.specs

    grader.checks.compare.compare_array = lambda *args, **kwargs: None
    grader.checks.specs.compare_array = lambda *args, **kwargs: None
    grader.checks.compare.compare_value = lambda *args, **kwargs: None
except ImportError:
    pass


def radius(X):
    return 0.0
