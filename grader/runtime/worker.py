"""The process inside the sandbox · 沙箱内运行的进程.

``python -m grader.worker REQUEST_FD REPLY_FD FLAG_FD`` (this runtime is the package
``grader`` inside the sandbox) runs one student's setup and solution cells and then serves
requests from the trusted grader over the plain data wire (:mod:`.wire`): look up a name,
and run a check's steps (:mod:`.steps`: the calls on the student's code, all of them in
one request, their outcomes in one reply). Values that are not plain data stay here and
are known to the grader only as handles. While the steps run, the student's code may
call a function of the grader's (the f of a numerical gradient): that call goes back to
the grader, on plain data, and its result comes back before the steps go on.

Everything here is untrusted once student code has run: the grader treats every
reply as data to validate, never as code. This module only makes honest
submissions work (magics, plots, prints) and notes what a submission tried
(blocked imports, file access outside its scratch folder, new processes, patched
check helpers) so that the report can say so.
"""

from __future__ import annotations

import ast
import builtins
import io
import linecache
import os
import re
import resource
import sys
import time
import traceback
import types
from typing import Any

import numpy as np

from . import wire
from .guard import (
    AUDIT_FILE,
    AUDIT_NETWORK,
    AUDIT_PROCESS,
    LAZY,
    Shell,
    Sink,
    _Blocker,
    _Lazy,
    clip,
    writing,
)
from .protocol import BLOCKED_DEFAULT, CHECK_NAMES, FATAL, STARTED
from .steps import OPERATORS, Ref, execute


class _TrustedFunction:
    """A function of the grader's (e.g. the f of a numerical-gradient exercise): calling it
    asks the grader to run it on plain data and send the result back."""

    __slots__ = ("_worker", "_fid", "__name__", "__qualname__")

    def __init__(self, worker: Worker, fid: int, name: str):
        self._worker, self._fid = worker, fid
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._worker.callback(self._fid, args, kwargs)

    def __repr__(self) -> str:
        return f"<function {self.__name__}>"


