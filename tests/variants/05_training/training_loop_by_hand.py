# variant: correct
# what: train_mlp with a while loop, early stopping written inline (no early_stopping_step),
#   the history filled with setdefault, the accuracy from argmax, a progress bar on stdout
#   that is switched off; a capstone with other hyperparameters
# assignment: 05_training
# ruff: noqa: F821, E402
# %% id=train_mlp
import sys


def train_mlp(X_train, y_train, X_val, y_val, *, num_hiddens=32, num_outputs=10,
              num_epochs=10, batch_size=64, lr=1e-3, weight_decay=0.0, dropout=0.0,
              patience=5, seed=0, progress=True):
    rng = np.random.default_rng(seed)
    params = init_mlp(X_train.shape[1], num_hiddens, num_outputs, rng)
    configs = {}
    for name in params:
        configs[name] = {"lr": lr, "weight_decay": 0.0 if name.startswith("b") else weight_decay}
    history = {}
    best_loss, best_epoch, best_params, waited = np.inf, 0, None, 0
    epoch = 0
    bar = tqdm(total=num_epochs, file=sys.stdout, disable=not progress)
    while epoch < num_epochs:
        for X_batch, y_batch in data_iter(batch_size, X_train, y_train, rng):
            _, grads = mlp_loss(params, X_batch, y_batch, dropout=dropout, train=True, rng=rng)
            for name in list(params):
                params[name], configs[name] = adam(params[name], grads[name], configs[name])
        val_loss = mlp_loss(params, X_val, y_val)[0]
        history.setdefault("train_loss", []).append(mlp_loss(params, X_train, y_train)[0])
        history.setdefault("val_loss", []).append(val_loss)
        history.setdefault("val_acc", []).append(float((predict(params, X_val) == y_val).mean()))
        bar.update(1)
        if patience is not None:
            if val_loss < best_loss:
                best_loss, best_epoch, waited = val_loss, epoch, 0
                best_params = {name: value.copy() for name, value in params.items()}
            else:
                waited += 1
                if waited >= patience:
                    break
        epoch += 1
    bar.close()
    if patience is None:
        return params, history
    history["best_epoch"] = best_epoch
    return best_params, history
# %% id=capstone
def train_capstone(X_train, y_train, X_val, y_val, seed):
    return train_mlp(X_train, y_train, X_val, y_val, num_hiddens=96, num_epochs=30,
                     batch_size=32, lr=4e-3, dropout=0.1, patience=6, seed=seed,
                     progress=False)
