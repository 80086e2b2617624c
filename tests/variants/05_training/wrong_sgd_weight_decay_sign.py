# variant: wrong
# what: weight decay subtracted from the gradient (pushes the weights away from zero)
# assignment: 05_training
# zero: test_sgd
# message: wrong sign, 符号反了
# ruff: noqa: F821, E402
# %% id=sgd
def sgd(w, dw, config):
    return w - config["lr"] * (dw - config.get("weight_decay", 0.0) * w), config
