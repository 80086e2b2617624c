# hostile: redefines the check helpers (in its namespace and in the grader package) so that
#   in-kernel test cells pass whatever the answer; add_bias is wrong.
# assignment: 01_perceptron
# zero: test_add_bias, test_xor_predict
# flags: redefined_check, patched_grader
# %% id=add_bias
import grader


def check_function(*args, **kwargs):
    print("✓ all checks passed.")


def check(*args, **kwargs):
    print("✓ all checks passed.")


grader.check_function = check_function
grader.check = check


def add_bias(X):
    return X
