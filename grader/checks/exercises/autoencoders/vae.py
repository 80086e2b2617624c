"""Exercises 6.6-6.9 · 练习 6.6-6.9: the reparameterisation, the Gaussian KL, the negative
ELBO and the whole VAE's loss and gradients, against PyTorch autograd in float64."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import (
    Case,
    CheckFailure,
    Tolerance,
    compare_array,
    mutated_failure,
    require_callable,
)
from grader.checks.exercises import register
from grader.checks.exercises.autoencoders.common import (
    ASSIGNMENT,
    ScalarSpec,
    digits_like,
    flagged,
    noting_reuse,
    replayed,
)
from grader.checks.specs import Exercise, LayerSpec, _unpack, function_name, numbered, seeded
from grader.checks.steps import Done, Steps

# --------------------------------------------------------- 6.6 reparameterisation


def _reparam_inputs(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """shape = (N, Z): means, log-variances and standard normal noise for N codes of Z units."""
    return {
        "mu": rng.standard_normal(shape),
        "logvar": rng.standard_normal(shape) * 2,
        "eps": rng.standard_normal(shape),
    }


def _reparam_reference(mu, logvar, eps, sigma_grad_factor=1.0):
    """z = μ + σ·ε with σ = exp(½·logvar); ``sigma_grad_factor`` scales the gradient through σ
    (2: the ½ of exp(½·logvar) forgotten) without changing z."""
    std = (0.5 * logvar).exp()
    std = std.detach() + sigma_grad_factor * (std - std.detach())
    return mu + std * eps


def _reparam_mutants(inputs, dout, params):
    _, half = flagged(_reparam_reference, inputs, ("logvar",), params, upstream=dout,
                       sigma_grad_factor=2.0)
    std_inputs = {"mu": inputs["mu"], "std": np.exp(0.5 * inputs["logvar"]), "eps": inputs["eps"]}
    _, wrt_sigma = torchref.evaluate(lambda mu, std, eps: mu + std * eps, std_inputs, ("std",),
                                     dout)
    return {
        "mu": [("ae_hint_reparam_blocked_mu", np.zeros_like(dout))],
        "logvar": [
            ("ae_hint_reparam_blocked_sigma", np.zeros_like(dout)),
            ("ae_hint_reparam_half", half["logvar"]),
            ("ae_hint_reparam_wrt_sigma", wrt_sigma["std"]),
        ],
    }


register(
    LayerSpec(
        id="reparameterize",
        **numbered("6.6", "reparameterisation", "重参数化", ASSIGNMENT),
        make_inputs=_reparam_inputs,
        reference=_reparam_reference,
        grads=("mu", "logvar"),
        mutants=_reparam_mutants,
        answer_text=("dz * eps * std * 0.5", "dz·ε·σ·½", "dlogvar = dz", r"\tfrac12\sigma\varepsilon",
                     "dmu = dz"),
    )
)


# ---------------------------------------------------------------- 6.7 Gaussian KL


def _gaussian_inputs(rng: np.random.Generator, shape: tuple, scale: float = 1.0):
    """shape = (N, Z): the encoder's means and log-variances for N examples."""
    return {
        "mu": rng.standard_normal(shape) * scale,
        "logvar": rng.standard_normal(shape) * scale,
    }


def _gaussian_kl_reference(mu, logvar):
    return -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum() / mu.shape[0]


def _gaussian_kl_mutants(inputs, params, value, grads):
    found: dict[str, list] = {"kl": [("ae_hint_kl_sign", -value), ("ae_hint_kl_half", 2 * value)]}
    for name in ("mu", "logvar"):
        found[name] = [("ae_hint_kl_sign", -grads[name]), ("ae_hint_kl_half", 2 * grads[name])]
    return found


register(
    ScalarSpec(
        id="gaussian_kl",
        **numbered("6.7", "Gaussian KL divergence", "高斯 KL 散度", ASSIGNMENT),
        make_inputs=_gaussian_inputs,
        reference=_gaussian_kl_reference,
        grads=("mu", "logvar"),
        value_name="kl",
        input_options=("scale",),
        mutants=_gaussian_kl_mutants,
        answer_text=("dmu = mu / N", "0.5 * (var - 1) / N", r"\frac{\mu}{N}",
                     r"\tfrac12(\sigma^2 - 1)", "(exp(logvar) - 1) / 2"),
    )
)


