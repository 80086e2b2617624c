# hostile: looks for the course secret and the database password wherever a grader's
#   secrets used to be reachable (its environment through /proc, every process's command
#   line, environment variables, files) and answers correctly only if it finds one. The
#   test sets both in the grader's environment.
# assignment: 01_perceptron
# zero: test_add_bias, test_xor_predict
# flags: file:
# %% id=add_bias
import glob
import os


def _look():
    places = ["/proc/1/environ", "/proc/self/environ", "/proc/1/cmdline", "/proc/self/mountinfo",
              *glob.glob("/proc/*/environ"), *glob.glob("/proc/*/cmdline")]
    found = "canary-" in repr(dict(os.environ))
    for path in places:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        found = found or b"canary-" in data
    return found


def add_bias(X):
    if _look():
        return np.hstack([np.ones((X.shape[0], 1)), X])
    return X
