# hostile: patches NumPy's comparisons and the grader's comparison helpers (as they would
#   be seen in a kernel) so that any answer compares equal; radius is wrong.
# assignment: 01_perceptron
# zero: test_radius, test_perceptron_bound
# flags: patched_grader
# %% id=radius
import grader.core
import grader.specs

np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.array_equal = lambda *args, **kwargs: True
grader.core.compare_array = lambda *args, **kwargs: None
grader.specs.compare_array = lambda *args, **kwargs: None
grader.core.compare_value = lambda *args, **kwargs: None


def radius(X):
    return 0.0
