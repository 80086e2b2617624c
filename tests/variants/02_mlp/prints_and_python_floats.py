# variant: correct
# what: debug prints in graded functions, Python floats for the losses, helper functions and
#   type hints in the solution cells, the bias b1 @ W2 written as a sum of rows
# assignment: 02_mlp
# %% id=collapse_affine
def collapse_affine(W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray):
    print("collapsing", W1.shape, W2.shape)
    W = W1 @ W2
    b = sum(b1[k] * W2[k] for k in range(W2.shape[0])) + b2
    return W, b
# %% id=mse
def _squared_errors(y_hat, y):
    return (y_hat - y) ** 2


def mse(y_hat: np.ndarray, y: np.ndarray) -> float:
    loss = float(np.mean(_squared_errors(y_hat, y)))
    print(f"mse = {loss:.4f}")
    return loss
# %% id=softmax_cross_entropy
def cross_entropy(Z, y) -> float:
    picked = log_softmax(Z)[np.arange(len(y)), y]
    print("picked log-probabilities:", picked)
    return float(-picked.sum() / len(y))
