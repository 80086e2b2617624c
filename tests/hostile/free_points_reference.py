# hostile: takes the grader's own reference implementations instead of writing anything:
#   imports them from where the check library keeps them (today's and yesterday's module
#   names), and falls back to wrong answers. In the sandbox the check library does not exist.
# assignment: 01_perceptron
# zero: test_pla_train, test_margin, test_radius, test_perceptron_bound
# flags: grader_internals
# %% id=pla_train
REFERENCE = {}
for _module in ("grader.checks.exercises.perceptron", "grader.exercises.perceptron",
                "grader.checks.references.perceptron"):
    try:
        REFERENCE = vars(__import__(_module, fromlist=["*"]))
        break
    except ImportError:
        continue


def pla_train(X, y, epochs=100):
    if "ref_pla" in REFERENCE:
        return REFERENCE["ref_pla"](X, y, epochs)
    return np.zeros(X.shape[1]), 0
# %% id=margin
def margin(X, y, theta):
    if "ref_margin" in REFERENCE:
        return REFERENCE["ref_margin"](X, y, theta)
    return 0.0
# %% id=radius
def radius(X):
    if "ref_radius" in REFERENCE:
        return REFERENCE["ref_radius"](X)
    return 0.0
