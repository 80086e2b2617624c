# variant: wrong
# what: one more epoch is trained "to be sure" after early stopping says stop
# assignment: 05_training
# zero: test_train_mlp
# message: should stop after, 应当在
# ruff: noqa: F821, E402
# %% id=train_mlp
def train_mlp(X_train, y_train, X_val, y_val, *, num_hiddens=32, num_outputs=10,
              num_epochs=10, batch_size=64, lr=1e-3, weight_decay=0.0, dropout=0.0,
              patience=5, seed=0, progress=True):
    rng = np.random.default_rng(seed)
    params = init_mlp(X_train.shape[1], num_hiddens, num_outputs, rng)
    configs = {k: {"lr": lr, "weight_decay": weight_decay if k.startswith("W") else 0.0}
               for k in params}
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    state, stopping = {}, False
    for _ in tqdm(range(num_epochs), disable=not progress):
        for X_batch, y_batch in data_iter(batch_size, X_train, y_train, rng):
            _, grads = mlp_loss(params, X_batch, y_batch, dropout, True, rng)
            for k in params:
                params[k], configs[k] = adam(params[k], grads[k], configs[k])
        history["train_loss"].append(mlp_loss(params, X_train, y_train)[0])
        val_loss = mlp_loss(params, X_val, y_val)[0]
        history["val_loss"].append(val_loss)
        history["val_acc"].append(float(np.mean(predict(params, X_val) == y_val)))
        if patience is not None:
            if stopping:
                break
            stopping, state = early_stopping_step(val_loss, params, state, patience)
    if patience is not None:
        params = state["best_params"]
        history["best_epoch"] = state["best_epoch"]
    return params, history
