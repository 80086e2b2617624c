# variant: wrong
# what: XOR weights that are right on the four corners but leave no margin around 0.5
# assignment: 02_mlp
# zero: test_xor_params
# message: 0.1, 余量
# %% id=xor_params
def xor_params():
    W1 = np.ones((2, 2))
    b1 = np.array([0.0, -1.0])
    W2 = np.array([[0.51], [-1.02]])
    b2 = np.array([0.0])
    return W1, b1, W2, b2