# ---------------------------------------------------------------- 6.8 negative ELBO


def _elbo_inputs(rng: np.random.Generator, shape: tuple, logit_scale: float = 2.0):
    """shape = (N, D, Z): digits-like X, decoder logits (N, D), encoder mu and logvar (N, Z)."""
    n, d, z = shape
    return {
        "X": digits_like(rng, n, d),
        "logits": rng.standard_normal((n, d)) * logit_scale,
        "mu": rng.standard_normal((n, z)),
        "logvar": rng.standard_normal((n, z)),
    }


def _negative_elbo_reference(X, logits, mu, logvar, kl_sign=1.0, as_probabilities=False):
    """Reconstruction BCE (from logits) plus the Gaussian KL, averaged over the batch;
    the flags replay two mistakes: the KL subtracted, the logits taken as probabilities."""
    torch = torchref.torch
    n = X.shape[0]
    if as_probabilities:
        p = logits.clamp(1e-12, 1 - 1e-12)
        recon = -(X * torch.log(p) + (1 - X) * torch.log(1 - p)).sum() / n
    else:
        recon = torch.nn.functional.binary_cross_entropy_with_logits(logits, X,
                                                                     reduction="sum") / n
    return recon + kl_sign * _gaussian_kl_reference(mu, logvar)


def _negative_elbo_mutants(inputs, params, value, grads):
    return replayed(_negative_elbo_reference, inputs, params, ("logits", "mu", "logvar"), "loss",
                    (("ae_hint_elbo_kl_sign", {"kl_sign": -1.0}, ("loss", "mu", "logvar")),
                     ("ae_hint_elbo_probs", {"as_probabilities": True}, ("loss", "logits"))))


register(
    ScalarSpec(
        id="negative_elbo",
        **numbered("6.8", "negative ELBO", "负 ELBO", ASSIGNMENT),
        make_inputs=_elbo_inputs,
        reference=_negative_elbo_reference,
        grads=("logits", "mu", "logvar"),
        value_name="loss",
        input_options=("logit_scale",),
        mutants=_negative_elbo_mutants,
        reuses=("gaussian_kl",),
        answer_text=("sigmoid(logits) - X", r"\sigma(\ell) - x", "(sigmoid(logits) - X) / N"),
    )
)


# ------------------------------------------------------ 6.9 VAE loss and gradients

VAE_PARAMS = ("W1", "b1", "W_mu", "b_mu", "W_logvar", "b_logvar", "W2", "b2", "W3", "b3")


def _vae_inputs(rng: np.random.Generator, shape: tuple):
    """shape = (N, D, H, Z): N images of D pixels, H hidden units, a latent code of Z units."""
    n, d, h, z = shape
    sizes = {
        "W1": (d, h), "b1": (h,), "W_mu": (h, z), "b_mu": (z,), "W_logvar": (h, z),
        "b_logvar": (z,), "W2": (z, h), "b2": (h,), "W3": (h, d), "b3": (d,),
    }
    params = {}
    for name, size in sizes.items():
        fan_in = size[0] if len(size) == 2 else 4
        params[name] = rng.standard_normal(size) / np.sqrt(fan_in)
    return params, digits_like(rng, n, d), rng.standard_normal((n, z))


