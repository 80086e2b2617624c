"""5.10 the training loop and 5.11 the capstone on the digits · 训练循环与综合练习.

``train_mlp`` is graded by what its docstring promises, on the check's own split of the
digits (scikit-learn's, loaded here: the sandbox has no scikit-learn and needs none):
the history has one entry per epoch trained; with early stopping, training stops exactly
``patience`` epochs after the best one and ``best_epoch`` is the first minimum of the
validation loss; the returned parameters are those of the best epoch (without early
stopping: of the last), which the check tells from their losses and accuracy, computed
here in eval mode. A case with shuffled validation labels makes the validation loss
rise, so early stopping must happen.

The capstone trains with the student's chosen hyperparameters on a split made from the
call's seed (in the grade of record, a seed of each student's own) and needs a held-out
accuracy no default setting reaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks.compare import Case, Tolerance, require_callable
from grader.checks.exercises import register
from grader.checks.exercises.training.common import (
    ASSIGNMENT,
    digits_split,
    fail,
    float_array,
    mlp_eval,
    pair,
    pct,
    require_dict,
    require_key,
)
from grader.checks.specs import Exercise, function_name, numbered
from grader.checks.steps import Done, Steps

HISTORY = ("train_loss", "val_loss", "val_acc")


def _split_text(seed: int) -> str:
    return (f"seed={seed}: digits scaled to [0, 1], split 60/20/20 by "
            f"np.random.default_rng({seed}).permutation")


def _params(case: Case, params: Any, hidden: int | None) -> dict:
    """The MLP's parameters as float arrays of the documented shapes, or a failure."""
    __tracebackhide__ = True
    params = require_dict(case, "train_mlp", "params", params)
    for key in ("W1", "b1", "W2", "b2"):
        require_key(case, "params", params, key, "training_missing_key")
    if hidden is None:
        hidden = int(np.shape(params["b1"])[0]) if np.ndim(params["b1"]) == 1 else -1
    shapes = {"W1": (64, hidden), "b1": (hidden,), "W2": (hidden, 10), "b2": (10,)}
    return {key: float_array(case, f"params['{key}']", params[key], shape)
            for key, shape in shapes.items()}


