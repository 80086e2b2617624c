# variant: correct
# what: gate weights as tuples with margins of 0.5 everywhere, XOR with boolean masks
#   between the layers (h > 0) instead of (h + 1) / 2
# assignment: 01_perceptron
# %% id=gate_weights
def gate_weights():
    return {"AND": (-1.5, 1, 1), "OR": (-0.5, 1, 1), "NAND": (1.5, -1, -1)}
# %% id=xor_predict
def xor_predict(X01):
    g = {k: np.array(v, dtype=float) for k, v in gate_weights().items()}
    X1 = add_bias(X01)
    h = np.column_stack([perceptron_predict(X1, g["OR"]) > 0,
                         perceptron_predict(X1, g["NAND"]) > 0]).astype(float)
    return perceptron_predict(add_bias(h), g["AND"])
