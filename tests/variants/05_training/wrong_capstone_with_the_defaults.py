# variant: wrong
# what: the capstone trained with train_mlp's defaults (no tuning on the validation split)
# assignment: 05_training
# zero: test_capstone
# message: held-out, 留出
# ruff: noqa: F821, E402
# %% id=capstone
def train_capstone(X_train, y_train, X_val, y_val, seed):
    return train_mlp(X_train, y_train, X_val, y_val, seed=seed, progress=False)
