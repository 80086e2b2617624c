# variant: wrong
# what: theta updated on every example, mistakes counted apart
# assignment: 01_perceptron
# zero: test_pla_train, test_perceptron_bound
# message: only on a mistake, 分类错误时更新
# %% id=pla_train
def pla_train(X, y, epochs):
    theta = np.zeros(X.shape[1])
    mistakes = 0
    for _ in range(epochs):
        clean = True
        for x_i, y_i in zip(X, y):
            if y_i * (x_i @ theta) <= 0:
                mistakes += 1
                clean = False
            theta = theta + y_i * x_i
        if clean:
            break
    return theta, mistakes
