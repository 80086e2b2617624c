# variant: wrong
# what: the bound written as R / gamma, the square forgotten
# assignment: 01_perceptron
# zero: test_perceptron_bound
# message: `bound`, (R/gamma)^2
# %% id=perceptron_bound
def perceptron_bound(X, y, theta_star):
    return radius(X) / margin(X, y, theta_star)
