# hostile: returns, where a count is expected, an object that converts to whatever number
#   the check would like (0 mistakes: always within the bound) and compares as it likes.
# assignment: 01_perceptron
# zero: test_pla_train, test_perceptron_bound
# flags:
# %% id=pla_train
class Agreeable:
    def __float__(self):
        return 0.0

    def __int__(self):
        return 0

    def __index__(self):
        return 0

    def __le__(self, other):
        return True

    def __lt__(self, other):
        return True

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


def pla_train(X, y, epochs):
    return np.zeros(X.shape[1]), Agreeable()
