# variant: wrong
# what: the learning rate folded into the velocity (v = beta v - lr g, w = w + v), the form
#   of many textbooks: same steps while lr is constant, a different optimiser once it changes
# assignment: 05_training
# zero: test_sgd_momentum
# message: folded into the velocity, 并进了速度
# ruff: noqa: F821, E402
# %% id=sgd_momentum
def sgd_momentum(w, dw, config):
    g = dw + config.get("weight_decay", 0.0) * w
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["lr"] * g
    return w + v, {**config, "velocity": v}
