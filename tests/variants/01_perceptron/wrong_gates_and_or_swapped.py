# variant: wrong
# what: the AND and OR weights swapped; the XOR built on them is wrong too
# assignment: 01_perceptron
# zero: test_gate_weights, test_xor_predict
# message: (x1, x2) = (0, 1), 输入 (x1, x2)
# %% id=gate_weights
def gate_weights():
    return {
        "AND": np.array([-0.5, 1.0, 1.0]),
        "OR": np.array([-1.5, 1.0, 1.0]),
        "NAND": np.array([1.5, -1.0, -1.0]),
    }
