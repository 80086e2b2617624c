# hostile: returns objects that say they equal anything, for the exercises compared
#   exactly (labels, mistake counts, truth tables).
# assignment: 01_perceptron
# zero: test_perceptron_predict, test_pla_train, test_xor_predict, test_perceptron_bound
# flags:
# %% id=perceptron_predict
class Anything:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__

    def __array__(self, dtype=None, copy=None):
        return np.zeros(0)

    def __len__(self):
        return 0


def perceptron_predict(X, theta):
    return Anything()
# %% id=pla_train
def pla_train(X, y, epochs=100):
    return np.zeros(X.shape[1]), Anything()
# %% id=xor_predict
def xor_predict(X01):
    return Anything()
