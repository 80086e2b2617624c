"""4.8–4.9 · modules on the student's engine: ``Linear``, ``ReLU``, ``Sequential`` (with
``parameters()`` and ``zero_grad()``) and the ``SGD`` optimiser, each against ``torch.nn`` /
``torch.optim`` on the same weights.

The check builds the student's model with their classes, reads the initial parameters
(shape, ``requires_grad``, the range of the initialisation), then sets every parameter
through ``parameters()`` to known values (``p.data = W``), so that PyTorch can run on the
same weights. Every call of one check runs as one batch of steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import Case, compare_array, is_plain, require_callable
from grader.checks.exercises import register
from grader.checks.exercises.autodiff.common import (
    EngineExercise,
    backward,
    class_name,
    expect_no_grad,
    read_array,
    step_value,
)
from grader.checks.exercises.autodiff.nets import (
    check_count,
    known_network,
    load_weights,
    param_names,
    parameter_steps,
    student_classes,
    student_model,
    torch_grads,
    torch_model,
)
from grader.checks.exercises.autodiff.programs import TOL
from grader.checks.specs import numbered, seeded
from grader.checks.steps import Done, Ref, Steps

ASSIGNMENT = "04_autodiff"

def _check_init(case: Case, done: Done, plan: dict, names: list[str],
                pairs: Sequence[tuple[int, int]]) -> None:
    """Each initial parameter: requires_grad, its shape, values in [-k, k], not constant."""
    __tracebackhide__ = True
    shapes = [s for din, dout in pairs for s in ((din, dout), (dout,))]
    bounds = [1 / math.sqrt(din) for din, _ in pairs for _ in range(2)]
    layers = [(din, dout) for din, dout in pairs for _ in range(2)]
    for j, name in enumerate(names):
        flag = step_value(case, done, plan["requires"][j])
        if flag is not True:
            raise case.failure("autodiff_hdr_init",
                               M.bilingual("autodiff_requires_grad", indent="  ", name=name,
                                           found=repr(flag) if is_plain(flag) else "?"),
                               name=name, num_inputs=layers[j][0], num_outputs=layers[j][1])
        value = read_array(case, done, plan["initial"][j], plan["cls"], plan["cls"])
        array = np.asarray(value) if is_plain(value) else None
        problem = None
        if array is None or array.dtype.kind not in "iuf" or array.shape != shapes[j]:
            problem = M.bilingual("autodiff_init_shape", indent="  ", name=name,
                                  found=tuple(array.shape) if array is not None else "?",
                                  expected=shapes[j])
        elif array.size and float(np.max(np.abs(array))) > bounds[j] * (1 + 1e-12):
            problem = M.bilingual("autodiff_init_bounds", indent="  ", name=name,
                                  k=f"{bounds[j]:.4g}", low=f"{array.min():.4g}",
                                  high=f"{array.max():.4g}")
        elif array.size >= 4 and np.ptp(array) == 0:
            problem = M.bilingual("autodiff_init_constant", indent="  ", name=name,
                                  count=array.size)
        if problem:
            raise case.failure("autodiff_hdr_init", problem, name=name,
                               num_inputs=layers[j][0], num_outputs=layers[j][1])


def _expect_cleared(case: Case, done: Done, ref: Ref, name: str, call: str) -> None:
    """After zero_grad(): ``.grad`` is None (PyTorch's default) or all zeros."""
    __tracebackhide__ = True
    value = step_value(case, done, ref)
    if value is None or (isinstance(value, np.ndarray) and value.dtype.kind in "iuf"
                         and not np.any(value)):
        return
    shape = tuple(np.shape(value)) if is_plain(value) else "?"
    raise case.failure("autodiff_hdr_not_zeroed",
                       M.bilingual("autodiff_not_zeroed", indent="  ", name=name, call=call,
                                   shape=shape),
                       name=name, call=call)


def _compare_grad(case: Case, done: Done, ref: Ref, name: str, expected: np.ndarray,
                  cls: str, alternatives: list | None = None) -> None:
    __tracebackhide__ = True
    value = read_array(case, done, ref, f"{cls}.backward", cls)
    if value is None:
        raise case.failure("hdr_mismatch_autograd",
                           M.bilingual("autodiff_grad_missing", indent="  ", name=name),
                           name=f"{name}.grad")
    compare_array(case, f"{name}.grad", expected, value, tol=TOL,
                  alternatives=alternatives or [], header_key="hdr_mismatch_autograd")


# ------------------------------------------------------------------------- 4.8 modules


@dataclass
class ModulesExercise(EngineExercise):
    """``check(id, Tensor, Linear, ReLU, Sequential, seeds=[...], sizes=[(N, d0, ..., dk)])``.

    Per size: ``Sequential(Linear(d0, d1, rng), ReLU(), ..., Linear(dk-1, dk, rng))``; its
    ``parameters()`` (count, order, ``requires_grad``, initial shapes and range); with known
    weights loaded, ``out = model(Tensor(X))``, ``out.backward(G)`` and every parameter's
    ``.grad`` (``X.grad`` stays None); ``model.zero_grad()``; a second batch's gradients,
    which must not include the first's.
    """

    def make_cases(self, *, seeds: Sequence[int], sizes: Sequence[tuple]) -> list[Case]:
        found = []
        for seed, size, rng in seeded(seeds, sizes):
            data, network = known_network(rng, seed, size)
            n, dk = size[0], size[-1]
            inputs = {"X": rng.standard_normal((n, size[1])), "G": rng.standard_normal((n, dk)),
                      "X2": rng.standard_normal((n, size[1])),
                      "G2": rng.standard_normal((n, dk))}
            found.append(self.case(
                seed=seed, inputs=inputs, data=data,
                description=f"{network}, X.shape={(n, size[1])}, seed={seed}"))
        return found

    def prepare(self, case: Case) -> None:
        torch = torchref.torch
        net, linears = torch_model(case.data["pairs"], case.data["weights"])
        out = net(torch.tensor(case.inputs["X"]))
        out.backward(torch.tensor(case.inputs["G"]))
        first = torch_grads(linears)
        net.zero_grad()
        net(torch.tensor(case.inputs["X2"])).backward(torch.tensor(case.inputs["G2"]))
        second = torch_grads(linears)
        case.data.update(out=out.detach().numpy().copy(), grads=first, grads2=second)

    def drive(self, steps: Steps, case: Case, Tensor: Any, Linear: Any, ReLU: Any,
              Sequential: Any) -> dict:
        __tracebackhide__ = True
        classes = {"Tensor": Tensor, "Linear": Linear, "ReLU": ReLU, "Sequential": Sequential}
        names = student_classes(case, classes)
        weights = case.data["weights"]
        model, (length, params, _) = student_model(steps, case, classes, names)
        plan: dict[str, Any] = {"cls": names["Tensor"], "names": names, "length": length}
        plan["requires"] = [steps.attr(p, "requires_grad", name=names["Linear"]) for p in params]
        plan["initial"] = [steps.attr(p, "data", name=names["Linear"]) for p in params]
        load_weights(steps, params, weights, names)
        _, again, _ = parameter_steps(steps, model, names, len(weights))
        plan["again"] = [steps.attr(p, "data", name=names["Linear"]) for p in again]
        X = steps.call(Tensor, case.inputs["X"], name=names["Tensor"], fetch=False)
        out = steps.call(model, X, name=f"{names['Sequential']}.forward", fetch=False)
        plan["out"] = steps.attr(out, "data", name=f"{names['Sequential']}.forward")
        plan["before"] = [steps.attr(p, "grad", name=names["Tensor"]) for p in params]
        plan["backward"] = steps.method(out, "backward", case.inputs["G"],
                                        name=f"{names['Tensor']}.backward", fetch=False)
        plan["grads"] = [steps.attr(p, "grad", name=f"{names['Tensor']}.backward")
                         for p in params]
        plan["x_grad"] = steps.attr(X, "grad", name=f"{names['Tensor']}.backward")
        plan["zero"] = steps.method(model, "zero_grad", name=f"{names['Sequential']}.zero_grad",
                                    fetch=False)
        plan["cleared"] = [steps.attr(p, "grad", name=f"{names['Sequential']}.zero_grad")
                           for p in params]
        X2 = steps.call(Tensor, case.inputs["X2"], name=names["Tensor"], fetch=False)
        out2 = steps.call(model, X2, name=f"{names['Sequential']}.forward", fetch=False)
        plan["backward2"] = steps.method(out2, "backward", case.inputs["G2"],
                                         name=f"{names['Tensor']}.backward", fetch=False)
        plan["grads2"] = [steps.attr(p, "grad", name=f"{names['Tensor']}.backward")
                          for p in params]
        layers = steps.attr(model, "layers", name=names["Sequential"], fetch=False)
        plan["layers"] = steps.op("len", layers, name=f"len({names['Sequential']}.layers)")
        return plan

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        pairs, cls = case.data["pairs"], plan["cls"]
        names = param_names(pairs)
        model = f"{plan['names']['Sequential']}(...)"
        check_count(case, done, plan["length"], len(names), model)
        _check_init(case, done, plan, names, pairs)
        for name, ref, W in zip(names, plan["again"], case.data["weights"], strict=True):
            value = step_value(case, done, ref)
            if not (isinstance(value, np.ndarray) and value.shape == W.shape
                    and np.array_equal(value, W)):
                raise case.failure("autodiff_hdr_parameters",
                                   M.bilingual("autodiff_own_tensors", indent="  ", name=name),
                                   model=model)
        out = read_array(case, done, plan["out"], f"{plan['names']['Sequential']}.forward", cls)
        compare_array(case, "out.data", case.data["out"], out, tol=TOL,
                      header_key="hdr_mismatch_autograd")
        for name, ref in zip(names, plan["before"], strict=True):
            expect_no_grad(case, done, ref, name, cls, "autodiff_grad_before")
        backward(case, done, plan["backward"])
        for name, ref, expected in zip(names, plan["grads"], case.data["grads"], strict=True):
            _compare_grad(case, done, ref, name, expected, cls)
        expect_no_grad(case, done, plan["x_grad"], "X", cls, "autodiff_grad_not_required")
        step_value(case, done, plan["zero"])
        for name, ref in zip(names, plan["cleared"], strict=True):
            _expect_cleared(case, done, ref, name, "model.zero_grad()")
        backward(case, done, plan["backward2"])
        for name, ref, first, second in zip(names, plan["grads2"], case.data["grads"],
                                            case.data["grads2"], strict=True):
            _compare_grad(case, done, ref, name, second, cls,
                          [("autodiff_hint_not_zeroed", first + second)])
        outcome = done[plan["layers"]]
        count = outcome.value if outcome.status == "ok" else None
        if count != 2 * len(pairs) - 1:  # the Linears and the ReLUs between them
            raise case.failure("autodiff_hdr_layers",
                               M.bilingual("autodiff_layers", indent="  ",
                                           count=2 * len(pairs) - 1,
                                           found="?" if count is None else count),
                               model=model)


register(ModulesExercise(
    id="modules",
    answer_text=("[p for layer in self.layers for p in layer.parameters()]",
                 "x @ self.W + self.b"),
    **numbered("4.8", "modules: Linear, ReLU, Sequential", "模块：Linear、ReLU、Sequential", ASSIGNMENT),
))


# ----------------------------------------------------------------------------- 4.9 SGD


@dataclass
class SgdExercise(EngineExercise):
    """``check(id, Tensor, SGD, seeds=[...], shapes=[...], lrs=[...])``: one parameter per
    shape, ``SGD(params, lr=lrs[0])``, then one step per learning rate: the check sets
    ``opt.lr`` when it changes and every ``p.grad`` (one of them None at the second step),
    calls ``opt.step()`` and reads every ``p.data``; finally ``opt.zero_grad()``. Compared
    with ``torch.optim.SGD`` on the same parameters and gradients."""

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   lrs: Sequence[float]) -> list[Case]:
        found = []
        for seed in seeds:
            rng = np.random.default_rng(seed)
            shapes_ = [tuple(s) for s in shapes]
            params = [rng.standard_normal(s) for s in shapes_]
            grads = [[None if (t == 1 and j == 0) else rng.standard_normal(s)
                      for j, s in enumerate(shapes_)] for t in range(len(lrs))]
            found.append(self.case(
                seed=seed, inputs={f"params[{j}]": p for j, p in enumerate(params)},
                data={"params": params, "grads": grads, "lrs": [float(v) for v in lrs]},
                description=(f"SGD(params, lr={float(lrs[0])!r}) on parameters of shapes "
                             f"{shapes_}, learning rates {[float(v) for v in lrs]} by step "
                             f"(params[0].grad is None at step 2), seed={seed}")))
        return found

    @staticmethod
    def _torch(params, grads, lrs, *, fixed_lr=False, maximize=False) -> list[list[np.ndarray]]:
        torch = torchref.torch
        tensors = [torch.tensor(p, requires_grad=True) for p in params]
        opt = torch.optim.SGD(tensors, lr=lrs[0], maximize=maximize)
        found = []
        for step, lr in enumerate(lrs):
            if not fixed_lr:
                opt.param_groups[0]["lr"] = lr
            for t, g in zip(tensors, grads[step], strict=True):
                t.grad = None if g is None else torch.tensor(g)
            opt.step()
            found.append([t.detach().numpy().copy() for t in tensors])
        return found

    def prepare(self, case: Case) -> None:
        data = case.data
        data["expected"] = self._torch(data["params"], data["grads"], data["lrs"])
        data["fixed_lr"] = self._torch(data["params"], data["grads"], data["lrs"], fixed_lr=True)
        data["maximize"] = self._torch(data["params"], data["grads"], data["lrs"], maximize=True)

    def drive(self, steps: Steps, case: Case, Tensor: Any, SGD: Any) -> dict:
        __tracebackhide__ = True
        cls, opt_cls = class_name(Tensor, "Tensor"), class_name(SGD, "SGD")
        require_callable(case, cls, Tensor)
        require_callable(case, opt_cls, SGD)
        data = case.data
        params = [steps.call(Tensor, p, name=cls, requires_grad=True, fetch=False)
                  for p in data["params"]]
        plist = steps.method([], "copy", name=opt_cls, fetch=False)
        for p in params:
            steps.method(plist, "append", p, name=opt_cls, fetch=False)
        opt = steps.call(SGD, plist, lr=data["lrs"][0], name=opt_cls,
                         arg_names=("params",), fetch=False)
        after: list[list[Ref]] = []
        steps_made: list[Ref] = []
        for t, lr in enumerate(data["lrs"]):
            if t and lr != data["lrs"][t - 1]:
                steps.method(opt, "__setattr__", "lr", lr, name=f"{opt_cls}.lr", fetch=False)
            for p, g in zip(params, data["grads"][t], strict=True):
                steps.method(p, "__setattr__", "grad", g, name=cls, fetch=False)
            steps_made.append(steps.method(opt, "step", name=f"{opt_cls}.step", fetch=False))
            after.append([steps.attr(p, "data", name=f"{opt_cls}.step") for p in params])
        zero = steps.method(opt, "zero_grad", name=f"{opt_cls}.zero_grad", fetch=False)
        cleared = [steps.attr(p, "grad", name=f"{opt_cls}.zero_grad") for p in params]
        return {"cls": cls, "opt": opt_cls, "steps": steps_made, "after": after, "zero": zero,
                "cleared": cleared}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        data = case.data
        for t, (step, refs) in enumerate(zip(plan["steps"], plan["after"], strict=True)):
            step_value(case, done, step)
            for j, ref in enumerate(refs):
                value = read_array(case, done, ref, f"{plan['opt']}.step", plan["cls"])
                alternatives = [("autodiff_hint_lr_fixed", data["fixed_lr"][t][j]),
                                ("hint_wrong_sign", data["maximize"][t][j])]
                compare_array(case, f"params[{j}].data after step {t + 1}",
                              data["expected"][t][j], value, tol=TOL,
                              alternatives=alternatives)
        step_value(case, done, plan["zero"])
        for j, ref in enumerate(plan["cleared"]):
            _expect_cleared(case, done, ref, f"params[{j}]", "opt.zero_grad()")


register(SgdExercise(
    id="sgd_optimizer",
    answer_text=("p.data -= self.lr * p.grad",),
    **numbered("4.9", "the SGD optimiser", "SGD 优化器", ASSIGNMENT),
))
