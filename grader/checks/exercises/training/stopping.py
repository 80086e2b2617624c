"""5.8 early stopping and 5.9 the MLP's loss with dropout · 早停与带暂退法的 MLP 损失.

Early stopping is replayed epoch by epoch on scripted validation losses while the check,
like a training loop, changes the parameter arrays in place between epochs (so a state
that keeps references instead of copies shows it); the reference is a NumPy
implementation (an answer: :mod:`grader.checks.references.training`).

The MLP's loss is compared with autograd in three modes: eval mode with dropout > 0
(dropout must be off), train mode with dropout 0, and train mode with dropout > 0. The
last one needs the student's mask: it is what the student's ``dropout_forward`` draws
from a generator made from the same seed, so the autograd reference of that case runs
once the steps are done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import (
    Case,
    CheckFailure,
    Tolerance,
    compare_array,
    compare_value,
    mutated_failure,
    require_callable,
)
from grader.checks.exercises import register
from grader.checks.exercises.training.common import (
    ASSIGNMENT,
    fail,
    float_array,
    pair,
    ref,
    require_dict,
    require_key,
    same_object,
    torch,
)
from grader.checks.specs import Exercise, function_name, numbered, seeded
from grader.checks.steps import Done, Steps

# ===================================================================== 5.8 early stopping


def _as_flag(case: Case, name: str, value: Any) -> bool:
    __tracebackhide__ = True
    try:
        array = np.asarray(value)
        if array.shape == () and array.dtype.kind in "biu":
            return bool(array)
    except Exception:
        pass
    raise fail(case, "hdr_wrong_type", [M.bilingual(
        "wrong_type", indent="  ", name=name, expected="True or False",
        found=type(value).__name__)], kind="type", name=name)


@dataclass
class EarlyStoppingExercise(Exercise):
    """``stop, state = early_stopping_step(val_loss, params, state, patience)`` per epoch."""

    needs_solution: ClassVar[bool] = True
    VARIANTS: ClassVar[tuple] = (
        ("tie", "training_hint_es_tie"), ("late", "training_hint_es_off_by_one"),
        ("early", "training_hint_es_off_by_one"), ("no_reset", "training_hint_es_no_reset"))

    def make_cases(self, *, patience: int, sequences: Sequence[Sequence[float]],
                   seed: int = 0) -> list[Case]:
        found = []
        for index, losses in enumerate(sequences):
            losses = [float(v) for v in losses]
            rng = np.random.default_rng(seed + index)
            params = {"W1": rng.standard_normal((3, 2)), "b1": rng.standard_normal(2)}
            deltas = [{k: rng.standard_normal(v.shape) for k, v in params.items()}
                      for _ in losses]
            snapshots = [params]
            for delta in deltas[:-1]:  # training goes on and updates the arrays in place
                snapshots.append({k: snapshots[-1][k] + delta[k] for k in params})
            found.append(self.case(data={
                "losses": losses, "patience": int(patience), "deltas": deltas,
                "snapshots": snapshots}, description=(
                f"patience={int(patience)}, val losses {losses}, params W1 (3, 2) and b1 (2,) "
                f"updated in place after each epoch")))
        return found

    def prepare(self, case: Case) -> None:
        losses, patience = case.data["losses"], case.data["patience"]
        case.data["expected"] = ref().early_stopping(losses, patience)
        case.data["variants"] = {variant: ref().early_stopping(losses, patience, variant)[0]
                                 for variant, _ in self.VARIANTS}

    def drive(self, steps: Steps, case: Case, early_stopping_step: Any) -> dict:
        name = function_name(early_stopping_step, "early_stopping_step")
        require_callable(case, name, early_stopping_step)
        first = case.data["snapshots"][0]
        params = same_object(steps, {k: v.copy() for k, v in first.items()}, "params")
        arrays = {k: steps.item(params, k) for k in first}
        state: Any = {}
        calls = []
        for loss, delta in zip(case.data["losses"], case.data["deltas"], strict=True):
            made = steps.call(early_stopping_step, loss, params, state, case.data["patience"],
                              name=name, arg_names=("val_loss", "params", "state", "patience"))
            calls.append(made)
            state = steps.item(made, 1)
            for key, array in arrays.items():
                steps.method(array, "__iadd__", delta[key], name="training", fetch=False)
        return {"name": name, "calls": calls}

    def judge_all(self, cases: Sequence[Case], done: Done, plans: Sequence[Any]) -> None:
        __tracebackhide__ = True
        # every sequence is seen first, so that a mistake is named by what it does on all
        observed = []
        for case, plan in zip(cases, plans, strict=True):
            try:
                observed.append(self._replay(case, done, plan)[0])
            except CheckFailure:
                observed.append("invalid")
        for case, plan in zip(cases, plans, strict=True):
            case.data["observed"] = list(zip(cases, observed, strict=True))
            self.judge(case, done, plan)

    def _replay(self, case: Case, done: Done, plan: dict) -> tuple[int | None, dict]:
        """(epoch after which the student stopped or None, the state then)."""
        __tracebackhide__ = True
        name, state = plan["name"], {}
        for epoch, made in enumerate(plan["calls"]):
            stop, state = pair(case, name, done.value(case, made), "(stop, state)")
            state = require_dict(case, name, "state", state)
            if _as_flag(case, "stop", stop):
                return epoch, state
        return None, state

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        name = plan["name"]
        stopped_at, state = self._replay(case, done, plan)
        expected_stop, best_epoch = case.data["expected"]
        if stopped_at != expected_stop:
            raise self._wrong_stop(case, name, stopped_at, expected_stop)
        require_key(case, "state", state, "best_epoch", "training_es_missing")
        require_key(case, "state", state, "best_params", "training_es_missing")
        compare_value(case, "state['best_epoch']", best_epoch, state["best_epoch"])
        best = require_dict(case, name, "state['best_params']", state["best_params"])
        current = case.data["snapshots"][len(case.data["losses"]) - 1 if stopped_at is None
                                         else stopped_at]
        for key, value in case.data["snapshots"][best_epoch].items():
            require_key(case, "state['best_params']", best, key, "training_es_missing")
            compare_array(case, f"state['best_params']['{key}']", value, best[key],
                          alternatives=[("training_hint_es_last", current[key])])

    def _wrong_stop(self, case: Case, name: str, stopped_at, expected_stop) -> CheckFailure:
        def explains(variant: str, seen: list) -> bool:
            return all(other.data["variants"][variant] == found for other, found in seen
                       if found != "invalid")

        seen = case.data["observed"]
        hint = next((key for variant, key in self.VARIANTS if explains(variant, seen)), None)
        if hint is None:  # no known mistake fits every sequence: name one that fits this one
            hint = next((key for variant, key in self.VARIANTS
                         if explains(variant, [(case, stopped_at)])), None)
        values = {"patience": case.data["patience"], "losses": case.data["losses"]}
        if stopped_at is None:
            key, values["expected"] = "training_es_never", expected_stop
        elif expected_stop is None:
            key, values["found"] = "training_es_too_soon", stopped_at
        else:
            key, values["expected"], values["found"] = "training_es_stop_at", expected_stop, \
                stopped_at
        return fail(case, "training_hdr_stop", [M.bilingual(key, indent="  ", **values)],
                    hint=hint, name=name)


register(EarlyStoppingExercise(
    id="early_stopping",
    **numbered("5.8", "early stopping with patience", "带耐心值的早停", ASSIGNMENT),
))


# ====================================================================== 5.9 the MLP's loss

KEYS = ("W1", "b1", "W2", "b2")


def _mlp_reference(mask: Any = None, p: float = 0.0, backward: str = "mask"):
    """The MLP's loss in torch; with a mask, dropout on the hidden activations. ``backward``
    replays a mistake: "identity" (no dropout in the backward pass), "unscaled"."""

    def reference(X, y, W1, b1, W2, b2):
        t = torch()
        hidden = t.relu(X @ W1 + b1)
        if mask is not None:
            m = t.as_tensor(mask, dtype=t.float64)
            dropped = hidden * m / (1.0 - p)
            if backward == "identity":
                dropped = hidden + (dropped - hidden).detach()
            elif backward == "unscaled":
                dropped = hidden * m + (dropped - hidden * m).detach()
            elif backward == "not_scaled":  # an inverted dropout that forgot 1/(1 - p)
                dropped = hidden * m
            hidden = dropped
        return t.nn.functional.cross_entropy(hidden @ W2 + b2, y)

    return reference


@dataclass
class MlpLossExercise(Exercise):
    """``loss, grads = mlp_loss(params, X, y, dropout=0.0, train=False, rng=None)``.

    Affine → ReLU → dropout → affine → softmax cross-entropy, mean over the batch; the
    student's ``dropout_forward`` tells which mask a generator made from the case's seed
    draws for the hidden activations.
    """

    tol: Tolerance = field(default_factory=Tolerance)
    answer_text: tuple[str, ...] = ("relu_backward(dropout_backward(",)

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   dropout: float = 0.5) -> list[Case]:
        found = []
        for seed, shape, rng in seeded(seeds, shapes):
            n, d, h, c = (int(v) for v in shape)
            inputs = {
                "X": rng.standard_normal((n, d)),
                "y": rng.integers(0, c, size=n),
                "W1": rng.standard_normal((d, h)) * np.sqrt(2.0 / d),
                "b1": rng.standard_normal(h) * 0.1,
                "W2": rng.standard_normal((h, c)) * np.sqrt(2.0 / (h + c)),
                "b2": rng.standard_normal(c) * 0.1,
            }
            for train, p in ((False, float(dropout)), (True, 0.0), (True, float(dropout))):
                found.append(self.case(seed=seed, inputs=inputs, data={
                    "train": train, "p": p, "hidden": (n, h)}, description=(
                    f"seed={seed}, X.shape={(n, d)}, y.shape={(n,)}, W1.shape={(d, h)}, "
                    f"W2.shape={(h, c)}, dropout={p:g}, train={train}, "
                    f"rng=np.random.default_rng({seed})")))
        return found

    def prepare(self, case: Case) -> None:
        case.data["loss"], case.data["grads"] = torchref.evaluate(_mlp_reference(), case.inputs,
                                                                  KEYS)

    def drive(self, steps: Steps, case: Case, mlp_loss: Any, dropout_forward: Any) -> dict:
        names = {"loss": function_name(mlp_loss, "mlp_loss"),
                 "dropout": function_name(dropout_forward, "dropout_forward")}
        require_callable(case, names["loss"], mlp_loss)
        require_callable(case, names["dropout"], dropout_forward)
        p, train = case.data["p"], case.data["train"]
        params = same_object(steps, {k: case.inputs[k].copy() for k in KEYS}, "params")
        made = steps.call(mlp_loss, params, case.inputs["X"], case.inputs["y"], name=names["loss"],
                          arg_names=("params", "X", "y"), dropout=p, train=train,
                          rng=np.random.default_rng(case.seed))
        after = steps.method(params, "copy", name=names["loss"])  # params as mlp_loss left them
        mask = None
        if p > 0:  # the mask this seed gives, drawn by the student's own dropout
            mask = steps.call(dropout_forward, np.ones(case.data["hidden"]), p, True,
                              np.random.default_rng(case.seed), name=names["dropout"],
                              arg_names=("x", "p", "train", "rng"))
        return {"names": names, "call": made, "after": after, "mask": mask}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        name, p, train = plan["names"]["loss"], case.data["p"], case.data["train"]
        loss, grads = pair(case, name, done.value(case, plan["call"]), "(loss, grads)")
        after = done.value(case, plan["after"])
        for key in KEYS:
            if not (isinstance(after, dict) and np.array_equal(after.get(key), case.inputs[key])):
                raise mutated_failure(case, name, f"params['{key}']")
        expected_loss, expected = case.data["loss"], case.data["grads"]
        alternatives: dict[str, list] = {key: [] for key in ("loss", *KEYS)}
        if plan["mask"] is not None:
            out, _ = pair(case, plan["names"]["dropout"], done.value(case, plan["mask"]),
                          "(out, cache)")
            mask = float_array(case, "out", out, case.data["hidden"]) != 0

            def variant(hint: str, backward: str = "mask", keys=KEYS) -> None:
                value, gradients = torchref.evaluate(_mlp_reference(mask, p, backward),
                                                     case.inputs, KEYS)
                if backward in ("mask", "not_scaled"):
                    alternatives["loss"].append((hint, value))
                for key in keys:
                    alternatives[key].append((hint, gradients[key]))

            if train:
                expected_loss, expected = torchref.evaluate(_mlp_reference(mask, p), case.inputs,
                                                            KEYS)
                for key in ("loss", *KEYS):
                    alternatives[key].append(("training_hint_mlp_no_dropout",
                                              case.data["loss"] if key == "loss"
                                              else case.data["grads"][key]))
                variant("training_hint_mlp_dropout_not_scaled", "not_scaled")
                variant("training_hint_mlp_no_dropout_backward", "identity", ("W1", "b1"))
                variant("training_hint_mlp_dropout_unscaled", "unscaled", ("W1", "b1"))
            else:
                variant("training_hint_mlp_eval_dropout")
        n = len(case.inputs["y"])
        try:
            compare_array(case, "loss", expected_loss, loss, tol=self.tol, batch_size=n,
                          alternatives=alternatives["loss"], header_key="hdr_mismatch_autograd")
            grads = require_dict(case, name, "grads", grads)
            for key in KEYS:
                require_key(case, "grads", grads, key, "training_missing_grad")
                compare_array(case, f"d{key} (grads['{key}'])", expected[key], grads[key],
                              tol=self.tol, batch_size=n, alternatives=alternatives[key],
                              header_key="hdr_mismatch_autograd")
        except CheckFailure as failure:
            message = failure.args[0]
            if not (train and p > 0) or "Likely mistake" in message or failure.kind != "wrong":
                raise
            # right without dropout (those cases come first), wrong with it
            raise CheckFailure(message + "\n" + M.bilingual("training_hint_mlp_mask", indent="  "),
                               kind=failure.kind, exercise=failure.exercise) from None


register(MlpLossExercise(
    id="mlp_loss_dropout",
    **numbered("5.9", "the MLP's loss and gradients", "MLP 的损失与梯度", ASSIGNMENT),
))
