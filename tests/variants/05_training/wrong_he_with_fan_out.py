# variant: wrong
# what: He initialisation scaled by fan_out instead of fan_in
# assignment: 05_training
# zero: test_init_schemes
# message: fan_out used where fan_in belongs, 该用 fan_in 的地方用了 fan_out
# ruff: noqa: F821, E402
# %% id=init_schemes
def glorot_init(fan_in, fan_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))


def he_init(fan_in, fan_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / fan_out), size=(fan_in, fan_out))