@dataclass
class TrainMlpExercise(Exercise):
    """``params, history = train_mlp(X_train, y_train, X_val, y_val, **settings)``."""

    def make_cases(self, *, seeds: Sequence[int], num_hiddens: int = 32, num_epochs: int = 15,
                   batch_size: int = 64, lr: float = 1e-2, dropout: float = 0.2,
                   weight_decay: float = 1e-4, patience: int = 3) -> list[Case]:
        settings = {"num_hiddens": int(num_hiddens), "batch_size": int(batch_size),
                    "lr": float(lr), "dropout": float(dropout),
                    "weight_decay": float(weight_decay)}
        found = []
        for seed in seeds:
            split = digits_split(seed)
            shuffled = np.random.default_rng(seed).permutation(split["y_val"])
            for labels, epochs, wait in ((shuffled, int(num_epochs), int(patience)),
                                         (split["y_val"], max(2, int(num_epochs) // 4), None)):
                kwargs = {**settings, "num_epochs": epochs, "patience": wait, "seed": seed,
                          "progress": False}
                shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
                note = "; y_val shuffled, so the validation loss rises" if wait else ""
                found.append(self.case(seed=seed, data={
                    "inputs": (split["X_train"], split["y_train"], split["X_val"], labels),
                    "kwargs": kwargs}, description=f"{_split_text(seed)}{note}; train_mlp("
                                                   f"X_train, y_train, X_val, y_val, {shown})"))
        return found

    def drive(self, steps: Steps, case: Case, train_mlp: Any) -> dict:
        name = function_name(train_mlp, "train_mlp")
        require_callable(case, name, train_mlp)
        return {"name": name, "call": steps.call(
            train_mlp, *case.data["inputs"], name=name, **case.data["kwargs"],
            arg_names=("X_train", "y_train", "X_val", "y_val"))}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        name, kwargs = plan["name"], case.data["kwargs"]
        params, history = pair(case, name, done.value(case, plan["call"]), "(params, history)")
        params = _params(case, params, kwargs["num_hiddens"])
        history = require_dict(case, name, "history", history)
        lists = {key: require_key(case, "history", history, key, "training_missing_key")
                 for key in HISTORY}
        lengths = {key: len(value) if isinstance(value, (list, tuple, np.ndarray)) else -1
                   for key, value in lists.items()}
        count = lengths["val_loss"]
        if len(set(lengths.values())) != 1 or not 1 <= count <= kwargs["num_epochs"]:
            raise fail(case, "training_hdr_history", [M.bilingual(
                "training_history_lengths", indent="  ", lengths=lengths,
                num_epochs=kwargs["num_epochs"])], name="history")
        values = {key: float_array(case, f"history['{key}']", value, (count,))
                  for key, value in lists.items()}
        patience = kwargs["patience"]
        if patience is None:
            chosen = count - 1
            if count != kwargs["num_epochs"]:
                raise fail(case, "training_hdr_history", [M.bilingual(
                    "training_no_stop", indent="  ", found=count,
                    num_epochs=kwargs["num_epochs"])], name="history")
        else:
            chosen = self._judge_stopping(case, history, values["val_loss"], patience,
                                          kwargs["num_epochs"])
        self._judge_params(case, params, values, chosen, count - 1, patience)

    def _judge_stopping(self, case: Case, history: dict, val_loss: np.ndarray, patience: int,
                        num_epochs: int) -> int:
        """The best epoch (the first minimum) and the stop ``patience`` epochs after it."""
        __tracebackhide__ = True
        count = len(val_loss)
        firsts = [int(np.argmin(val_loss[:e + 1])) for e in range(count)]
        stop = next((e for e in range(count) if e - firsts[e] >= patience), None)
        if stop is not None and stop != count - 1:
            raise fail(case, "training_hdr_history", [M.bilingual(
                "training_stop_late", indent="  ", patience=patience, best=firsts[stop],
                expected=stop + 1, found=count)], name="history")
        if stop is None and count != num_epochs:
            raise fail(case, "training_hdr_history", [M.bilingual(
                "training_stop_early", indent="  ", patience=patience, best=firsts[-1],
                found=count, num_epochs=num_epochs)], name="history")
        best = firsts[-1]
        found = require_key(case, "history", history, "best_epoch", "training_missing_key")
        if not (isinstance(found, (int, np.integer)) and int(found) == best):
            raise fail(case, "training_hdr_history", [M.bilingual(
                "training_best_epoch", indent="  ", found=repr(found), expected=best)],
                name="history['best_epoch']")
        return best

    def _judge_params(self, case: Case, params: dict, values: dict, chosen: int, last: int,
                      patience: int | None) -> None:
        """The returned parameters give the losses and accuracy the history has at ``chosen``."""
        __tracebackhide__ = True
        X_train, y_train, X_val, y_val = case.data["inputs"]
        train_loss, _ = mlp_eval(params, X_train, y_train)
        val_loss, val_acc = mlp_eval(params, X_val, y_val)
        tol = Tolerance(rtol=1e-6, atol=1e-9)
        hint = "training_hint_not_best" if patience is not None else "training_hint_not_last"
        for key, value in (("val_loss", val_loss), ("train_loss", train_loss),
                           ("val_acc", val_acc)):
            recorded = values[key]
            if tol.close(np.asarray(value), np.asarray(recorded[chosen])):
                continue
            other = np.flatnonzero(tol.close(np.full(len(recorded), value), recorded))
            lines = [M.bilingual("training_history_value", indent="  ", entry=key, epoch=chosen,
                                 found=f"{recorded[chosen]:.6g}", expected=f"{value:.6g}")]
            if key == "val_loss" and len(other):
                lines.append(M.bilingual(hint, indent="  ", epoch=int(other[0]), chosen=chosen))
            elif key == "train_loss":
                lines.append(M.bilingual("training_hint_eval_mode", indent="  "))
            raise fail(case, "training_hdr_params", lines, name="params")


register(TrainMlpExercise(
    id="train_mlp",
    **numbered("5.10", "the training loop", "训练循环", ASSIGNMENT),
))


@dataclass
class CapstoneExercise(Exercise):
    """``params, history = train_capstone(X_train, y_train, X_val, y_val, seed=seed)`` (the
    student's chosen training), then ``predict(params, X_test)`` on a held-out split: the
    accuracy must reach ``threshold``."""

    def make_cases(self, *, seeds: Sequence[int], threshold: float) -> list[Case]:
        return [self.case(seed=seed, data={"split": digits_split(seed),
                                           "threshold": float(threshold)},
                          description=_split_text(seed)) for seed in seeds]

    def drive(self, steps: Steps, case: Case, train_capstone: Any, predict: Any) -> dict:
        names = {"train": function_name(train_capstone, "train_capstone"),
                 "predict": function_name(predict, "predict")}
        require_callable(case, names["train"], train_capstone)
        require_callable(case, names["predict"], predict)
        split = case.data["split"]
        case.description += (f"; {names['train']}(X_train, y_train, X_val, y_val, "
                             f"seed={case.seed}), then {names['predict']}(params, X_test)")
        made = steps.call(train_capstone, split["X_train"], split["y_train"], split["X_val"],
                          split["y_val"], name=names["train"], seed=case.seed,
                          arg_names=("X_train", "y_train", "X_val", "y_val"))
        predicted = steps.call(predict, steps.item(made, 0), split["X_test"],
                               name=names["predict"], arg_names=("params", "X_test"))
        return {"names": names, "train": made, "predict": predicted}

    def judge_all(self, cases: Sequence[Case], done: Done, plans: Sequence[Any]) -> None:
        __tracebackhide__ = True
        super().judge_all(cases, done, plans)
        for case in cases:
            print(M.bilingual("training_accuracy", accuracy=pct(case.data["accuracy"]),
                              count=len(case.data["split"]["y_test"]),
                              threshold=pct(case.data["threshold"])))

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        pair(case, plan["names"]["train"], done.value(case, plan["train"]), "(params, history)")
        y_test = case.data["split"]["y_test"]
        y_hat = np.asarray(done.value(case, plan["predict"]))
        if y_hat.shape != y_test.shape:
            raise fail(case, "hdr_wrong_shape", [M.bilingual(
                "wrong_shape", indent="  ", name="y_hat", found=y_hat.shape,
                expected=y_test.shape)], name="y_hat")
        accuracy = float(np.mean(y_hat == y_test))
        case.data["accuracy"] = accuracy
        if not accuracy >= case.data["threshold"]:
            raise fail(case, "training_hdr_accuracy", [M.bilingual(
                "training_accuracy_low", indent="  ", accuracy=pct(accuracy), count=len(y_test),
                threshold=pct(case.data["threshold"]))], name="y_hat")


register(CapstoneExercise(
    id="capstone",
    **numbered("5.11", "capstone: tune the MLP on the digits", "综合练习：在手写数字上调优 MLP", ASSIGNMENT),
))

