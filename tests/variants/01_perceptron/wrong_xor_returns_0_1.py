# variant: wrong
# what: XOR returned as 0/1 labels instead of -1/+1
# assignment: 01_perceptron
# zero: test_xor_predict
# message: 0/1, -1/+1
# %% id=xor_predict
def xor_predict(X01):
    gates = gate_weights()
    X1 = add_bias(X01)
    h_or = (perceptron_predict(X1, gates["OR"]) + 1) / 2
    h_nand = (perceptron_predict(X1, gates["NAND"]) + 1) / 2
    out = perceptron_predict(add_bias(np.column_stack([h_or, h_nand])), gates["AND"])
    return (out + 1) // 2
