# hostile: allocates memory without end, in a function and in a second function at once.
# assignment: 01_perceptron
# zero: test_add_bias, test_radius, test_perceptron_bound, test_xor_predict
# flags:
# %% id=add_bias
def add_bias(X):
    hoard = []
    while True:
        hoard.append(bytearray(256 * 2**20))
# %% id=radius
def radius(X):
    return float(np.ones((200_000, 100_000)).sum())
