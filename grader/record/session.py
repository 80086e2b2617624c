"""Trusted-side stand-ins for the student's names · 学生名字在可信进程中的代理.

A :class:`Session` talks to one sandboxed worker. The instructor's test cells
run here with each student name bound to what :meth:`Session.resolve` returns:
plain data by value, and a :class:`Remote` proxy for anything else (a function,
a class, an instance, a cache object). Calling a proxy, reading an attribute or
applying an operator sends one request; the answer is plain data or another
proxy. A student's exception comes back as the matching builtin exception type
(``NotImplementedError`` stays ``NotImplementedError``) with the student's own
traceback attached as a note.

Arrays keep their identity across the wire: every array that crosses has an id
on both sides, so an array the grader passed in and the student keeps in a
cache is the same object when it comes back, and an in-place change made in
the sandbox (to an argument, or later to a cached array) is copied into the
grader's array after each request. The checks' "inputs were not modified"
tests therefore see exactly what they would see in the student's kernel.
"""

from __future__ import annotations

import builtins
import re
import time
import warnings
import weakref
from typing import Any

import numpy as np

from grader.checks.steps import Done, Executor, Outcome, Ref, Steps
from grader.record.sandbox import Sandbox, SandboxError
from grader.runtime import wire
from grader.runtime.protocol import CAPABILITIES, FATAL, STARTED

__all__ = ["Session", "Remote", "RemoteError", "is_remote"]


class RemoteError(Exception):
    """A student exception whose type has no builtin counterpart."""


