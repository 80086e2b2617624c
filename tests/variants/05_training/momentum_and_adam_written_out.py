# variant: correct
# what: momentum with the state copied by dict(config) and np.multiply; Adam with np.power,
#   ** 0.5 for the square root, the step counter read before it is incremented, the new
#   config made with config.copy() and update
# assignment: 05_training
# ruff: noqa: F821, E402
# %% id=sgd_momentum
def sgd_momentum(w, dw, config):
    new = dict(config)
    grad = np.add(dw, np.multiply(config.get("weight_decay", 0.0), w))
    if "velocity" in config:
        velocity = np.multiply(config["momentum"], config["velocity"]) + grad
    else:
        velocity = grad.copy()
    new["velocity"] = velocity
    return w - config["lr"] * velocity, new
# %% id=adam
def adam(w, dw, config):
    beta1 = config.get("beta1", 0.9)
    beta2 = config.get("beta2", 0.999)
    eps = config.get("eps", 1e-8)
    steps_before = config.get("t", 0)
    g = dw + config.get("weight_decay", 0) * w
    m = config.get("m", np.zeros(w.shape))
    v = config.get("v", np.zeros(w.shape))
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * np.power(g, 2)
    t = steps_before + 1
    m_hat = m / (1.0 - np.power(beta1, t))
    v_hat = v / (1.0 - np.power(beta2, t))
    new = config.copy()
    new.update(m=m, v=v, t=t)
    return w - config["lr"] * m_hat / (v_hat ** 0.5 + eps), new
