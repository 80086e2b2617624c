# hostile: add_bias ends the process with os._exit; every other answer is right and must
#   still score (a fresh sandbox takes over).
# assignment: 01_perceptron
# zero: test_add_bias, test_xor_predict
# flags: crashed:test_add_bias
# %% id=add_bias
def add_bias(X):
    import os

    os._exit(0)
