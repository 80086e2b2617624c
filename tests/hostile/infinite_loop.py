# hostile: perceptron_predict never returns; the other answers are right.
# assignment: 01_perceptron
# zero: test_perceptron_predict, test_xor_predict
# flags: timeout:test_perceptron_predict
# %% id=perceptron_predict
def perceptron_predict(X, theta):
    while True:
        pass
