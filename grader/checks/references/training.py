"""Assignment 05's answers, as the checks' references · 作业 05 的参考实现.

The update rules (each with the classic mistakes it can replay, for the checks'
diagnoses), the learning-rate schedules' known slips, and early stopping with patience.
The expected parameters of an update rule come from ``torch.optim``; these rules give the
state a rule keeps (a velocity, Adam's moments and step count), which torch names
differently, and what each known mistake returns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

Rule = Callable[[np.ndarray, np.ndarray, dict, Mapping[str, float]], tuple[np.ndarray, dict]]


def sgd_rule(variant: str = "") -> Rule:
    """SGD with L2 weight decay in the gradient (``variant`` replays a mistake)."""

    def rule(w, g, state, hp):
        lr, wd = hp["lr"], hp["weight_decay"]
        if variant == "wd_unscaled":
            return w - lr * g - wd * w, {}
        sign = {"wd_sign": -1.0, "wd_missing": 0.0}.get(variant, 1.0)
        step = lr * (g + sign * wd * w)
        return (w + step if variant == "ascent" else w - step), {}

    return rule


def momentum_rule(variant: str = "") -> Rule:
    """SGD with momentum as torch.optim.SGD (dampening 0); state ``velocity``."""

    def rule(w, g, state, hp):
        lr, beta, wd = hp["lr"], hp["momentum"], hp["weight_decay"]
        v = np.zeros_like(w) if variant == "state_lost" else state.get("velocity", np.zeros_like(w))
        if variant == "wd_after":
            v = beta * v + g
            return w - lr * (v + wd * w), {"velocity": v}
        g = g + wd * w
        if variant == "order":
            return w - lr * v, {"velocity": beta * v + g}
        if variant == "lr_inside":  # v <- beta v - lr g, w <- w + v: torch keeps lr outside
            v = beta * v - lr * g
            return w + v, {"velocity": v}
        if variant == "dampening":
            v = beta * v + (1 - beta) * g
        elif variant == "minus_g":
            v = beta * v - g
        else:
            v = beta * v + g
        return (w + lr * v if variant == "ascent" else w - lr * v), {"velocity": v}

    return rule


def adam_rule(variant: str = "") -> Rule:
    """Adam with bias correction and L2 weight decay, as torch.optim.Adam; state m, v, t."""

    def rule(w, g, state, hp):
        lr, b1, b2, eps, wd = (hp[k] for k in ("lr", "beta1", "beta2", "eps", "weight_decay"))
        m, v = state.get("m", np.zeros_like(w)), state.get("v", np.zeros_like(w))
        t = state.get("t", 0) + 1
        if variant == "state_lost":
            m, v, t = np.zeros_like(w), np.zeros_like(w), 1
        if variant != "decoupled":
            g = g + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = (m, v) if variant == "no_bias" else (m / (1 - b1**t), v / (1 - b2**t))
        if variant == "eps_inside":
            step = m_hat / np.sqrt(v_hat + eps)
        elif variant == "no_sqrt":
            step = m_hat / (v_hat + eps)
        else:
            step = m_hat / (np.sqrt(v_hat) + eps)
        if variant == "decoupled":
            step = step + wd * w
        return w - lr * step, {"m": m, "v": v, "t": t}

    return rule


RULES = {"sgd": sgd_rule, "sgd_momentum": momentum_rule, "adam": adam_rule}


def trajectory(rule: Rule, w0: np.ndarray, grads: np.ndarray, hp: Mapping[str, float],
               lrs: Sequence[float]) -> list[tuple[np.ndarray, dict]]:
    """(w, state) after each step; the learning rate of step t is ``lrs[t]``."""
    w, state, out = w0.copy(), {}, []
    with np.errstate(all="ignore"):
        for g, lr in zip(grads, lrs, strict=True):
            w, state = rule(w, g, state, {**hp, "lr": lr})
            out.append((w, state))
    return out


def decay_slips(kind: str, lr: float, rate: float, epochs: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """What the known slips of a schedule return for each epoch: (hint key, values)."""
    with np.errstate(all="ignore"):
        if kind == "exponential":
            return [("training_hint_epoch_off_by_one", lr * rate ** (epochs + 1.0)),
                    ("training_hint_exp_base", lr * np.exp(-rate * epochs))]
        return [("training_hint_epoch_off_by_one", lr / (1.0 + rate * (epochs + 1.0))),
                ("training_hint_inverse_sqrt", lr / np.sqrt(1.0 + rate * epochs))]


def early_stopping(losses: Sequence[float], patience: int, variant: str = ""
                   ) -> tuple[int | None, int]:
    """(epoch after which training stops or None, best epoch seen by then).

    Improvement means strictly smaller than the best loss so far; training stops at the
    first epoch whose count of epochs without improvement reaches ``patience``.
    ``variant`` replays a known mistake: tie (<= counts), late / early (off by one),
    no_reset (the count is not reset on an improvement).
    """
    best, best_epoch, bad = math.inf, -1, 0
    for epoch, loss in enumerate(losses):
        improved = loss <= best if variant == "tie" else loss < best
        if improved:
            best, best_epoch = loss, epoch
            bad = bad if variant == "no_reset" else 0
        else:
            bad += 1
        limit = {"late": patience + 1, "early": patience - 1}.get(variant, patience)
        if bad >= limit and (variant != "early" or bad > 0):
            return epoch, best_epoch
    return None, best_epoch
