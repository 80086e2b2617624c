# variant: correct
# what: Glorot from a uniform on [-a, a] with a = sqrt(6 / (fan_in + fan_out)), He by scaling
#   rng.standard_normal; dropout's mask from rng.binomial, the cache a tuple (mask, p), eval
#   mode returning x itself
# assignment: 05_training
# ruff: noqa: F821, E402
# %% id=init_schemes
def glorot_init(fan_in, fan_out, rng):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def he_init(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
# %% id=dropout
def dropout_forward(x, p, train, rng):
    if not train:
        return x, None
    mask = rng.binomial(1, 1 - p, size=x.shape)
    return x * mask / (1 - p), (mask, p)


def dropout_backward(dout, cache):
    if cache is None:
        return dout
    mask, p = cache
    return dout * mask / (1 - p)