def _vae_reference(params, X, eps, *, kl_grad=True, block_mu=False, block_sigma=False,
                   heads=("mu", "logvar"), sigma_grad_factor=1.0, kl_sign=1.0):
    """The negative ELBO of the VAE; the flags reproduce known mistakes with ``detach``."""
    torch = torchref.torch
    p = params
    n = X.shape[0]
    h = torch.relu(X @ p["W1"] + p["b1"])
    mu = (h if "mu" in heads else h.detach()) @ p["W_mu"] + p["b_mu"]
    logvar = (h if "logvar" in heads else h.detach()) @ p["W_logvar"] + p["b_logvar"]
    std = torch.exp(0.5 * logvar)
    # same value, gradient through σ scaled (2: the ½ of exp(½·logvar) forgotten)
    std = std.detach() + sigma_grad_factor * (std - std.detach())
    z = (mu.detach() if block_mu else mu) + (std.detach() if block_sigma else std) * eps
    h2 = torch.relu(z @ p["W2"] + p["b2"])
    logits = h2 @ p["W3"] + p["b3"]
    recon = torch.nn.functional.binary_cross_entropy_with_logits(logits, X, reduction="sum") / n
    kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum() / n
    return recon + kl_sign * (kl if kl_grad else kl.detach())


def _vae_evaluate(params, X, eps, **flags):
    torch = torchref.torch
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
               for k, v in params.items()}
    loss = _vae_reference(tensors, torch.tensor(X), torch.tensor(eps), **flags)
    loss.backward()
    return loss.detach().numpy().copy(), {k: t.grad.numpy().copy() for k, t in tensors.items()}


VAE_MUTANTS = (
    ("ae_hint_elbo_kl_sign", {"kl_sign": -1.0}),
    ("ae_hint_vae_kl_grad", {"kl_grad": False}),
    ("ae_hint_reparam_blocked_mu", {"block_mu": True}),
    ("ae_hint_reparam_blocked_sigma", {"block_sigma": True}),
    ("ae_hint_reparam_half", {"sigma_grad_factor": 2.0}),
    ("ae_hint_vae_fanout", {"heads": ("mu",)}),
    ("ae_hint_vae_fanout", {"heads": ("logvar",)}),
)