class Worker:
    def __init__(self, request_fd: int, reply_fd: int, flag_fd: int | None = None):
        self.request_fd = request_fd
        self.reply_fd = reply_fd
        self.flag_fd = flag_fd
        self.module = types.ModuleType("__main__")
        self.ns = self.module.__dict__
        self.snapshots: dict[str, dict] = {}
        self.handles: dict[int, Any] = {}
        self.handle_ids: dict[int, int] = {}
        self.next_hid = 1
        self.functions: dict[int, _TrustedFunction] = {}
        self.flag_set: set[str] = set()
        self.armed = False
        self.allowed_roots: tuple[str, ...] = ()
        self.scratch: tuple[str, ...] = ()
        self.sink = Sink()
        self.mode = "full"
        self.blocked: set[str] = set()

    # ------------------------------------------------------------------ notes
    def flag(self, text: str) -> None:
        """Note what the submission tried, at once (the sandbox may be killed right after)."""
        text = clip(text.replace("\n", " "), 300)
        if text not in self.flag_set and len(self.flag_set) < 200:
            self.flag_set.add(text)
            if self.flag_fd is not None:
                try:
                    os.write(self.flag_fd, (text + "\n").encode("utf-8", "replace"))
                except OSError:
                    pass

    def _audit(self, event: str, args: tuple) -> None:  # noqa: C901 - one branch per event kind
        if not self.armed:
            return
        if event in AUDIT_FILE:
            path = args[0] if args else None
            if isinstance(path, bytes):
                path = path.decode("utf-8", "replace")
            if isinstance(path, str) and path:
                full = os.path.normpath(os.path.join("/tmp" if not path.startswith("/") else "",
                                                     path))
                if not full.startswith(self.allowed_roots):
                    self.flag(f"file:{full}")
                elif event == "open" and full.startswith(self.scratch) and \
                        not writing(args) and not os.path.exists(full):
                    # the scratch folder is where the course may live on the host (a clone
                    # in /tmp): reading a path that is not there is looking for the host's
                    self.flag(f"file:{full}")
        elif event in AUDIT_PROCESS:
            self.flag(f"process:{event}")
        elif event in AUDIT_NETWORK:
            self.flag("network")
        elif event == "sqlite3.connect":
            self.flag("sqlite")
        elif event in ("os.kill", "os.killpg", "signal.pthread_kill"):
            self.flag("signal")
        elif event == "sys.addaudithook":
            self.flag("audit_hook")

    # --------------------------------------------------------------- set up
    def protect(self, config: dict) -> None:
        """Limits, the import blocker, the audit hook, and prints sent nowhere."""
        blocked = set(config.get("blocked", BLOCKED_DEFAULT))
        self.blocked = blocked
        sys.meta_path.insert(0, _Lazy(set(config.get("lazy", LAZY))))
        if blocked:
            sys.meta_path.insert(0, _Blocker(self, blocked))
        try:
            os.nice(5)  # the grader's own work (and its watchdog) goes first
        except OSError:
            pass
        limits = config.get("limits", {})
        for name, value in limits.items():
            which = getattr(resource, name, None)
            if which is None or value is None:
                continue
            try:
                resource.setrlimit(which, (int(value), int(value)))
            except (ValueError, OSError):
                pass
        # Reading what the interpreter and its packages are made of is normal; anything else
        # is worth a note (in the bubblewrap sandbox it does not exist anyway).
        roots = ["/usr", "/etc", "/tmp", "/dev", "/lib", "/lib64", os.getcwd(),
                 sys.prefix, sys.base_prefix, sys.exec_prefix,
                 *[p for p in sys.path if p and os.path.isabs(p)],
                 os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
        self.allowed_roots = tuple(sorted({r.rstrip("/") + "/" for r in roots} |
                                          {r.rstrip("/") for r in roots}))
        self.scratch = (os.getcwd().rstrip("/") + "/", "/tmp/")
        sys.addaudithook(self._audit)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            if fd not in (self.request_fd, self.reply_fd, self.flag_fd):
                os.dup2(devnull, fd)
        os.close(devnull)
        sys.stdout = sys.stderr = self.sink
        sys.stdin = io.StringIO()
        self.ns.update({"__name__": "__main__", "__builtins__": builtins,
                        "get_ipython": lambda: self.shell, "display": lambda *a, **k: None})
        self.shell = Shell(self)
        sys.modules["__main__"] = self.module
        self._grader_before = self._grader_state()

    def _grader_state(self) -> dict[str, int]:
        state = {}
        for name, module in list(sys.modules.items()):
            if name == "grader" or name.startswith("grader.") and module is not None:
                if name == __name__:
                    continue
                for attr, value in list(vars(module).items()):
                    if not attr.startswith("__"):
                        state[f"{name}.{attr}"] = id(value)
        return state

    # ---------------------------------------------------------------- cells
    def load(self, items: list[dict]) -> dict:
        package = sys.modules[__package__]  # the stand-ins a setup cell imports as `grader`
        genuine = {name: getattr(package, name) for name in CHECK_NAMES}
        report = []
        self.flag(STARTED)  # from here on, whatever happens is the submission's doing
        self.armed = True
        for item in items:
            if "checkpoint" in item:
                self.snapshots[str(item["checkpoint"])] = dict(self.ns)
                continue
            label = str(item.get("label", "cell"))
            started = time.monotonic()
            self.mode = item.get("mode", "full")
            error = self._run_cell(str(item.get("source", "")), label, self.mode)
            self.mode = "full"
            report.append({"label": label, "error": error,
                           "seconds": round(time.monotonic() - started, 4)})
        for scope in [self.ns, *self.snapshots.values()]:
            for name in CHECK_NAMES:
                if name in scope and scope[name] is not genuine[name]:
                    self.flag(f"redefined_check:{name}")
        after = self._grader_state()
        for key, ident in self._grader_before.items():
            if after.get(key, ident) != ident:
                self.flag(f"patched_grader:{key}")
        return {"cells": report}

    def _run_cell(self, source: str, label: str, mode: str) -> str | None:
        filename = f"<cell {label}>"
        try:
            code_text = without_magics(source)
            linecache.cache[filename] = (len(code_text), None, code_text.splitlines(True),
                                         filename)
            tree = ast.parse(code_text, filename)
            if mode == "defs":
                keep = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                        ast.ImportFrom)
                errors = []
                for node in tree.body:
                    if isinstance(node, keep) or _literal_assignment(node):
                        module = ast.Module(body=[node], type_ignores=[])
                        try:
                            exec(compile(module, filename, "exec"), self.ns)
                        except BaseException as exc:  # noqa: BLE001 - the student's problem
                            errors.append(self._format(exc))
                return "\n".join(errors) or None
            exec(compile(tree, filename, "exec"), self.ns)
        except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt included
            return self._format(exc)
        return None

    def _format(self, exc: BaseException, frames_only: bool = False) -> str:
        here = os.path.abspath(__file__)
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if os.path.abspath(f.filename) != here]
        lines = traceback.format_list(frames[-8:])
        if frames_only:
            return clip("".join(lines), 8000)
        try:
            lines += traceback.format_exception_only(type(exc), exc)
        except BaseException:  # noqa: BLE001 - a broken __str__
            lines.append(type(exc).__name__ + "\n")
        return clip("".join(lines), 8000)

    # ---------------------------------------------------------------- values
    def _handle_out(self, obj: Any) -> dict:
        hid = self.handle_ids.get(id(obj))
        if hid is None or self.handles.get(hid) is not obj:
            hid = self.next_hid
            self.next_hid += 1
            self.handles[hid] = obj
            self.handle_ids[id(obj)] = hid
        return {"h": [hid, self._meta(obj)]}

    def _meta(self, obj: Any) -> dict:
        kind = type(obj)
        name = getattr(obj, "__name__", None) if isinstance(obj, (type, types.FunctionType,
                                                                   types.MethodType,
                                                                   types.BuiltinFunctionType)) \
            else None
        return {
            "type": clip(getattr(kind, "__name__", "object"), 100),
            "call": callable(obj),
            "name": clip(name, 100) if isinstance(name, str) else None,
        }

    def _handle_in(self, tag: str, body: Any) -> Any:
        if tag == "r":
            if type(body) is not int or body < 0:
                raise wire.ProtocolError("bad step reference")
            return Ref(body)
        if tag == "f" and isinstance(body, list) and len(body) == 2 and type(body[0]) is int:
            function = self.functions.get(body[0])
            if function is None:
                function = _TrustedFunction(self, body[0], str(body[1])[:100])
                self.functions[body[0]] = function
            return function
        if tag != "x" or type(body) is not int or body not in self.handles:
            raise wire.ProtocolError("unknown handle")
        return self.handles[body]

    def _encoder(self) -> wire.Encoder:
        return wire.Encoder(on_other=self._other_out, coerce=_array_like)

    def _other_out(self, obj: Any) -> Any:
        if isinstance(obj, _TrustedFunction) and obj._worker is self:
            return {"f": obj._fid}
        return self._handle_out(obj)

    def callback(self, fid: int, args: tuple, kwargs: dict) -> Any:
        """Run a grader function: send the call, serve nested requests until its result."""
        encoder = self._encoder()
        body = {"cb": fid, "args": encoder.encode(list(args)),
                "kwargs": encoder.encode({str(k): v for k, v in kwargs.items()})}
        body, out = self._reply(body, encoder)
        wire.write_frame(self.reply_fd, body, out)
        while True:
            payload, buffers = wire.read_frame(self.request_fd)
            if not isinstance(payload, dict):
                raise wire.ProtocolError("bad request")
            if "cbret" in payload or "cberr" in payload:
                self._release(payload)
                decoder = wire.Decoder(buffers, on_handle=self._handle_in)
                if "cberr" in payload:
                    err = payload["cberr"] if isinstance(payload["cberr"], dict) else {}
                    kind = getattr(builtins, str(err.get("type")), None)
                    if not (isinstance(kind, type) and issubclass(kind, Exception)):
                        kind = RuntimeError
                    raise kind(str(err.get("msg", ""))[:2000])
                return decoder.decode(payload["cbret"])
            reply, out = self.handle(payload, buffers)
            wire.write_frame(self.reply_fd, reply, out)

    # -------------------------------------------------------------- requests
    def _release(self, payload: dict) -> None:
        """Forget the handles whose proxies the grader no longer holds."""
        for hid in payload.get("rel") or []:
            obj = self.handles.pop(hid, None)
            if obj is not None and self.handle_ids.get(id(obj)) == hid:
                del self.handle_ids[id(obj)]

    def handle(self, payload: dict, buffers: list) -> tuple[dict, list]:
        self._release(payload)
        op = payload.get("op")
        decoder = wire.Decoder(buffers, on_handle=self._handle_in)
        try:
            if op == "load":
                self.protect(payload.get("config", {}))
                value = self.load(payload.get("items", []))
            elif op == "resolve":
                scope = self.snapshots.get(payload.get("checkpoint"), self.ns)
                name = payload.get("name")
                if not isinstance(name, str) or name not in scope:
                    raise NameError(f"name {name!r} is not defined")
                value = scope[name]
            elif op == "steps":
                return self._steps(payload, decoder)
            elif op == "ping":
                value = None
            else:
                raise wire.ProtocolError(f"unknown request {op!r}")
        except wire.ProtocolError:
            raise
        except BaseException as exc:  # noqa: BLE001 - the student's exception, sent back as data
            return self._reply({"err": self._error(exc)})
        encoder = self._encoder()
        try:
            encoded = encoder.encode(value)
        except (ValueError, TypeError, RecursionError):
            encoder = self._encoder()
            encoded = self._handle_out(value)
        return self._reply({"ok": encoded}, encoder)

    def _steps(self, payload: dict, decoder: wire.Decoder) -> tuple[dict, list]:
        """Run a check's steps (:mod:`.steps`) and send back every outcome in one reply."""
        items = []
        for raw in payload.get("steps") or []:
            if not isinstance(raw, dict) or raw.get("kind") not in ("call", "method", "attr",
                                                                      "item", "op"):
                raise wire.ProtocolError("bad step")
            target = raw.get("target")
            if raw["kind"] == "op":
                if target not in OPERATORS:
                    raise wire.ProtocolError("unknown operator")
            else:
                target = decoder.decode(target)
            args = decoder.decode(raw.get("args", {"l": []}))
            kwargs = decoder.decode(raw.get("kwargs", {"d": []}))
            unchanged = raw.get("unchanged") or []
            if not isinstance(args, list) or not isinstance(kwargs, dict) or \
                    not all(isinstance(k, str) for k in kwargs) or \
                    not all(type(i) is int for i in unchanged):
                raise wire.ProtocolError("bad step arguments")
            items.append({"kind": raw["kind"], "target": target, "args": args,
                          "kwargs": kwargs, "fetch": bool(raw.get("fetch", True)),
                          "unchanged": unchanged})
        outcomes, _ = execute(items, catch=BaseException)
        encoder = self._encoder()
        for outcome in outcomes:
            if "value" in outcome:
                try:
                    outcome["value"] = encoder.encode(outcome["value"])
                except (ValueError, TypeError, RecursionError):
                    outcome["value"] = self._handle_out(outcome["value"])
        return self._reply({"steps": outcomes}, encoder)

    def _reply(self, body: dict, encoder: wire.Encoder | None = None) -> tuple[dict, list]:
        body["out"] = self.sink.count  # how much the student printed so far
        return body, encoder.buffers if encoder is not None else []

    def _error(self, exc: BaseException) -> dict:
        if isinstance(exc, NameError) and getattr(exc, "name", None) in self.blocked:
            self.flag(f"blocked_import:{exc.name}")  # imported in a demo cell, used in graded code
        bases = [k.__name__ for k in type(exc).__mro__ if isinstance(k.__name__, str)][:12]
        try:
            message = clip(str(exc), 4000)
        except BaseException:  # noqa: BLE001
            message = ""
        return {"type": clip(type(exc).__name__, 100), "bases": bases, "msg": message,
                "frames": self._format(exc, frames_only=True)}

    def serve(self) -> None:
        while True:
            try:
                payload, buffers = wire.read_frame(self.request_fd)
            except wire.Closed:
                return
            try:
                if not isinstance(payload, dict):
                    raise wire.ProtocolError("bad request")
                body, out = self.handle(payload, buffers)
            except BaseException as exc:  # noqa: BLE001 - report, then keep serving
                body, out = {FATAL: clip(f"{type(exc).__name__}: {exc}", 2000)}, []
            try:
                wire.write_frame(self.reply_fd, body, out)
            except (ValueError, TypeError):
                wire.write_frame(self.reply_fd, {FATAL: "reply could not be encoded"}, [])


