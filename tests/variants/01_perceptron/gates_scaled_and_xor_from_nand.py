# variant: correct
# what: other valid gate weights (scaled, as lists), XOR built from NAND gates only
#   (NAND(NAND(a, n), NAND(b, n)) with n = NAND(a, b)), with a helper that maps ±1 to 0/1
# assignment: 01_perceptron
# %% id=gate_weights
def gate_weights():
    return {"AND": [-3.0, 2.0, 2.0], "OR": [-1.0, 2.0, 2.0], "NAND": [3.0, -2.0, -2.0]}
# %% id=xor_predict
def _to01(labels):
    return (np.asarray(labels) > 0).astype(float)


def _nand(a, b):
    theta = np.asarray(gate_weights()["NAND"], dtype=float)
    return _to01(perceptron_predict(add_bias(np.column_stack([a, b])), theta))


def xor_predict(X01):
    a, b = X01[:, 0], X01[:, 1]
    n = _nand(a, b)
    out = _nand(_nand(a, n), _nand(b, n))
    return np.where(out > 0, 1, -1)
