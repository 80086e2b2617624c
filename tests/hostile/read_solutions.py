# hostile: reads the instructor's notebook (hidden tests and answers) from solutions/ and
#   runs the reference code; without it, its answers are wrong.
# assignment: 01_perceptron
# zero: test_add_bias, test_radius, test_perceptron_bound, test_xor_predict
# flags: file:
# %% id=add_bias
import json
import os

STOLEN = {}
for _path in ["{SOLUTIONS}/01_perceptron/perceptron.ipynb",
              "../../../solutions/01_perceptron/perceptron.ipynb",
              "/work/main/solutions/01_perceptron/perceptron.ipynb"]:
    try:
        with open(_path, encoding="utf-8") as _handle:
            for _cell in json.load(_handle)["cells"]:
                if "### BEGIN SOLUTION" in "".join(_cell["source"]):
                    exec("".join(_cell["source"]), STOLEN)
        break
    except OSError:
        continue
try:
    os.listdir("{SOLUTIONS}")
except OSError:
    pass


def add_bias(X):
    if "add_bias" in STOLEN:
        return STOLEN["add_bias"](X)
    return X
# %% id=radius
def radius(X):
    if "radius" in STOLEN:
        return STOLEN["radius"](X)
    return -1.0
