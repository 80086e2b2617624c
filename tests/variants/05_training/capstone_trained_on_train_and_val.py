# variant: correct
# what: the capstone's epochs chosen on the validation split, then one model trained on
#   training and validation data together, without early stopping
# assignment: 05_training
# ruff: noqa: F821, E402
# %% id=capstone
def train_capstone(X_train, y_train, X_val, y_val, seed):
    X_all = np.concatenate([X_train, X_val])
    y_all = np.concatenate([y_train, y_val])
    return train_mlp(X_all, y_all, X_val, y_val, num_hiddens=128, num_epochs=20, batch_size=32,
                     lr=3e-3, weight_decay=1e-4, patience=None, seed=seed, progress=False)
