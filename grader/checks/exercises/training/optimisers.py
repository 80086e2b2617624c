"""5.2–5.4 update rules and 5.5 learning-rate decay · 更新规则与学习率衰减.

An update rule is replayed for many steps next to ``torch.optim`` on the same parameters
and the same gradient sequence, the learning rate optionally changing between steps
(``lr_decay``), as a scheduler would change it: the check sets ``config["lr"]`` on a copy
of the config the rule returned. Both the parameters and the state the rule keeps
(``velocity``; ``m``, ``v``, ``t``) are compared at every step. Every step of a check call
is one batch: the next call's ``w`` and ``config`` are what the previous call returned, in
the student's process. Schedules are compared with ``torch.optim.lr_scheduler``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from grader.checks.compare import Case, Tolerance, compare_array, compare_value, require_callable
from grader.checks.exercises import register
from grader.checks.exercises.training.common import (
    ASSIGNMENT,
    as_number,
    at,
    pair,
    ref,
    require_dict,
    require_key,
    torch,
)
from grader.checks.specs import Exercise, function_name, numbered, seeded
from grader.checks.steps import Done, Steps

# ====================================================================== 5.2–5.4 optimisers


def _torch_sgd(param, hp):
    return torch().optim.SGD([param], lr=hp["lr"], momentum=hp.get("momentum", 0.0),
                             weight_decay=hp["weight_decay"])


def _torch_adam(param, hp):
    return torch().optim.Adam([param], lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]),
                              eps=hp["eps"], weight_decay=hp["weight_decay"])


def _distinct(alternative: np.ndarray, expected: np.ndarray, tol: Tolerance) -> bool:
    """Whether a known mistake is visible at this step (a diagnosis needs its pattern)."""
    loose = Tolerance(tol.rtol * 10, tol.atol * 10)
    return alternative.shape != expected.shape or not loose.close(alternative, expected).all()


def _distinct_steps(alternatives: Sequence[np.ndarray], expected: Sequence[np.ndarray],
                    tol: Tolerance) -> list[bool]:
    """:func:`_distinct` at every step of a path (one comparison for the whole path)."""
    if len({np.shape(a) for a in (*alternatives, *expected)}) != 1:
        return [_distinct(a, e, tol) for a, e in zip(alternatives, expected, strict=True)]
    loose = Tolerance(tol.rtol * 10, tol.atol * 10)
    close = loose.close(np.stack(alternatives), np.stack(expected))
    return [not c for c in close.reshape(len(expected), -1).all(axis=1)]


def _agree(found: Sequence[Any], expected: Sequence[np.ndarray], rtol: float,
           atol: float | np.ndarray) -> bool:
    """Whether every found value is a float64 array of its expected one's shape and close to
    it (NaN where NaN is expected): compare_array's verdict for each, all at once. ``atol``
    is one number or one per value."""
    shape = np.shape(expected[0])
    if not all(type(f) is np.ndarray and f.dtype == np.float64 and f.shape == shape
               for f in found) or any(np.shape(e) != shape for e in expected):
        return False
    a, e = np.stack(found), np.stack(expected).astype(np.float64)
    atol = np.reshape(atol, (-1,) + (1,) * len(shape)) if np.ndim(atol) else atol
    ok = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=False) | (np.isnan(a) & np.isnan(e))
    return bool(ok.all())


@dataclass
class UpdateRuleExercise(Exercise):
    """``next_w, config = rule(w, dw, config)`` replayed next to a ``torch.optim`` optimiser.

    ``config`` starts with the hyperparameters only; the rule keeps its state in it
    (``state``: the keys and what they hold). The gradient sequence is fixed in advance,
    so both sides see exactly the same gradients.
    """

    needs_solution: ClassVar[bool] = True  # the state and the mistakes come from references
    defaults: Mapping[str, float] = field(default_factory=dict)
    make_optimizer: Callable[[Any, Mapping[str, float]], Any] = None  # type: ignore[assignment]
    optimizer_name: str = ""
    state: Mapping[str, str] = field(default_factory=dict)  # key -> what it holds
    mutants: Sequence[tuple[str, str]] = ()  # (hint key, variant of the reference rule)
    mutants_with_decay: Sequence[tuple[str, str]] = ()  # only visible when weight_decay > 0
    tol: Tolerance = field(default_factory=lambda: Tolerance(rtol=1e-7, atol=1e-10))

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple], steps: int = 20,
                   grad_scale: float = 1.0, lr_decay: float = 1.0, **hyper: float) -> list[Case]:
        unknown = set(hyper) - set(self.defaults)
        if unknown:
            raise TypeError(f"unknown hyperparameters {sorted(unknown)} for {self.id}")
        hp = {**self.defaults, **{k: float(v) for k, v in hyper.items()}}
        lrs = [hp["lr"] * float(lr_decay) ** t for t in range(int(steps))]
        shown = ", ".join(f"{k}={v:g}" for k, v in hp.items())
        schedule = f", config['lr'] = {hp['lr']:g} * {lr_decay:g}**t before step t" \
            if lr_decay != 1.0 else ""
        found = []
        for seed, shape, rng in seeded(seeds, shapes):
            w0 = rng.standard_normal(tuple(shape))
            grads = rng.standard_normal((int(steps), *shape)) * float(grad_scale)
            found.append(self.case(seed=seed, inputs={"w": w0}, data={
                "grads": grads, "hp": hp, "lrs": lrs,
                "where": f"seed={seed}, w.shape={tuple(shape)}, config {{{shown}}}{schedule}, "
                         f"gradients ~ N(0, {float(grad_scale):g}²) (vs {self.optimizer_name})"}))
        return found

    def prepare(self, case: Case) -> None:
        w0, grads, hp, lrs = case.inputs["w"], case.data["grads"], case.data["hp"], case.data["lrs"]
        t = torch()
        param = t.tensor(w0.copy(), dtype=t.float64, requires_grad=True)
        optimizer = self.make_optimizer(param, hp)
        expected = []
        for g, lr in zip(grads, lrs, strict=True):
            optimizer.param_groups[0]["lr"] = lr
            param.grad = t.tensor(g, dtype=t.float64)
            optimizer.step()
            expected.append(param.detach().numpy().copy())
        rules = ref().RULES[self.id]
        states = [state for _, state in ref().trajectory(rules(), w0, grads, hp, lrs)]
        mutants = [*self.mutants, *(self.mutants_with_decay if hp["weight_decay"] else ())]
        paths = [(key, ref().trajectory(rules(variant), w0, grads, hp, lrs))
                 for key, variant in mutants]
        # Which mistake is visible at which step, every step of a path compared at once
        # (one comparison per mistake, not one per step: the same verdicts as _distinct)
        seen = [_distinct_steps([w for w, _ in path], expected, self.tol) for _, path in paths]
        seen_state = [{k: _distinct_steps([s[k] for _, s in path], [s[k] for s in states],
                                          self.tol)
                       for k in path[0][1] if k in states[0] and k != "t"}
                      for _, path in paths]
        case.data.update(
            expected=expected, states=states,
            alternatives=[[(key, path[step][0]) for (key, path), visible in zip(paths, seen)
                           if visible[step]] for step in range(len(expected))],
            state_alternatives=[[(key, {k: v for k, v in path[step][1].items()
                                        if k in visible and visible[k][step]})
                                 for (key, path), visible in zip(paths, seen_state)]
                                for step in range(len(expected))])

    def drive(self, steps: Steps, case: Case, rule: Any) -> dict:
        name = function_name(rule, self.id)
        require_callable(case, name, rule)
        lrs = case.data["lrs"]
        w: Any = case.inputs["w"]
        config: Any = {**case.data["hp"], "lr": lrs[0]}
        calls = []
        for step, g in enumerate(case.data["grads"]):
            made = steps.call(rule, w, g, config, name=name, arg_names=("w", "dw", "config"))
            calls.append(made)
            w, config = steps.item(made, 0), steps.item(made, 1)
            if step + 1 < len(lrs) and lrs[step + 1] != lrs[step]:  # the caller's scheduler
                config = steps.method(config, "copy", name=name, fetch=False)
                steps.method(config, "__setitem__", "lr", lrs[step + 1], name=name, fetch=False)
        return {"name": name, "calls": calls}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        if self._all_agree(case, done, plan):
            return
        name, count = plan["name"], len(plan["calls"])
        for step, made in enumerate(plan["calls"]):
            here = at(case, f"step {step + 1} of {count}: {case.data['where']}")
            next_w, config = pair(here, name, done.value(here, made), "(next_w, config)")
            config = require_dict(here, name, "config", config)
            compare_array(here, "next_w", case.data["expected"][step], next_w, tol=self.tol,
                          alternatives=case.data["alternatives"][step],
                          header_key="training_hdr_torch_optim")
            self._judge_state(here, config, case.data["states"][step],
                              case.data["state_alternatives"][step])

    def _all_agree(self, case: Case, done: Done, plan: dict) -> bool:
        """Whether every step passes, judged for all steps at once (one comparison per
        array instead of one per step). Only plain answers (a float64 array, a dict, an int
        ``t``) are judged here; anything else, and any difference, goes to the step-by-step
        judge, which accepts exactly these answers too and words the first failure."""
        found_w, found_state = [], {key: [] for key in self.state}
        for made in plan["calls"]:
            outcome = done[made]
            if outcome.status != "ok" or outcome.mutated or outcome.mutated_earlier or \
                    type(outcome.value) not in (tuple, list) or len(outcome.value) != 2:
                return False
            next_w, config = outcome.value
            if type(config) is not dict or not set(self.state) <= config.keys():
                return False
            found_w.append(next_w)
            for key in self.state:
                found_state[key].append(config[key])
        expected, states = case.data["expected"], case.data["states"]
        if not _agree(found_w, expected, self.tol.rtol, self.tol.atol):
            return False
        for key, found in found_state.items():
            wanted = [state[key] for state in states]
            if key == "t":
                if not all(type(f) is int and f == w for f, w in zip(found, wanted, strict=True)):
                    return False
                continue
            atol = [float(f"{1e-9 * float(np.max(np.abs(w), initial=0.0)):.1g}") or 1e-300
                    for w in wanted]  # as _judge_state's tolerance, step by step
            if not _agree(found, wanted, self.tol.rtol, np.array(atol)):
                return False
        return True

    def _judge_state(self, case: Case, config: dict, expected: dict, alternatives: list) -> None:
        __tracebackhide__ = True
        for key, what in self.state.items():
            found = require_key(case, "config", config, key, "training_state_missing", what=what)
            if key == "t":
                compare_value(case, "config['t']", expected[key], as_number(case, "config['t']",
                                                                          found))
                continue
            scale = float(np.max(np.abs(expected[key]), initial=0.0))
            compare_array(case, f"config['{key}']", expected[key], found,
                          tol=Tolerance(self.tol.rtol, float(f"{1e-9 * scale:.1g}") or 1e-300),
                          alternatives=[(hint, state[key]) for hint, state in alternatives
                                        if key in state],
                          header_key="training_hdr_state")


register(UpdateRuleExercise(
    id="sgd",
    **numbered("5.2", "SGD with weight decay", "带权重衰减的 SGD", ASSIGNMENT),
    defaults={"lr": 0.1, "weight_decay": 0.0},
    make_optimizer=_torch_sgd,
    optimizer_name="torch.optim.SGD",
    mutants=[("training_hint_ascent", "ascent")],
    mutants_with_decay=[("training_hint_wd_sign", "wd_sign"),
                        ("training_hint_wd_missing", "wd_missing"),
                        ("training_hint_wd_unscaled", "wd_unscaled")],
    answer_text=("\\mathbf g + \\lambda\\boldsymbol\\theta", "dw + weight_decay * w"),
))

register(UpdateRuleExercise(
    id="sgd_momentum",
    **numbered("5.3", "SGD with momentum", "带动量的 SGD", ASSIGNMENT),
    defaults={"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0},
    make_optimizer=_torch_sgd,
    optimizer_name="torch.optim.SGD(momentum=..., dampening=0)",
    state={"velocity": "the velocity, an array of w's shape"},
    mutants=[("training_hint_ascent", "ascent"), ("training_hint_ascent", "minus_g"),
             ("training_hint_momentum_order", "order"),
             ("training_hint_momentum_dampening", "dampening"),
             ("training_hint_momentum_lr_inside", "lr_inside"),
             ("training_hint_state_lost", "state_lost")],
    mutants_with_decay=[("training_hint_wd_after_momentum", "wd_after")],
))

register(UpdateRuleExercise(
    id="adam",
    **numbered("5.4", "Adam", "Adam", ASSIGNMENT),
    defaults={"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    make_optimizer=_torch_adam,
    optimizer_name="torch.optim.Adam",
    state={"m": "the first moment, an array of w's shape",
           "v": "the second moment, an array of w's shape",
           "t": "the number of steps taken, an int"},
    mutants=[("training_hint_adam_bias", "no_bias"), ("training_hint_adam_eps", "eps_inside"),
             ("training_hint_adam_sqrt", "no_sqrt"), ("training_hint_state_lost", "state_lost")],
    mutants_with_decay=[("training_hint_adam_decoupled", "decoupled")],
))


# ======================================================================== 5.5 lr schedules


def _scheduled_lrs(make_scheduler, lr: float, num_epochs: int) -> np.ndarray:
    """The learning rate torch uses in each epoch 0..num_epochs-1."""
    import warnings

    t = torch()
    param = t.zeros(1, dtype=t.float64, requires_grad=True)
    optimizer = t.optim.SGD([param], lr=lr)
    scheduler = make_scheduler(optimizer)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(num_epochs):
            out.append(scheduler.get_last_lr()[0])
            param.grad = t.zeros_like(param)
            optimizer.step()
            scheduler.step()
    return np.array(out)


@dataclass
class LrDecayExercise(Exercise):
    """``exponential_decay(lr, gamma, epoch)`` and ``inverse_time_decay(lr, decay, epoch)``,
    one case each, every epoch of ``0..num_epochs-1`` asked for."""

    needs_solution: ClassVar[bool] = True  # the known slips come from references
    tol: Tolerance = field(default_factory=lambda: Tolerance(rtol=1e-9, atol=1e-15))

    def make_cases(self, *, lr: float, gamma: float, decay: float,
                   num_epochs: int = 20) -> list[Case]:
        return [self.case(data={"kind": kind, "lr": float(lr), "rate": float(rate),
                                "second": second, "num_epochs": int(num_epochs)})
                for kind, rate, second in (("exponential", gamma, "gamma"),
                                           ("inverse", decay, "decay"))]

    def prepare(self, case: Case) -> None:
        lr, rate, n = case.data["lr"], case.data["rate"], case.data["num_epochs"]
        scheduler = torch().optim.lr_scheduler
        if case.data["kind"] == "exponential":
            expected = _scheduled_lrs(lambda opt: scheduler.ExponentialLR(opt, gamma=rate), lr, n)
        else:
            expected = _scheduled_lrs(lambda opt: scheduler.LambdaLR(
                opt, lr_lambda=lambda t: 1.0 / (1.0 + rate * t)), lr, n)
        case.data.update(expected=expected, alternatives=ref().decay_slips(
            case.data["kind"], lr, rate, np.arange(n)))

    def drive(self, steps: Steps, case: Case, exponential_decay: Any,
              inverse_time_decay: Any) -> dict:
        exponential = case.data["kind"] == "exponential"
        fn = exponential_decay if exponential else inverse_time_decay
        name = function_name(fn, "exponential_decay" if exponential else "inverse_time_decay")
        require_callable(case, name, fn)
        lr, rate, second, n = (case.data[k] for k in ("lr", "rate", "second", "num_epochs"))
        reference = ("torch.optim.lr_scheduler.ExponentialLR" if exponential
                     else "torch.optim.lr_scheduler.LambdaLR(1 / (1 + decay * t))")
        case.description = (f"{name}(lr={lr:g}, {second}={rate:g}, epoch) for epoch = "
                            f"0..{n - 1}, compared with {reference}")
        return {"name": name, "calls": [
            steps.call(fn, lr, rate, epoch, name=name, arg_names=("lr", second, "epoch"))
            for epoch in range(n)]}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        name, second = plan["name"], case.data["second"]
        found = [as_number(case, f"{name}(...)", done.value(case, made)) for made in plan["calls"]]
        with np.errstate(all="ignore"):
            compare_array(case, f"{name}(lr, {second}, epoch) per epoch", case.data["expected"],
                          np.array(found), tol=self.tol, alternatives=case.data["alternatives"],
                          header_key="training_hdr_scheduler")


register(LrDecayExercise(
    id="lr_decay",
    **numbered("5.5", "learning-rate decay", "学习率衰减", ASSIGNMENT),
))

