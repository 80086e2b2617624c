"""5.1 the mini-batch iterator, 5.6 initialisation, 5.7 dropout · 小批量、初始化、暂退法.

These three draw random numbers from a generator the check hands them, so they are graded
by what must hold for any draw: every example once per epoch, a fresh order each epoch,
the same order from the same seed; a weight matrix's mean and variance over many draws;
the kept fraction of a dropout mask, the expectation it preserves, and forward and
backward against autograd with the student's own mask (read back from the output). Every
call of one check call runs in one batch of steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import Case, Tolerance, compare_array, require_callable
from grader.checks.exercises import register
from grader.checks.exercises.training.common import (
    ASSIGNMENT,
    fail,
    float_array,
    fmt,
    pair,
    pct,
    same_object,
)
from grader.checks.specs import Exercise, function_name, numbered, seeded
from grader.checks.steps import Done, Steps

# ======================================================================= 5.1 mini-batches


def _short_list(values: Sequence[int], limit: int = 12) -> str:
    if len(values) <= limit:
        return str(list(values))
    head = ", ".join(str(v) for v in values[: limit - 2])
    return f"[{head}, …, {values[-1]}] ({len(values)} batches)"


@dataclass
class DataIterExercise(Exercise):
    """``data_iter(batch_size, X, y, rng)`` yields ``(X_batch, y_batch)`` for one epoch.

    The labels are distinct numbers, so each yielded row names its example. One generator
    serves ``num_epochs`` calls, as in a training loop; one more call with a generator made
    from the same seed must repeat the first epoch.
    """

    answer_text: tuple[str, ...] = ("rng.permutation(len(X))",)

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   batch_sizes: Sequence[int], num_epochs: int = 3) -> list[Case]:
        found = []
        for seed in seeds:
            for shape in shapes:
                for batch_size in batch_sizes:
                    data = np.random.default_rng(seed)
                    X = data.standard_normal(tuple(shape))
                    y = data.permutation(shape[0]) + 100  # distinct labels name each example
                    found.append(self.case(
                        seed=seed, inputs={"X": X, "y": y},
                        data={"batch_size": int(batch_size), "num_epochs": int(num_epochs)},
                        description=f"seed={seed}, X.shape={tuple(shape)}, y.shape={(shape[0],)}, "
                                    f"batch_size={batch_size}, rng=np.random.default_rng({seed})"))
        return found

    def drive(self, steps: Steps, case: Case, data_iter: Any) -> dict:
        name = function_name(data_iter, "data_iter")
        require_callable(case, name, data_iter)
        X, y, batch_size = case.inputs["X"], case.inputs["y"], case.data["batch_size"]

        def epoch(rng: Any) -> Any:
            made = steps.call(data_iter, batch_size, X, y, rng, name=name, fetch=False,
                              arg_names=("batch_size", "X", "y", "rng"))
            # run the generator to its end; X and y must still be as given afterwards
            bucket = steps.item([[]], 0)
            ran = steps.method(bucket, "extend", made, name=name, fetch=False, unchanged=[made])
            return ran, steps.op("list", bucket, name=name)

        rng = same_object(steps, np.random.default_rng(case.seed), "rng")
        epochs = [epoch(rng) for _ in range(case.data["num_epochs"])]
        again = epoch(np.random.default_rng(case.seed)) if len(y) >= 8 else None
        return {"name": name, "epochs": epochs, "again": again}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        name, n = plan["name"], len(case.inputs["y"])
        orders = [self._epoch_order(case, name, self._items(case, done, refs), epoch)
                  for epoch, refs in enumerate(plan["epochs"])]
        if plan["again"] is None:  # too few examples for orders to tell anything
            return
        for epoch, order in enumerate(orders):
            if np.array_equal(order, np.arange(n)):
                raise fail(case, "hdr_wrong", [M.bilingual(
                    "training_iter_not_shuffled", indent="  ", epoch=epoch)], name=name)
        for first in range(len(orders)):
            for second in range(first + 1, len(orders)):
                if np.array_equal(orders[first], orders[second]):
                    raise fail(case, "hdr_wrong", [M.bilingual(
                        "training_iter_same_order", indent="  ", first=first, second=second)],
                        name=name)
        repeat = self._epoch_order(case, name, self._items(case, done, plan["again"]), 0)
        if not np.array_equal(repeat, orders[0]):
            raise fail(case, "hdr_wrong", [M.bilingual("training_same_seed", indent="  ")],
                       name=name)

    @staticmethod
    def _items(case: Case, done: Done, refs: tuple) -> Any:
        """What one epoch yielded (after checking the run left X and y as given)."""
        __tracebackhide__ = True
        ran, items = refs
        done.value(case, ran)
        return done.value(case, items)

    def _epoch_order(self, case: Case, name: str, items: Any, epoch: int) -> np.ndarray:
        __tracebackhide__ = True
        X, y = case.inputs["X"], case.inputs["y"]
        n, batch_size = len(y), case.data["batch_size"]
        position = {int(label): i for i, label in enumerate(y)}
        sizes, order = [], []
        for index, item in enumerate(items):
            if not (isinstance(item, (tuple, list)) and len(item) == 2):
                raise fail(case, "hdr_wrong", [M.bilingual(
                    "training_iter_not_pairs", indent="  ", function=name, index=index,
                    epoch=epoch, found=type(item).__name__)], kind="type", name=name)
            X_batch = np.asarray(item[0])
            y_batch = np.asarray(item[1]).reshape(-1)
            sizes.append(int(y_batch.shape[0]))
            ids = [position.get(int(v), -1) if np.isfinite(v) else -1 for v in y_batch]
            known = all(i >= 0 for i in ids)
            paired = known and X_batch.shape == (len(ids), *X.shape[1:]) and \
                np.array_equal(X_batch, X[np.array(ids, dtype=int)])
            if known and not paired:
                raise fail(case, "hdr_wrong", [M.bilingual(
                    "training_iter_pairing", indent="  ", epoch=epoch, batch=index)],
                    name="X_batch")
            order.extend(ids)
        full, rest = divmod(n, batch_size)
        expected_sizes = [batch_size] * full + ([rest] if rest else [])
        counts = np.bincount([i for i in order if i >= 0], minlength=n)
        missing, repeated = int((counts == 0).sum()), int((counts > 1).sum())
        if sizes != expected_sizes:
            hint = None
            if rest and sizes == [batch_size] * full:
                hint = "training_hint_last_batch"
            elif repeated:
                hint = "training_hint_replacement"
            raise fail(case, "hdr_wrong", [M.bilingual(
                "training_iter_batch_sizes", indent="  ", n=n, batch_size=batch_size,
                expected=_short_list(expected_sizes), found=_short_list(sizes))],
                hint=hint, name="batch sizes")
        if missing or repeated or any(i < 0 for i in order):
            raise fail(case, "hdr_wrong", [M.bilingual(
                "training_iter_coverage", indent="  ", epoch=epoch, missing=missing,
                repeated=repeated)], hint="training_hint_replacement" if repeated else None,
                name="y_batch")
        return np.array(order)


register(DataIterExercise(
    id="data_iter",
    **numbered("5.1", "mini-batch iterator", "小批量迭代器", ASSIGNMENT),
))


# ======================================================================= 5.6 initialisation


@dataclass
class InitExercise(Exercise):
    """``glorot_init(fan_in, fan_out, rng)`` and ``he_init(fan_in, fan_out, rng)``.

    Graded by statistics over many independent draws: the mean must be 0 and the
    variance the scheme's, each within five standard errors of the estimate.
    """

    answer_text: tuple[str, ...] = ("\\sqrt{3\\operatorname{Var}}", "np.sqrt(variance)")

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   draws: int = 20) -> list[Case]:
        found = []
        for scheme in ("glorot", "he"):
            for seed in seeds:
                for fan_in, fan_out in shapes:
                    found.append(self.case(seed=seed, data={
                        "scheme": scheme, "shape": (int(fan_in), int(fan_out)),
                        "draws": int(draws),
                        "target": self.variances(fan_in, fan_out)[scheme]}))
        return found

    @staticmethod
    def variances(fan_in: int, fan_out: int) -> dict[str, float]:
        return {"glorot": 2.0 / (fan_in + fan_out), "he": 2.0 / fan_in}

    def drive(self, steps: Steps, case: Case, glorot_init: Any, he_init: Any) -> dict:
        scheme = case.data["scheme"]
        fn = glorot_init if scheme == "glorot" else he_init
        name = function_name(fn, f"{scheme}_init")
        require_callable(case, name, fn)
        (fan_in, fan_out), draws, seed = case.data["shape"], case.data["draws"], case.seed
        case.description = (f"{name}({fan_in}, {fan_out}, rng) with rng = "
                            f"np.random.default_rng([{seed}, k]), k = 0..{draws - 1}")

        def draw(k: int) -> Any:
            return steps.call(fn, fan_in, fan_out, np.random.default_rng([seed, k]), name=name,
                              arg_names=("fan_in", "fan_out", "rng"))

        return {"name": name, "draws": [draw(k) for k in range(draws)], "again": draw(0)}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        name, shape, scheme = plan["name"], case.data["shape"], case.data["scheme"]
        draws, target = case.data["draws"], case.data["target"]
        samples = [float_array(case, "W", done.value(case, ref), shape) for ref in plan["draws"]]
        again = float_array(case, "W", done.value(case, plan["again"]), shape)
        if not np.array_equal(again, samples[0]):
            raise fail(case, "hdr_wrong", [M.bilingual("training_same_seed", indent="  ")],
                       name=name)
        if draws > 1 and np.array_equal(samples[0], samples[1]):
            raise fail(case, "hdr_wrong", [M.bilingual("training_init_different", indent="  ")],
                       name=name)
        values = np.stack(samples).reshape(-1)
        n = values.size
        mean = float(values.mean())
        mean_tol = 5.0 * math.sqrt(target / n)
        if not abs(mean) <= mean_tol:
            raise fail(case, "training_hdr_statistics", [M.bilingual(
                "training_init_mean", indent="  ", draws=draws, shape=shape, count=n,
                found=fmt(mean), tol=fmt(mean_tol))], name="W")
        var = float(values.var())
        var_tol = 5.0 * math.sqrt(2.0 / n)  # the relative standard error of a Gaussian's variance
        if not abs(var / target - 1.0) <= var_tol:
            formula = "2/(fan_in + fan_out)" if scheme == "glorot" else "2/fan_in"
            raise fail(case, "training_hdr_statistics", [M.bilingual(
                "training_init_var", indent="  ", draws=draws, shape=shape, count=n,
                found=fmt(var), formula=formula, expected=fmt(target), tol=pct(var_tol))],
                hint=self._diagnose(scheme, *shape, target, var, var_tol), name="W")

    def _diagnose(self, scheme, fan_in, fan_out, target, var, tol) -> str | None:
        other = self.variances(fan_in, fan_out)["he" if scheme == "glorot" else "glorot"]
        candidates = [
            ("training_hint_init_swapped", other),
            ("training_hint_init_lecun", 1.0 / fan_in),
            ("training_hint_init_std_as_var", target**2),
            ("training_hint_init_uniform", target / 3.0),
            ("training_hint_init_unit", 1.0),
        ]
        if scheme == "he":
            candidates.insert(1, ("training_hint_init_fan_out", 2.0 / fan_out))
        for key, value in candidates:
            if abs(value / target - 1.0) > tol and abs(var / value - 1.0) <= tol:
                return key
        return None


register(InitExercise(
    id="init_schemes",
    **numbered("5.6", "Glorot and He initialisation", "Glorot 与 He 初始化", ASSIGNMENT),
))


# ============================================================================ 5.7 dropout


@dataclass
class DropoutExercise(Exercise):
    """``dropout_forward(x, p, train, rng) -> (out, cache)``, ``dropout_backward(dout, cache)``.

    The mask a student drew is read back from the output (the inputs have no zeros),
    then forward and backward are compared with autograd on ``x * mask / (1 - p)``: the
    reference needs the student's mask, so it runs once the steps are done. The mask
    itself is graded by its statistics over many draws.
    """

    tol: Tolerance = field(default_factory=Tolerance)
    answer_text: tuple[str, ...] = ("\\mathbf m \\odot d\\mathbf{out}", "dout * cache",
                                    "d\\mathbf x = d\\mathbf{out}")

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple], p: float,
                   draws: int = 100) -> list[Case]:
        found = []
        for seed, shape, data in seeded(seeds, shapes):
            x = data.standard_normal(tuple(shape))
            x = np.where(np.abs(x) < 0.05, np.sign(x + 1e-300) * 0.1, x)  # 0 means dropped
            dout = data.standard_normal(tuple(shape))
            found.append(self.case(seed=seed, inputs={"x": x}, data={
                "p": float(p), "draws": int(draws), "dout": dout}))
        return found

    def drive(self, steps: Steps, case: Case, forward: Any, backward: Any) -> dict:
        names = {"forward": function_name(forward, "dropout_forward"),
                 "backward": function_name(backward, "dropout_backward")}
        require_callable(case, names["forward"], forward)
        require_callable(case, names["backward"], backward)
        x, p, dout, seed = case.inputs["x"], case.data["p"], case.data["dout"], case.seed

        def forward_call(train: bool, rng: Any) -> Any:
            return steps.call(forward, x, p, train, rng, name=names["forward"],
                              arg_names=("x", "p", "train", "rng"))

        def backward_call(made: Any) -> Any:
            return steps.call(backward, dout, steps.item(made, 1), name=names["backward"],
                              arg_names=("dout", "cache"), unchanged=[made])

        draws = [forward_call(True, np.random.default_rng([seed, k]))
                 for k in range(case.data["draws"])]
        evaluation = forward_call(False, np.random.default_rng(seed))
        return {"names": names, "draws": draws,
                "backward": [backward_call(made) for made in draws[:3]],
                "again": forward_call(True, np.random.default_rng([seed, 0])),
                "eval": evaluation, "eval_backward": backward_call(evaluation)}

    def where(self, case: Case, k: Any, train: bool = True) -> Case:
        seed, shape, p = case.seed, case.inputs["x"].shape, case.data["p"]
        text = f"seed={seed}, x.shape={shape}, p={p:g}, train={train}, "
        text += (f"rng = np.random.default_rng([{seed}, {k}])" if train
                 else f"rng = np.random.default_rng({seed})")
        return self.case(seed=seed, inputs=case.inputs, data=case.data, description=text)

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        x, p, draws, dout = case.inputs["x"], case.data["p"], case.data["draws"], case.data["dout"]
        fwd = plan["names"]["forward"]
        many = self.where(case, "k")
        many.description += f", k = 0..{draws - 1}"
        raw = [pair(many, fwd, done.value(many, ref), "(out, cache)")[0] for ref in plan["draws"]]
        outs = [float_array(many, "out", out, x.shape) for out in raw]
        # 1. the mask: different at each draw, and how many elements are kept
        if 0 < p and draws > 1 and all(np.array_equal(o != 0, outs[0] != 0) for o in outs[1:]):
            raise fail(many, "hdr_wrong", [M.bilingual("training_dropout_same_mask", indent="  ",
                                                       draws=draws)], name=fwd)
        kept = float(np.mean([np.count_nonzero(o) / o.size for o in outs]))
        n = draws * x.size
        keep_tol = 5.0 * math.sqrt(p * (1.0 - p) / n) + 1e-12
        if abs(kept - (1.0 - p)) > keep_tol:
            hint = None
            if kept == 1.0:
                hint = "training_hint_dropout_never"
            elif abs(kept - p) <= keep_tol + 5.0 * math.sqrt(p * (1 - p) / n):
                hint = "training_hint_dropout_keep_prob"
            raise fail(many, "training_hdr_statistics", [M.bilingual(
                "training_dropout_keep", indent="  ", p=f"{p:g}", expected=fmt(1.0 - p),
                draws=draws, shape=x.shape, found=fmt(kept), tol=fmt(keep_tol))],
                hint=hint, name="out")
        # 2. forward and backward against autograd with the same mask
        for k, back in enumerate(plan["backward"]):
            self._against_autograd(self.where(case, k), done, raw[k], outs[k] != 0, back)
        # 3. the expected value is unchanged (project the mean output on x: 1 in expectation),
        # and the mask comes from `rng`
        norm = float(np.sum(x**2))
        ratio = float(np.mean([np.sum(o * x) for o in outs]) / norm)
        spread = math.sqrt(p / (1.0 - p) * float(np.sum(x**4)) / draws) / norm if p < 1 else 0.0
        mean_tol = 5.0 * spread + 1e-9
        if abs(ratio - 1.0) > mean_tol:
            raise fail(many, "training_hdr_statistics", [M.bilingual(
                "training_dropout_mean", indent="  ", draws=draws, tol=fmt(mean_tol),
                found=fmt(ratio))], hint="training_hint_dropout_not_scaled"
                if abs(ratio - (1.0 - p)) <= mean_tol else None, name="out")
        again = self.where(case, 0)
        again_out, _ = pair(again, fwd, done.value(again, plan["again"]), "(out, cache)")
        if not np.array_equal(float_array(again, "out", again_out, x.shape) != 0, outs[0] != 0):
            raise fail(again, "hdr_wrong", [M.bilingual("training_same_seed", indent="  ")],
                       name=fwd)
        # 4. eval mode is the identity, forward and backward
        evaluation = self.where(case, None, train=False)
        out, _ = pair(evaluation, fwd, done.value(evaluation, plan["eval"]), "(out, cache)")
        compare_array(evaluation, "out", x, out, tol=self.tol, alternatives=[
            ("training_hint_dropout_eval", x * (1.0 - p)),
            ("training_hint_dropout_eval", x / (1.0 - p))], header_key="hdr_mismatch_autograd")
        dx = done.value(evaluation, plan["eval_backward"])
        compare_array(evaluation, "dx", dout, dx, tol=self.tol, alternatives=[
            ("training_hint_dropout_eval", dout * (1.0 - p)),
            ("training_hint_dropout_eval", dout / (1.0 - p))], header_key="hdr_mismatch_autograd")

    def _against_autograd(self, case: Case, done: Done, out: Any, kept: np.ndarray,
                          back: Any) -> None:
        __tracebackhide__ = True
        x, p, dout = case.inputs["x"], case.data["p"], case.data["dout"]
        case.description += ", mask = (out != 0) from your forward"
        mask = kept.astype(np.float64)
        out_ref, grads = torchref.evaluate(lambda x, mask: x * mask / (1.0 - p),
                                           {"x": x, "mask": mask}, ["x"], dout)
        alternatives = [("training_hint_dropout_not_scaled", x * mask),
                        ("training_hint_dropout_scaled_wrong", x * mask * (1.0 - p))]
        if p > 0:
            alternatives.append(("training_hint_dropout_keep_prob", x * mask / p))
        compare_array(case, "out", out_ref, out, tol=self.tol, alternatives=alternatives,
                      header_key="hdr_mismatch_autograd")
        compare_array(case, "dx", grads["x"], done.value(case, back), tol=self.tol, alternatives=[
            ("training_hint_dropout_not_scaled", dout * mask),
            ("training_hint_dropout_no_mask", dout),
            ("training_hint_dropout_no_mask", dout / (1.0 - p)),
        ], header_key="hdr_mismatch_autograd")


register(DropoutExercise(
    id="dropout",
    **numbered("5.7", "inverted dropout", "反向缩放的暂退法", ASSIGNMENT),
))
