# hostile: writes garbage to every open file descriptor and closes them, trying to break
#   or forge the grader's channel; radius is wrong.
# assignment: 01_perceptron
# zero: test_radius, test_perceptron_bound
# flags:
# %% id=radius
def radius(X):
    import os

    for fd in range(3, 64):
        try:
            os.write(fd, b"\x00\x00\x00\x10\x00\x00\x00\x00" + b'{"ok": 1.0}')
        except OSError:
            pass
    return 1.0