@dataclass
class LossAndGradsSpec(Exercise):
    """``fn(params, X, eps) -> (loss, grads)`` with ``grads`` a dict keyed like ``params``.

    ``params`` is handed over as one dict that lives where the student's code runs; after
    the call it is fetched again, so a function that changes a parameter in place fails.
    """

    make_inputs: Callable[[np.random.Generator, tuple], tuple] = None  # type: ignore[assignment]
    evaluate: Callable[..., tuple] = None  # type: ignore[assignment]
    mutants: Sequence[tuple[str, dict[str, Any]]] = ()
    tol: Tolerance = field(default_factory=Tolerance)
    reuses: Sequence[str] = ()

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> list[Case]:
        found = []
        for seed, shape, rng in seeded(seeds, shapes):
            params, X, eps = self.make_inputs(rng, shape)
            found.append(self.case(seed=seed, inputs={"X": X, "eps": eps, **params},
                                   data={"params": params}))
        return found

    def prepare(self, case: Case) -> None:
        params, X, eps = case.data["params"], case.inputs["X"], case.inputs["eps"]
        loss, grads = self.evaluate(params, X, eps)
        alternatives: dict[str, list] = {k: [] for k in ("loss", *params)}
        for key, flags in self.mutants:
            wrong_loss, wrong = self.evaluate(params, X, eps, **flags)
            if not np.isclose(wrong_loss, loss):
                alternatives["loss"].append((key, wrong_loss))
            for k in params:
                alternatives[k].append((key, wrong[k]))
        case.data.update(loss=loss, grads=grads, alternatives=alternatives)

    def drive(self, steps: Steps, case: Case, fn: Any) -> dict:
        __tracebackhide__ = True
        name = function_name(fn, self.id)
        require_callable(case, name, fn)
        given = {k: v.copy() for k, v in case.data["params"].items()}
        # one dict on the student's side, passed to the call and fetched again after it
        params = steps.method(given, "copy", name="dict.copy", fetch=False)
        call = steps.call(fn, params, case.inputs["X"], case.inputs["eps"], name=name,
                          arg_names=("params", "X", "eps"))
        after = steps.method(params, "copy", name="dict.copy")
        # grads as a list of (name, gradient) pairs: plain data in both graders, whatever
        # kind of mapping the student returned (a dict subclass would not cross as data)
        grads = steps.item(call, 1, name="grads")
        kind = steps.op("type_name", grads, name="type")
        pairs = steps.op("list", steps.method(grads, "items", name="grads.items", fetch=False),
                         name="list")
        return {"name": name, "call": call, "after": after, "kind": kind, "pairs": pairs}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        name = plan["name"]
        loss, _ = _unpack(case, name, done.value(case, plan["call"]), ("loss", "grads"))
        self._check_params_unchanged(case, name, done.value(case, plan["after"]))
        batch = case.inputs["X"].shape[0]
        with noting_reuse(case, name, self.reuses):
            compare_array(case, "loss", case.data["loss"], loss, tol=self.tol,
                          batch_size=batch, alternatives=case.data["alternatives"]["loss"],
                          header_key="hdr_mismatch_autograd")
            grads = self._grads(case, done, plan)
            expected = case.data["grads"]
            try:
                for k in VAE_PARAMS:
                    compare_array(case, f"grads[{k!r}]", expected[k], grads[k], tol=self.tol,
                                  batch_size=batch, alternatives=case.data["alternatives"][k],
                                  header_key="hdr_mismatch_autograd")
            except CheckFailure as failure:
                table = self._table(expected, grads)
                raise CheckFailure(f"{failure.args[0]}\n{table}", kind=failure.kind,
                                   exercise=failure.exercise) from None

    def _grads(self, case: Case, done: Done, plan: dict) -> dict:
        """The student's gradients as a plain dict, or the failure that says why not."""
        __tracebackhide__ = True
        pairs = done[plan["pairs"]]
        if pairs.status != "ok" or not isinstance(pairs.value, list) or not all(
                isinstance(p, tuple) and len(p) == 2 for p in pairs.value):
            kind = done[plan["kind"]]
            found = kind.value if kind.status == "ok" and isinstance(kind.value, str) else "?"
            raise CheckFailure(
                "\n".join([case.header("hdr_wrong_type", name="grads"),
                           M.bilingual("ae_grads_not_dict", indent="  ", found=found[:60])]),
                kind="type", exercise=case.exercise)
        grads = {k: v for k, v in pairs.value if isinstance(k, str)}
        for k in VAE_PARAMS:
            if k not in grads:
                raise case.failure("hdr_wrong", M.bilingual("ae_missing_grad", indent="  ",
                                                            name=k, keys=", ".join(VAE_PARAMS)),
                                   name="grads")
        return grads

    def _table(self, expected: Mapping[str, np.ndarray], grads: Mapping[str, Any]) -> str:
        """Which gradients agree with autograd and which do not, from the loss backwards."""
        good, bad = [], []
        for k in reversed(VAE_PARAMS):
            try:
                actual = np.asarray(grads[k], dtype=np.float64)
                same = actual.shape == expected[k].shape and bool(
                    self.tol.close(actual, expected[k]).all())
            except (TypeError, ValueError):
                same = False
            (good if same else bad).append(k)
        none = M.text("ae_none")
        return M.bilingual("ae_grad_table", indent="  ",
                           good=M.Text(", ".join(good) or none.en, ", ".join(good) or none.zh),
                           bad=M.Text(", ".join(bad) or none.en, ", ".join(bad) or none.zh))

    def _check_params_unchanged(self, case: Case, name: str, after: Any) -> None:
        __tracebackhide__ = True
        for k, original in case.data["params"].items():
            now = after.get(k) if isinstance(after, dict) else None
            if not (isinstance(now, np.ndarray) and now.shape == original.shape
                    and np.array_equal(now, original)):
                raise mutated_failure(case, name, f"params[{k!r}]")


register(
    LossAndGradsSpec(
        id="vae_loss_and_grads",
        **numbered("6.9", "VAE loss and gradients", "VAE 的损失与梯度", ASSIGNMENT),
        make_inputs=_vae_inputs,
        evaluate=_vae_evaluate,
        mutants=VAE_MUTANTS,
        reuses=("reparameterize_forward", "reparameterize_backward", "negative_elbo",
                "gaussian_kl"),
        answer_text=("dmu + dmu_z", "dh_mu + dh_logvar"),
    )
)
