"""What the module exercises share: networks of ``Linear`` and ``ReLU`` layers with known
weights, built in torch for the reference and with the student's classes as steps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import Case, require_callable
from grader.checks.exercises.autodiff.common import class_name, step_value
from grader.checks.steps import Done, Ref, Steps


def layer_sizes(size: Sequence[int]) -> list[tuple[int, int]]:
    """(num_inputs, num_outputs) of each Linear of ``(N, d0, d1, ..., dk)``."""
    widths = list(size)[1:]
    return list(zip(widths[:-1], widths[1:], strict=True))


def param_names(pairs: Sequence[tuple[int, int]]) -> list[str]:
    return [f"{kind}{i + 1}" for i in range(len(pairs)) for kind in ("W", "b")]


def known_weights(rng: np.random.Generator, pairs: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    """Known values for W1, b1, W2, b2, ... (what the check loads into both models)."""
    found = []
    for din, dout in pairs:
        found.append(rng.standard_normal((din, dout)) / math.sqrt(din))
        found.append(rng.standard_normal(dout) * 0.3)
    return found


def known_network(rng: np.random.Generator, seed: int, size: Sequence[int]) -> tuple[dict, str]:
    """A case's network of ``size`` = ``(N, d0, ..., dk)``, its weights drawn from ``rng``: the
    case's data (the layer sizes, the known weights, the seed of each ``Linear``'s own
    generator, from the case's ``seed``) and the words that describe it."""
    pairs = layer_sizes(size)
    weights = known_weights(rng, pairs)
    layers = ", ".join(f"Linear({a}, {b}, rng)" for a, b in pairs)
    data = {"pairs": pairs, "weights": weights,
            "init_seeds": [seed * 100 + i for i in range(len(pairs))]}
    return data, f"Sequential({layers.replace('), L', '), ReLU(), L')}) with known weights"


def torch_model(pairs: Sequence[tuple[int, int]], weights: Sequence[np.ndarray]):
    """``nn.Sequential(Linear, ReLU, Linear, ...)`` in float64 with ``weights`` loaded."""
    torch = torchref.torch
    layers: list[Any] = []
    for i, (din, dout) in enumerate(pairs):
        if i:
            layers.append(torch.nn.ReLU())
        layers.append(torch.nn.Linear(din, dout).double())
    net = torch.nn.Sequential(*layers)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for layer, W, b in zip(linears, weights[0::2], weights[1::2], strict=True):
            layer.weight.copy_(torch.tensor(W.T))
            layer.bias.copy_(torch.tensor(b))
    return net, linears


def torch_grads(linears: Sequence[Any]) -> list[np.ndarray | None]:
    found: list[np.ndarray | None] = []
    for layer in linears:
        for tensor, transpose in ((layer.weight, True), (layer.bias, False)):
            grad = tensor.grad
            found.append(None if grad is None else
                         (grad.T if transpose else grad).detach().numpy().copy())
    return found


def torch_params(linears: Sequence[Any]) -> list[np.ndarray]:
    return [t.detach().numpy().copy().T if t.ndim == 2 else t.detach().numpy().copy()
            for layer in linears for t in (layer.weight, layer.bias)]


def model_steps(steps: Steps, classes: dict[str, Any], names: dict[str, str],
                 pairs: Sequence[tuple[int, int]], init_seeds: Sequence[int]) -> Ref:
    """``Sequential(Linear(d0, d1, rng), ReLU(), Linear(d1, d2, rng), ...)`` with the
    student's classes; each Linear gets a NumPy generator of its own."""
    layers = []
    for i, ((din, dout), seed) in enumerate(zip(pairs, init_seeds, strict=True)):
        if i:
            layers.append(steps.call(classes["ReLU"], name=names["ReLU"], fetch=False))
        layers.append(steps.call(classes["Linear"], din, dout, np.random.default_rng(seed),
                                 name=names["Linear"],
                                 arg_names=("num_inputs", "num_outputs", "rng"), fetch=False))
    return steps.call(classes["Sequential"], *layers, name=names["Sequential"], fetch=False)


def parameter_steps(steps: Steps, model: Ref, names: dict[str, str], count: int,
                     ) -> tuple[Ref, list[Ref], Ref]:
    """``list(model.parameters())``, its length, and (when it is long enough) each item."""
    found = steps.method(model, "parameters", name=f"{names['Sequential']}.parameters",
                         fetch=False)
    plist = steps.op("list", found, name=f"{names['Sequential']}.parameters", fetch=False)
    length = steps.op("len", plist, name=f"{names['Sequential']}.parameters")
    return length, [steps.item(plist, j, name=f"{names['Sequential']}.parameters")
                    for j in range(count)], plist


def student_classes(case: Case, classes: dict[str, Any]) -> dict[str, str]:
    """The student's classes by name, each one callable (or the failure that says so)."""
    __tracebackhide__ = True
    names = {k: class_name(v, k) for k, v in classes.items()}
    for key, cls in classes.items():
        require_callable(case, names[key], cls)
    return names


def student_model(steps: Steps, case: Case, classes: dict[str, Any], names: dict[str, str]
                  ) -> tuple[Ref, tuple[Ref, list[Ref], Ref]]:
    """The student's ``Sequential`` of the case's layers (:func:`model_steps`) and its
    parameters (:func:`parameter_steps`)."""
    model = model_steps(steps, classes, names, case.data["pairs"], case.data["init_seeds"])
    return model, parameter_steps(steps, model, names, len(case.data["weights"]))


def load_weights(steps: Steps, params: Sequence[Ref], weights: Sequence[np.ndarray],
                 names: dict[str, str]) -> None:
    """``p.data = W`` for every parameter, so that torch runs on the same weights."""
    for p, W in zip(params, weights, strict=True):
        steps.method(p, "__setattr__", "data", W, name=names["Linear"], fetch=False)


def check_count(case: Case, done: Done, length: Ref, expected: int, model: str) -> None:
    __tracebackhide__ = True
    found = step_value(case, done, length)
    if found != expected:
        raise case.failure("autodiff_hdr_parameters",
                           M.bilingual("autodiff_parameter_count", indent="  ", model=model,
                                       found=found, expected=expected),
                           M.bilingual("autodiff_hint_collect", indent="  "), model=model)


