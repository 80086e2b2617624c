"""4.10 · one training step with the student's modules, optimiser and cross-entropy,
against ``torch.nn`` + ``torch.optim.SGD`` on the same weights, step after step; known
wrong orders of ``zero_grad``, ``backward`` and ``step`` are replayed to name the mistake."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import Case, CheckFailure, Tolerance, is_plain, require_callable
from grader.checks.exercises import register
from grader.checks.exercises.autodiff import nets
from grader.checks.exercises.autodiff.common import (
    EngineExercise,
    as_number,
    compare,
    read_array,
    step_value,
)
from grader.checks.exercises.autodiff.programs import TOL
from grader.checks.specs import numbered, seeded
from grader.checks.steps import Done, Steps

ASSIGNMENT = "04_autodiff"

# ---------------------------------------------------------------------- 4.10 train_step


@dataclass
class TrainStepExercise(EngineExercise):
    """``check(id, Tensor, Linear, ReLU, Sequential, SGD, train_step, seeds=[...],
    sizes=[(N, d0, ..., dk)], lrs=[...])``: the student's model and optimiser with known
    weights, one ``train_step`` per learning rate on a new batch each time; every returned
    loss and every parameter after each step against ``torch.nn`` + ``torch.optim.SGD``."""

    def make_cases(self, *, seeds: Sequence[int], sizes: Sequence[tuple],
                   lrs: Sequence[float]) -> list[Case]:
        found = []
        for seed, size, rng in seeded(seeds, sizes):
            data, network = nets.known_network(rng, seed, size)
            batches = [(rng.standard_normal((size[0], size[1])),
                        rng.integers(0, size[-1], size=size[0])) for _ in lrs]
            found.append(self.case(
                seed=seed, inputs={"X": batches[0][0], "y": batches[0][1]},
                data={**data, "batches": batches, "lrs": [float(v) for v in lrs]},
                description=(f"{network}, SGD with learning rates {list(lrs)}, one "
                             f"train_step per rate on batches of {size[0]}, seed={seed}")))
        return found

    @staticmethod
    def _torch(pairs, weights, batches, lrs) -> tuple[list[float], list[list[np.ndarray]]]:
        """Losses and parameters after each step, with torch.nn and torch.optim.SGD."""
        torch = torchref.torch
        net, linears = nets.torch_model(pairs, weights)
        opt = torch.optim.SGD(net.parameters(), lr=lrs[0])
        losses, params = [], []
        for (X, y), lr in zip(batches, lrs, strict=True):
            opt.param_groups[0]["lr"] = lr
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(torch.tensor(X)), torch.tensor(y))
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            params.append(nets.torch_params(linears))
        return losses, params

    @staticmethod
    def _mistake(pairs, weights, batches, lrs, order: str):
        """What a training step in a known wrong order gives, step by step (the gradient of
        each batch from torch.autograd, the update written out)."""
        torch = torchref.torch
        net, linears = nets.torch_model(pairs, weights)
        tensors = [t for layer in linears for t in (layer.weight, layer.bias)]
        kept = [torch.zeros_like(t) for t in tensors]  # what .grad holds between steps
        losses, params = [], []
        for (X, y), lr in zip(batches, lrs, strict=True):
            def loss_now(X=X, y=y):
                return torch.nn.functional.cross_entropy(net(torch.tensor(X)), torch.tensor(y))

            loss = loss_now()
            grads = torch.autograd.grad(loss, tensors)
            with torch.no_grad():
                if order == "no_zero_grad":  # every gradient adds to the earlier ones
                    kept = [k + g for k, g in zip(kept, grads, strict=True)]
                    update = kept
                elif order == "no_update":  # zero_grad() or step() in the wrong place
                    update = None
                else:  # loss_after: the right update, but the loss read after it
                    update = grads
                for t, g in zip(tensors, update or (), strict=False):
                    t -= lr * g
                if order == "loss_after":
                    loss = loss_now()
            losses.append(float(loss.detach()))
            params.append(nets.torch_params(linears))
        return losses, params

    def prepare(self, case: Case) -> None:
        data = case.data
        args = (data["pairs"], data["weights"], data["batches"], data["lrs"])
        data["losses"], data["params"] = self._torch(*args)
        data["wrong"] = {order: self._mistake(*args, order) for order in
                         ("no_zero_grad", "no_update", "loss_after")}

    def drive(self, steps: Steps, case: Case, Tensor: Any, Linear: Any, ReLU: Any,
              Sequential: Any, SGD: Any, train_step: Any) -> dict:
        __tracebackhide__ = True
        classes = {"Tensor": Tensor, "Linear": Linear, "ReLU": ReLU, "Sequential": Sequential,
                   "SGD": SGD}
        names = nets.student_classes(case, classes)
        require_callable(case, "train_step", train_step)
        data = case.data
        model, (length, params, plist) = nets.student_model(steps, case, classes, names)
        nets.load_weights(steps, params, data["weights"], names)
        opt = steps.call(SGD, plist, lr=data["lrs"][0], name=names["SGD"],
                         arg_names=("params",), fetch=False)
        losses, after = [], []
        for t, ((X, y), lr) in enumerate(zip(data["batches"], data["lrs"], strict=True)):
            if t and lr != data["lrs"][t - 1]:
                steps.method(opt, "__setattr__", "lr", lr, name=f"{names['SGD']}.lr",
                             fetch=False)
            losses.append(steps.call(train_step, model, opt, X, y, name="train_step",
                                     arg_names=("model", "optimizer", "X", "y")))
            after.append([steps.attr(p, "data", name="train_step") for p in params])
        return {"names": names, "length": length, "losses": losses, "after": after}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        data = case.data
        names = nets.param_names(data["pairs"])
        nets.check_count(case, done, plan["length"], len(names), f"{plan['names']['Sequential']}(...)")
        for t, (loss_ref, refs) in enumerate(zip(plan["losses"], plan["after"], strict=True)):
            loss = step_value(case, done, loss_ref)
            if as_number(loss) is None:
                raise case.failure(
                    "hdr_wrong_type",
                    M.bilingual("autodiff_loss_float", indent="  ",
                                found=type(loss).__name__ if is_plain(loss) else
                                M.text("autodiff_found_other", attr="data")),
                    kind="type", name="train_step(...)")
            wrong = data["wrong"]
            self._compare(case, f"loss returned by step {t + 1}", data["losses"][t], loss,
                          [(f"autodiff_hint_{order}", wrong[order][0][t]) for order in wrong],
                          first=t == 0)
            for j, ref in enumerate(refs):
                value = read_array(case, done, ref, "train_step", plan["names"]["Tensor"])
                self._compare(case, f"{names[j]}.data after step {t + 1}",
                              data["params"][t][j], value,
                              [(f"autodiff_hint_{order}", wrong[order][1][t][j])
                               for order in wrong], first=False)

    @staticmethod
    def _compare(case: Case, name: str, expected: Any, actual: Any, alternatives: list,
                 first: bool) -> None:
        """``compare``; a wrong first loss that no known order explains also says that
        train_step builds on the earlier exercises."""
        __tracebackhide__ = True
        try:
            compare(case, name, expected, actual, tol=TOL, alternatives=alternatives)
        except CheckFailure as failure:
            loose = Tolerance(TOL.rtol * 10, TOL.atol * 10)
            explained = any(np.shape(alt) == np.shape(actual)
                            and bool(np.all(loose.close(np.asarray(actual, dtype=np.float64),
                                                        np.asarray(alt, dtype=np.float64))))
                            for _, alt in alternatives)
            if not first or explained:
                raise
            raise CheckFailure(failure.args[0] + "\n"
                               + M.bilingual("autodiff_hint_builds_on", indent="  "),
                               kind=failure.kind, exercise=failure.exercise) from None


register(TrainStepExercise(
    id="module_train_step",
    answer_text=("optimizer.zero_grad()\n    loss = cross_entropy(model(Tensor(X)), y)",),
    **numbered("4.10", "one training step", "一个训练步", ASSIGNMENT),
))
