# hostile: raises an exception whose message never finishes rendering and whose class name
#   is built from the hidden inputs; margin is otherwise right.
# assignment: 01_perceptron
# zero: test_margin, test_perceptron_bound
# flags: visible_only:test_margin
# %% id=margin
class Endless(Exception):
    def __str__(self):
        while True:
            pass


def margin(X, y, theta):
    if X.shape[0] == 10:  # the visible case
        return float(np.min(y * (X @ theta)) / np.linalg.norm(theta))
    leak = type("Leak_" + "_".join(str(int(abs(v) * 1000)) for v in X.ravel()[:4]),
                (ValueError,), {})
    if X.shape[0] == 1:
        raise leak("inputs: " + repr(X))
    raise Endless()
