# hostile: hoards memory where a watchdog summing resident memory does not look (memfd
#   files, a tmpfs under /dev, the scratch folder), then answers correctly. The first two
#   are refused, the scratch folder fills at its own small size.
# assignment: 01_perceptron
# zero: test_add_bias, test_xor_predict
# flags:
# %% id=add_bias
import os


def add_bias(X):
    hoard = []
    fd = os.memfd_create("hoard")  # refused: PermissionError
    for _ in range(4096):
        os.write(fd, b"x" * 2**20)
        hoard.append(fd)
    return np.hstack([np.ones((X.shape[0], 1)), X])
# %% id=radius
def radius(X):
    for where in ("/dev/shm/hoard", "/dev/hoard", "/tmp/hoard"):
        try:
            with open(where, "wb") as handle:
                for _ in range(4096):
                    handle.write(b"x" * 2**20)
        except OSError:
            continue
    return float(np.max(np.linalg.norm(X, axis=1)))