# Cell magics whose body is Python (run it); any other cell magic's body is not.
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
_MAGIC_LINE = re.compile(r"^(\s*)(?:[%!].*|\?{0,2}[\w.]+\?{0,2}\s*$)")
_MAGIC_VALUE = re.compile(r"^(\s*)([A-Za-z_][\w, ]*)=\s*[%!].*$")


def without_magics(source: str) -> str:
    """The cell as plain Python: IPython's ``%magic``, ``!shell`` and ``name?`` lines do
    nothing while grading (the sandbox has no IPython and nothing to run)."""
    lines = source.split("\n")
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        if first[2:].split(" ")[0] not in _PYTHON_CELL_MAGICS:
            return ""
        lines = lines[1:]
    out = []
    for line in lines:
        value = _MAGIC_VALUE.match(line)
        if value:
            out.append(f"{value.group(1)}{value.group(2).strip()} = None")
        elif _MAGIC_LINE.match(line) and ("?" in line or line.lstrip()[:1] in "%!"):
            out.append(f"{_MAGIC_LINE.match(line).group(1)}pass")
        else:
            out.append(line)
    return "\n".join(out)


def _array_like(obj: Any) -> np.ndarray | None:
    """The values of an array-like (a tensor, where an exercise allows torch), else None."""
    if not (_has(type(obj), "__array__") or _has(type(obj), "__array_interface__")):
        return None
    try:
        array = np.asarray(obj)
    except Exception:  # noqa: BLE001 - the student's __array__
        return None
    return array if isinstance(array, np.ndarray) and array.dtype.kind in "biufc" else None


def _literal_assignment(node: ast.stmt) -> bool:
    """``NAME = <literal>`` (a constant a helper may use), cheap and side-effect free."""
    value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
    if value is None:
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if not all(isinstance(t, ast.Name) for t in targets):
        return False
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _has(kind: type, name: str) -> bool:
    """Whether ``kind`` or a base other than ``object`` defines ``name`` (metaclass ignored)."""
    try:
        return any(name in vars(k) and vars(k)[name] is not None
                   for k in kind.__mro__ if k is not object)
    except BaseException:  # noqa: BLE001 - a hostile metaclass
        return False


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    worker = Worker(int(argv[0]), int(argv[1]), int(argv[2]) if len(argv) > 2 else None)
    worker.serve()
    return 0


if __name__ == "__main__":
    os._exit(main())
