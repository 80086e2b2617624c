"""The trusted side of the wire · 可信一侧的通信端.

A :class:`Session` talks to one sandboxed worker. The instructor's test cells run here
with each student name bound to what :meth:`Session.resolve` returns: plain data by
value, and a :class:`Remote` handle for anything else (a function, a class, an
instance). A handle does nothing here: the checks write their calls on the student's
code as steps (:mod:`grader.checks.steps`), and :meth:`Session.run_steps` sends them in
one request and reads every outcome from one reply (:class:`RemoteExecutor`). What the
steps return is plain data, or another handle; a student's exception is data in its
step's outcome. While the steps run, the student's code may call a function of the
check's (the f of a numerical gradient): the call comes here, runs on plain data, and its
result goes back (:meth:`Session._callback`).
"""

from __future__ import annotations

import builtins
import re
import time
import weakref
from typing import Any

from grader.checks.steps import Done, Executor, Outcome, Ref, Steps
from grader.record.sandbox import Sandbox, SandboxError
from grader.runtime import wire
from grader.runtime.protocol import FATAL, STARTED

__all__ = ["Session", "Remote", "RemoteError", "RemoteExecutor"]


class RemoteError(Exception):
    """A student exception whose type has no builtin counterpart."""


class Remote:
    """An object that lives in the sandbox: only its handle is here. A check passes it to
    :class:`grader.checks.steps.Steps`; it answers nothing itself (no attribute, no
    operator reaches the student's object from here)."""

    __slots__ = ("_nnfs_session", "_nnfs_hid", "_nnfs_type", "__dict__", "__weakref__")

    def __repr__(self) -> str:
        return f"<{self._nnfs_type} object in the sandbox>"

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("an object in the sandbox cannot be pickled")


class _CallableRemote(Remote):
    """A handle of a function or a class: ``callable()`` is true, as it is in the kernel
    (a check asks before it writes a call into its steps)."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{self._nnfs_type} lives in the sandbox: call it through Steps")


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
    """The grader's end of one sandbox: handles, steps and callbacks, requests with deadlines."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.deadline = time.monotonic() + 60.0
        self.hidden = False  # set while a hidden test runs: errors come back without text
        self.flags: list[str] = []
        self.started = False  # the worker reached the student's cells
        self.printed = 0
        self.requests = 0
        self._handles: dict[int, tuple[weakref.ref, int]] = {}
        self._released_handles: set[int] = set()
        self._generation = 0
        self._functions: dict[int, Any] = {}
        self._function_ids: dict[int, int] = {}

    # ------------------------------------------------------------- requests
    def load(self, items: list[dict], config: dict, timeout: float) -> dict:
        self.deadline = time.monotonic() + timeout
        reply = self._request({"op": "load", "items": items, "config": config}, [])
        return reply if isinstance(reply, dict) else {}

    def resolve(self, checkpoint: str, name: str) -> Any:
        return self._request({"op": "resolve", "checkpoint": checkpoint, "name": name}, [])

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

    def _take_releases(self) -> list:
        released = sorted(self._released_handles)
        self._released_handles.clear()
        return released

    def _absorb(self, body: dict) -> None:
        """The notes and the count of printed characters that come with every message."""
        if FATAL in body:
            raise wire.ProtocolError(str(body[FATAL])[:500])
        self.collect_flags()
        if type(body.get("out")) is int:
            self.printed = body["out"]

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
            decoder = wire.Decoder(reply_buffers, on_handle=self._handle_in)
            self._absorb(body)
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
        decoder = wire.Decoder(buffers, on_handle=self._handle_in)
        self._absorb(body)
        function = self._functions.get(body.get("cb"))
        if function is None:
            raise wire.ProtocolError("unknown function")
        args = decoder.decode(body.get("args", {"l": []}))
        kwargs = decoder.decode(body.get("kwargs", {"d": []}))
        if not isinstance(args, list) or not isinstance(kwargs, dict) or \
                not all(isinstance(k, str) for k in kwargs):
            raise wire.ProtocolError("bad callback arguments")
        encoder = wire.Encoder(on_other=self._other_out)
        try:
            value = function(*args, **kwargs)
            reply = {"cbret": encoder.encode(value)}
        except SandboxError:
            raise
        except Exception as exc:
            encoder = wire.Encoder(on_other=self._other_out)
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
        proxy = object.__new__(_CallableRemote if meta.get("call") is True else Remote)
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
