# variant: wrong
# what: both schedules count epochs from 1 (epoch 0 already decayed)
# assignment: 05_training
# zero: test_lr_decay
# message: off by one epoch, 差了一轮
# ruff: noqa: F821, E402
# %% id=lr_decay
def exponential_decay(lr, gamma, epoch):
    return lr * gamma ** (epoch + 1)


def inverse_time_decay(lr, decay, epoch):
    return lr / (1 + decay * (epoch + 1))
