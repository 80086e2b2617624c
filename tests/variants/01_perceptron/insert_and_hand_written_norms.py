# variant: correct
# what: the bias column with np.insert, predictions from a list comprehension (ints,
#   made an array), the radius as the square root of the largest squared norm (math.sqrt), the
#   margin with np.sqrt(theta @ theta), the bound computed inline without radius and margin
# assignment: 01_perceptron
# %% id=add_bias
def add_bias(X):
    return np.insert(X, 0, 1.0, axis=1)
# %% id=perceptron_predict
def perceptron_predict(X, theta):
    return np.array([1 if float(row @ theta) >= 0 else -1 for row in X])
# %% id=margin
def margin(X, y, theta):
    return np.min(y * (X @ theta)) / np.sqrt(theta @ theta)
# %% id=radius
import math


def radius(X):
    return math.sqrt(max(float(row @ row) for row in X))
# %% id=perceptron_bound
def perceptron_bound(X, y, theta_star):
    R = np.linalg.norm(X, axis=1).max()
    gamma = (y * (X @ theta_star)).min() / np.linalg.norm(theta_star)
    return float(R * R / (gamma * gamma))
