# variant: wrong
# what: Adam computed in float32 (to save memory): right to about 7 digits
# assignment: 05_training
# zero: test_adam
# message: float32, float64
# ruff: noqa: F821, E402
# %% id=adam
def adam(w, dw, config):
    beta1 = np.float32(config.get("beta1", 0.9))
    beta2 = np.float32(config.get("beta2", 0.999))
    eps, lr = np.float32(config.get("eps", 1e-8)), np.float32(config["lr"])
    g = (dw + config.get("weight_decay", 0.0) * w).astype(np.float32)
    t = config.get("t", 0) + 1
    m = beta1 * config.get("m", np.zeros_like(g)) + (1 - beta1) * g
    v = beta2 * config.get("v", np.zeros_like(g)) + (1 - beta2) * g * g
    step = (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return w.astype(np.float32) - lr * step, {**config, "m": m, "v": v, "t": t}
