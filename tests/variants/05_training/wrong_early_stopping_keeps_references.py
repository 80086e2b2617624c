# variant: wrong
# what: the best parameters are kept as references to the caller's arrays, which training
#   goes on changing in place
# assignment: 05_training
# zero: test_early_stopping
# message: store copies, 保存副本
# ruff: noqa: F821, E402
# %% id=early_stopping
def early_stopping_step(val_loss, params, state, patience):
    state = dict(state)
    state["epoch"] = epoch = state.get("epoch", -1) + 1
    if val_loss < state.get("best_loss", np.inf):
        state["best_loss"], state["best_epoch"] = val_loss, epoch
        state["best_params"] = dict(params)
        state["bad_epochs"] = 0
    else:
        state["bad_epochs"] = state.get("bad_epochs", 0) + 1
    return state["bad_epochs"] >= patience, state
