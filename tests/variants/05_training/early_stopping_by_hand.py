# variant: correct
# what: early stopping with copy.deepcopy, its own key names and a counter compared with
#   ">= patience" after the update; the state copied with state.copy()
# assignment: 05_training
# ruff: noqa: F821, E402
# %% id=early_stopping
import copy


def early_stopping_step(val_loss, params, state, patience):
    state = state.copy()
    epoch = state.get("seen", 0)
    state["seen"] = epoch + 1
    if "best_epoch" not in state or val_loss < state["lowest"]:
        state["lowest"] = val_loss
        state["best_epoch"] = epoch
        state["best_params"] = copy.deepcopy(params)
        state["wait"] = 0
    else:
        state["wait"] = state["wait"] + 1
    return state["wait"] >= patience, state
