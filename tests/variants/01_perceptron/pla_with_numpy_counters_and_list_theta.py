# variant: correct
# what: PLA that keeps its mistake count in a NumPy integer and returns theta as a list,
#   a `for ... else` to stop after a clean epoch
# assignment: 01_perceptron
# %% id=pla_train
def pla_train(X, y, epochs):
    theta = np.zeros(X.shape[1])
    mistakes = np.int64(0)
    for _ in range(epochs):
        wrong = np.int64(0)
        for x_i, y_i in zip(X, y):
            if np.sign(y_i * (x_i @ theta)) <= 0:
                theta = theta + y_i * x_i
                wrong += 1
        mistakes += wrong
        if wrong == 0:
            break
    return list(theta), mistakes