class Remote:
    """An object that lives in the sandbox. Only its handle is here."""

    __slots__ = ("_nnfs_session", "_nnfs_hid", "_nnfs_type", "__dict__", "__weakref__")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._nnfs_session.apply("getattr", self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_nnfs_") or name in ("__name__", "__qualname__"):
            object.__setattr__(self, name, value)
        else:
            self._nnfs_session.apply("setattr", self, name, value)

    def __delattr__(self, name: str) -> None:
        self._nnfs_session.apply("delattr", self, name)

    def __repr__(self) -> str:
        try:
            text = self._nnfs_session.apply("repr", self)
        except Exception:
            text = None
        if not isinstance(text, str):
            return f"<{self._nnfs_type} object in the sandbox>"
        return text[:2000]

    def __str__(self) -> str:
        try:
            text = self._nnfs_session.apply("str", self)
        except Exception:
            text = None
        return text[:2000] if isinstance(text, str) else repr(self)

    def __dir__(self) -> list[str]:
        return []

    def __copy__(self) -> Any:
        return self._nnfs_session.apply("copy", self)

    def __deepcopy__(self, memo: Any) -> Any:
        return self._nnfs_session.apply("deepcopy", self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("an object in the sandbox cannot be pickled")


def is_remote(value: Any) -> bool:
    return isinstance(value, Remote)


def _typed(kind: type | tuple[type, ...], what: str):
    def check(value: Any) -> Any:
        if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            raise TypeError(f"{what} returned {type(value).__name__}")
        return value

    return check


def _unary(fn: str, check=None):
    def method(self):
        result = self._nnfs_session.apply(fn, self)
        return check(result) if check else result

    return method


def _binary(fn: str, reflected: bool = False):
    if reflected:
        return lambda self, other: self._nnfs_session.apply(fn, other, self)
    return lambda self, other: self._nnfs_session.apply(fn, self, other)


def _methods(caps: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    arithmetic = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "truediv",
                  "floordiv": "floordiv", "mod": "mod", "pow": "pow", "matmul": "matmul",
                  "lshift": "lshift", "rshift": "rshift", "and": "and_", "or": "or_",
                  "xor": "xor"}
    for name, fn in arithmetic.items():
        if f"__{name}__" in caps:
            out[f"__{name}__"] = _binary(fn)
        if f"__r{name}__" in caps:
            out[f"__r{name}__"] = _binary(fn, reflected=True)
    for name in ("lt", "le", "gt", "ge"):
        if f"__{name}__" in caps:
            out[f"__{name}__"] = _binary(name)
    if "__eq__" in caps:
        out["__eq__"] = _binary("eq")
        out["__ne__"] = _binary("ne")
        out["__hash__"] = _unary("hash", _typed(int, "__hash__")) if "__hash__" in caps else None
    for name in ("neg", "pos", "abs", "invert"):
        if f"__{name}__" in caps:
            out[f"__{name}__"] = _unary(name)
    conversions = {"__len__": ("len", int), "__bool__": ("bool", bool),
                   "__float__": ("float", float), "__int__": ("int", int),
                   "__index__": ("index", int), "__complex__": ("complex", complex)}
    for dunder, (fn, kind) in conversions.items():
        if dunder in caps:
            out[dunder] = _unary(fn, _typed(kind, dunder))
    if "__round__" in caps:
        out["__round__"] = lambda self, *n: self._nnfs_session.apply("round", self, *n)
    if "__getitem__" in caps:
        out["__getitem__"] = _binary("getitem")
    if "__setitem__" in caps:
        out["__setitem__"] = lambda self, k, v: self._nnfs_session.apply("setitem", self, k, v)
    if "__delitem__" in caps:
        out["__delitem__"] = _binary("delitem")
    if "__contains__" in caps:
        out["__contains__"] = lambda self, item: bool(
            self._nnfs_session.apply("contains", self, item))
    if "__iter__" in caps and "__next__" in caps:  # an iterator (a generator): lazily
        out["__iter__"] = lambda self: self
    elif "__iter__" in caps:
        out["__iter__"] = lambda self: iter(_typed(list, "__iter__")(
            self._nnfs_session.apply("iter", self)))
    if "__next__" in caps:
        out["__next__"] = _unary("next")
    if "__call__" in caps:
        out["__call__"] = lambda self, *a, **k: self._nnfs_session.apply("call", self, *a, **k)
    return out


_CLASSES: dict[frozenset[str], type] = {}
_KNOWN_CAPS = frozenset(CAPABILITIES) | {
    "__eq__", "__hash__", "__call__"}


def _proxy_class(caps: frozenset[str]) -> type:
    cls = _CLASSES.get(caps)
    if cls is None:
        cls = type("Remote", (Remote,), {"__slots__": (), **_methods(caps)})
        _CLASSES[caps] = cls
    return cls


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
_EXC_CLASSES: dict[tuple[str, type], type] = {}


def _builtin_exception(bases: list[Any]) -> type[BaseException]:
    for name in bases:
        candidate = getattr(builtins, name, None) if isinstance(name, str) else None
        if isinstance(candidate, type) and issubclass(candidate, BaseException):
            if not issubclass(candidate, Exception):  # SystemExit, KeyboardInterrupt, ...
                return RemoteError
            return candidate
    return RemoteError


def make_exception(err: Any, hidden: bool) -> Exception:
    """The local exception for a student's remote one (never a BaseException-only type)."""
    if not isinstance(err, dict):
        return RemoteError("the sandbox reported an error")
    name = err.get("type") if isinstance(err.get("type"), str) else "Exception"
    bases = err.get("bases") if isinstance(err.get("bases"), list) else []
    message = err.get("msg") if isinstance(err.get("msg"), str) and not hidden else ""
    frames = err.get("frames") if isinstance(err.get("frames"), str) else ""
    base = _builtin_exception(bases)
    cls: type = base
    if not hidden and name != base.__name__ and _IDENT.match(name):
        cls = _EXC_CLASSES.get((name, base))
        if cls is None and len(_EXC_CLASSES) > 500:
            cls = base
        elif cls is None:
            cls = type(name, (base,), {"__module__": "sandbox"})
            _EXC_CLASSES[(name, base)] = cls
    try:
        exc = cls(message[:4000]) if message else cls()
    except Exception:
        exc = RemoteError(message[:4000])
    if frames and not hidden:
        exc.add_note(frames.rstrip("\n")[-6000:])
    exc.nnfs_remote = True  # type: ignore[attr-defined]
    return exc


class RemoteExecutor(Executor):
    """Runs a check's steps in the sandbox of ``session`` (see grader.checks.steps)."""

    def __init__(self, session: Session):
        self.session = session

    def run(self, steps: Steps) -> Done:
        return self.session.run_steps(steps)


class Session:
    """The grader's end of one sandbox: handles, mirrored arrays, requests with deadlines."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.deadline = time.monotonic() + 60.0
        self.hidden = False  # set while a hidden test runs: errors come back without text
        self.flags: list[str] = []
        self.started = False  # the worker reached the student's cells
        self.printed = 0
        self.requests = 0
        self._handles: dict[int, tuple[weakref.ref, int]] = {}
        self._arrays: dict[int, tuple[weakref.ref, int]] = {}
        self._array_ids: dict[int, int] = {}
        self._released_handles: set[int] = set()
        self._released_arrays: set[int] = set()
        self._generation = 0
        self._next_aid = 1
        self._functions: dict[int, Any] = {}
        self._function_ids: dict[int, int] = {}

    # ------------------------------------------------------------- requests
    def load(self, items: list[dict], config: dict, timeout: float) -> dict:
        self.deadline = time.monotonic() + timeout
        reply = self._request({"op": "load", "items": items, "config": config}, [])
        return reply if isinstance(reply, dict) else {}

    def resolve(self, checkpoint: str, name: str) -> Any:
        return self._request({"op": "resolve", "checkpoint": checkpoint, "name": name}, [])

    def apply(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        encoder = wire.Encoder(on_array=self._array_out, on_other=self._other_out)
        payload = {"op": "apply", "fn": fn, "args": encoder.encode(list(args)),
                   "kwargs": encoder.encode(dict(kwargs))}
        return self._request(payload, encoder.buffers)

    def run_steps(self, steps: Steps) -> Done:
        """Send a check's steps in one request; their outcomes come back in one reply."""
        encoder = wire.Encoder(on_other=self._other_out)
        items = []
        for step in steps.items:
            target = step.target if step.kind == "op" else encoder.encode(step.target)
            items.append({"kind": step.kind, "target": target,
                          "args": encoder.encode(list(step.args)),
                          "kwargs": encoder.encode(dict(step.kwargs)), "fetch": step.fetch,
                          "unchanged": list(step.unchanged)})
        outcomes = self._request({"op": "steps", "steps": items}, encoder.buffers)
        if len(outcomes) != len(steps.items):
            error = SandboxError("protocol", "wrong number of step outcomes")
            self.sandbox.kill(error)
            raise error
        return Done(steps, outcomes)

    def collect_flags(self) -> list[str]:
        """Move the worker's notes into ``flags`` (also after the sandbox was killed)."""
        for flag in self.sandbox.read_flags() + self.sandbox.pending_flags:
            if flag == STARTED:
                self.started = True
            elif flag not in self.flags and len(self.flags) < 300:
                self.flags.append(flag)
        self.sandbox.pending_flags = []
        return self.flags

    def _warnings(self, items: Any) -> None:
        """Warnings the student's code raised, raised again here (checks may record them)."""
        if not isinstance(items, list):
            return
        for item in items[:50]:
            if not isinstance(item, list) or len(item) != 4:
                continue
            name, message, filename, lineno = item
            category = getattr(builtins, name, None) if isinstance(name, str) else None
            if not (isinstance(category, type) and issubclass(category, Warning)):
                category = UserWarning
            warnings.warn_explicit(str(message)[:1000], category,
                                   str(filename)[:200] or "<sandbox>",
                                   lineno if type(lineno) is int else 0)

    def _take_releases(self) -> list:
        released = [sorted(self._released_handles), sorted(self._released_arrays)]
        self._released_handles.clear()
        self._released_arrays.clear()
        return released

    def _absorb(self, body: dict, decoder: wire.Decoder) -> None:
        """Notes and in-place array changes that come with every message from the sandbox."""
        if FATAL in body:
            raise wire.ProtocolError(str(body[FATAL])[:500])
        self.collect_flags()
        if type(body.get("out")) is int:
            self.printed = body["out"]
        updates = body.get("upd") or []
        if not isinstance(updates, list):
            raise wire.ProtocolError("bad updates")
        for item in updates:
            if not isinstance(item, list) or len(item) != 2:
                raise wire.ProtocolError("bad update")
            decoder.decode(item[1])

    def _request(self, payload: dict, buffers: list) -> Any:
        payload["rel"] = self._take_releases()
        self.requests += 1
        body, reply_buffers = self.sandbox.request(
            payload, buffers, self.deadline - time.monotonic())
        try:
            while isinstance(body, dict) and "cb" in body:
                answer, answer_buffers = self._callback(body, reply_buffers)
                body, reply_buffers = self.sandbox.request(
                    answer, answer_buffers, self.deadline - time.monotonic())
            if not isinstance(body, dict):
                raise wire.ProtocolError("bad reply")
            decoder = wire.Decoder(reply_buffers, on_array=self._array_in,
                                   on_handle=self._handle_in)
            self._absorb(body, decoder)
            self._warnings(body.get("warn"))
            if "err" in body:
                raise make_exception(body["err"], self.hidden)
            if "steps" in body:
                return [_outcome(item, decoder, self.hidden)
                        for item in _list(body["steps"], "steps")]
            if "ok" not in body:
                raise wire.ProtocolError("reply without a result")
            return decoder.decode(body["ok"])
        except wire.ProtocolError as exc:
            error = SandboxError("protocol", str(exc)[:300])
            self.sandbox.kill(error)
            raise self.sandbox.dead or error from None

    # --------------------------------------------------------------- arrays
    def _array_out(self, array: Any) -> int:
        aid = self._array_ids.get(id(array))
        if aid is not None:
            entry = self._arrays.get(aid)
            if entry is not None and entry[0]() is array:
                return aid
        aid = self._next_aid
        self._next_aid += 1
        self._track_array(aid, array)
        return aid

    def _track_array(self, aid: int, array: Any) -> None:
        self._generation += 1
        generation = self._generation
        if wire.is_rng(array):  # no weak references to generators: kept for the session
            self._arrays[aid] = ((lambda kept=array: kept), generation)  # type: ignore[misc]
            self._array_ids[id(array)] = aid
            self._released_arrays.discard(aid)
            return

        session = weakref.ref(self)

        def gone(_ref, aid=aid, generation=generation):
            owner = session()
            if owner is not None:
                owner._forget_array(aid, generation)

        self._arrays[aid] = (weakref.ref(array, gone), generation)
        self._array_ids[id(array)] = aid
        self._released_arrays.discard(aid)

    def _forget_array(self, aid: int, generation: int) -> None:
        entry = self._arrays.get(aid)
        if entry is not None and entry[1] == generation:
            del self._arrays[aid]
            self._released_arrays.add(aid)

    def _array_in(self, aid: Any, array: Any) -> Any:
        if aid is None:
            return array
        entry = self._arrays.get(aid)
        local = entry[0]() if entry is not None else None
        if local is not None and wire.is_rng(array):
            if type(local) is type(array):
                wire.set_rng(local, array)  # the student drew from it: same state here
                return local
        elif local is not None and not wire.is_rng(local):
            try:
                if local.shape != array.shape and local.size == array.size:
                    local.shape = array.shape
                if local.shape == array.shape and local.dtype == array.dtype:
                    if local.flags.writeable:
                        np.copyto(local, array)
                    return local
            except (ValueError, AttributeError, TypeError):
                pass
        self._track_array(aid, array)
        return array

    # -------------------------------------------------------------- handles
    def _other_out(self, value: Any) -> Any:
        if isinstance(value, Remote) and value._nnfs_session is self:
            return {"x": value._nnfs_hid}
        if type(value) is Ref:
            return {"r": value.index}
        if callable(value) and not isinstance(value, Remote):
            fid = self._function_ids.get(id(value))
            if fid is None or self._functions.get(fid) is not value:
                fid = len(self._functions) + 1
                self._functions[fid] = value
                self._function_ids[id(value)] = fid
            name = getattr(value, "__name__", "function")
            return {"f": [fid, name if isinstance(name, str) else "function"]}
        raise TypeError(f"a {type(value).__name__} cannot be sent to the sandbox")

    def _callback(self, body: dict, buffers: list) -> tuple[dict, list]:
        """The student's code called one of our functions: run it here, on plain data."""
        decoder = wire.Decoder(buffers, on_array=self._array_in, on_handle=self._handle_in)
        self._absorb(body, decoder)
        function = self._functions.get(body.get("cb"))
        if function is None:
            raise wire.ProtocolError("unknown function")
        args = decoder.decode(body.get("args", {"l": []}))
        kwargs = decoder.decode(body.get("kwargs", {"d": []}))
        if not isinstance(args, list) or not isinstance(kwargs, dict) or \
                not all(isinstance(k, str) for k in kwargs):
            raise wire.ProtocolError("bad callback arguments")
        encoder = wire.Encoder(on_array=self._array_out, on_other=self._other_out)
        try:
            value = function(*args, **kwargs)
            reply = {"cbret": encoder.encode(value)}
        except SandboxError:
            raise
        except Exception as exc:
            encoder = wire.Encoder(on_array=self._array_out, on_other=self._other_out)
            reply = {"cberr": {"type": type(exc).__name__, "msg": str(exc)[:2000]}}
        reply["rel"] = self._take_releases()
        return reply, encoder.buffers

    def _handle_in(self, tag: str, body: Any) -> Any:
        if tag == "f":
            if type(body) is not int or body not in self._functions:
                raise wire.ProtocolError("unknown function")
            return self._functions[body]
        if tag != "h" or not isinstance(body, list) or len(body) != 2 or \
                type(body[0]) is not int or not isinstance(body[1], dict):
            raise wire.ProtocolError("bad handle")
        hid, meta = body
        entry = self._handles.get(hid)
        existing = entry[0]() if entry is not None else None
        if existing is not None:
            return existing
        caps = meta.get("caps") if isinstance(meta.get("caps"), list) else []
        caps = frozenset(c for c in caps[:100] if c in _KNOWN_CAPS)
        if meta.get("call") is True:
            caps |= {"__call__"}
        proxy = object.__new__(_proxy_class(caps))
        object.__setattr__(proxy, "_nnfs_session", self)
        object.__setattr__(proxy, "_nnfs_hid", hid)
        kind = meta.get("type")
        object.__setattr__(proxy, "_nnfs_type", kind[:100] if isinstance(kind, str) else "?")
        name = meta.get("name")
        if isinstance(name, str) and _IDENT.match(name):
            object.__setattr__(proxy, "__name__", name)
            object.__setattr__(proxy, "__qualname__", name)
        self._generation += 1
        generation = self._generation

        session = weakref.ref(self)

        def gone(_ref, hid=hid, generation=generation):
            owner = session()
            if owner is not None:
                owner._forget_handle(hid, generation)

        self._handles[hid] = (weakref.ref(proxy, gone), generation)
        self._released_handles.discard(hid)
        return proxy

    def _forget_handle(self, hid: int, generation: int) -> None:
        entry = self._handles.get(hid)
        if entry is not None and entry[1] == generation:
            del self._handles[hid]
            self._released_handles.add(hid)


def _list(value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise wire.ProtocolError(f"bad {what}")
    return value


def _outcome(item: Any, decoder: wire.Decoder, hidden: bool) -> Outcome:
    """One step's outcome from the sandbox, checked field by field (it is untrusted data).

    In a hidden test the student's exception keeps only its builtin type: its own type's
    name and its message could carry the hidden inputs out into the feedback."""
    if not isinstance(item, dict) or item.get("status") not in ("ok", "error", "skipped"):
        raise wire.ProtocolError("bad step outcome")
    error = item.get("error")
    if error is not None:
        if not isinstance(error, dict):
            raise wire.ProtocolError("bad step error")
        error = {"type": str(error.get("type", "Exception"))[:100],
                 "msg": str(error.get("msg", ""))[:4000],
                 "frames": str(error.get("frames", ""))[-8000:],
                 "not_done": error.get("not_done") is True,
                 "bases": [str(b)[:100] for b in _list(error.get("bases", []), "bases")[:12]]}
        if hidden:
            error.update(type=_builtin_exception(error["bases"]).__name__, msg="", frames="")
    mutated = [i for i in _list(item.get("mutated", []), "mutated")[:100] if type(i) is int]
    earlier = [(p[0], p[1]) for p in _list(item.get("mutated_earlier", []), "mutated")[:100]
               if isinstance(p, list) and len(p) == 2 and all(type(i) is int for i in p)]
    warned = [w for w in _list(item.get("warnings", []), "warnings")[:50]
              if isinstance(w, list) and len(w) == 4]
    value = decoder.decode(item["value"]) if "value" in item else None
    return Outcome.from_dict({"status": item["status"], "value": value, "error": error,
                              "mutated": mutated, "mutated_earlier": earlier,
                              "warnings": warned})
