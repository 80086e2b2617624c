# variant: wrong
# what: Adam without the bias correction of m and v
# assignment: 05_training
# zero: test_adam
# message: no bias correction, 偏差修正
# ruff: noqa: F821, E402
# %% id=adam
def adam(w, dw, config):
    beta1, beta2 = config.get("beta1", 0.9), config.get("beta2", 0.999)
    g = dw + config.get("weight_decay", 0.0) * w
    m = beta1 * config.get("m", np.zeros_like(w)) + (1 - beta1) * g
    v = beta2 * config.get("v", np.zeros_like(w)) + (1 - beta2) * g * g
    t = config.get("t", 0) + 1
    next_w = w - config["lr"] * m / (np.sqrt(v) + config.get("eps", 1e-8))
    return next_w, {**config, "m": m, "v": v, "t": t}
