# hostile: raises SystemExit and KeyboardInterrupt from graded functions and kills its own
#   parent; the other answers are right.
# assignment: 01_perceptron
# zero: test_add_bias, test_margin, test_radius, test_perceptron_bound, test_xor_predict
# flags:
# %% id=add_bias
def add_bias(X):
    raise SystemExit(0)
# %% id=margin
def margin(X, y, theta):
    raise KeyboardInterrupt
# %% id=radius
def radius(X):
    import os
    import signal

    os.kill(os.getppid(), signal.SIGKILL)
    os.kill(1, signal.SIGKILL)
    return 1.0
