"""The sandbox's world holds nothing but the student's code and what it needs.

Each test starts a real sandbox (bubblewrap), runs a student function that looks for
what it must not find, and checks what it reports: no secret of the grader, no path of
the course, no /proc, no reference implementation, no blocked library, and no way to
hold memory outside the limit.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from support import run_in

from grader import notebooks
from grader.course.samples import samples_for
from grader.paths import REPO, SOLUTIONS
from grader.record import confine
from grader.record.batch import grade
from grader.record.sandbox import Limits, Sandbox, SandboxError, bwrap_available
from grader.record.session import Session

needs_bwrap = pytest.mark.skipif(not bwrap_available()[0],
                                 reason="bubblewrap cannot run here: " + bwrap_available()[1])
pytestmark = pytest.mark.slow  # real sandboxes: not in the fast lane

CANARIES = {"NNFS_COURSE_SECRET": "canary-course-secret-7f3a9",
            "PGPASSWORD": "canary-database-password-51c2",
            "AWS_SECRET_ACCESS_KEY": "canary-cloud-key-0d8e"}


def _sandbox(source: str, limits: Limits | None = None,
             rlimits: dict | None = None) -> tuple[Sandbox, Session]:
    limits = limits or Limits()
    sandbox = Sandbox(limits, mode="bwrap")
    sandbox.start()
    session = Session(sandbox)
    session.load([{"source": source, "label": "solution"}, {"checkpoint": "t"}],
                 {"limits": {**limits.rlimits(), **(rlimits or {})}}, 60)
    return sandbox, session


SEARCH = '''
import os, sys

def search(needles, skip):
    """Every readable file, the environment, the descriptors: where does a needle occur?"""
    found, files = [], 0
    for text in [repr(dict(os.environ)), repr(sys.argv), repr(sys.path), sys.prefix,
                 sys.executable, os.getcwd()]:
        found += [(n, "process") for n in needles if n in text]
    for root, dirs, names in os.walk("/"):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in skip]
        for name in names:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as handle:
                    data = handle.read(64 * 2**20)
            except OSError:
                continue
            files += 1
            found += [(n, path) for n in needles if n.encode() in data]
    descriptors = []
    for fd in range(1024):
        try:
            os.fstat(fd)
            descriptors.append(fd)
        except OSError:
            pass
    return {"found": found, "files": files, "proc": os.path.exists("/proc"),
            "sys": os.path.exists("/sys"), "env": sorted(os.environ),
            "descriptors": descriptors, "top": sorted(os.listdir("/"))}
'''


@needs_bwrap
def test_no_secret_and_no_course_path_is_anywhere_in_the_sandbox(monkeypatch, tmp_path):
    for key, value in CANARIES.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "secret.txt").write_text(CANARIES["NNFS_COURSE_SECRET"])
    # The course's folders (repository, virtual environment, a grading folder). Not the
    # interpreter's build prefix: its binaries name it, and it says nothing of the course.
    course_paths = sorted({str(REPO), os.path.realpath(REPO), sys.prefix, str(tmp_path)})
    sandbox, session = _sandbox(SEARCH)
    try:
        seen = run_in(session, session.resolve("t", "search"),
                      [*CANARIES.values(), *course_paths], ["/dev"]).value
    finally:
        sandbox.close()
    assert seen["found"] == []
    assert seen["files"] > 1000  # it really read the interpreter and the packages
    assert not seen["proc"] and not seen["sys"]
    assert seen["top"] == ["dev", "etc", "lib", "lib64", "opt", "tmp", "usr"] or \
        set(seen["top"]) <= {"dev", "etc", "lib", "lib32", "lib64", "libx32", "opt", "tmp", "usr"}
    assert not any(key.startswith(("NNFS_COURSE", "PG", "AWS")) for key in seen["env"])
    assert len(seen["descriptors"]) == 6  # stdio (/dev/null) and the grader's three pipes


@needs_bwrap
def test_the_grader_and_blocked_libraries_cannot_be_imported_by_any_route():
    source = '''
import importlib, sys

def attempt():
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ not in ("_Blocker", "_Lazy")]
    sys.path += ["/work/main", "/work/main/.venv/lib/python3.11/site-packages",
                 "/usr/lib/python3/dist-packages", "/usr/local/lib/python3.11/dist-packages",
                 "/opt/python/lib/python3.11/site-packages"]
    out = {}
    for name in ("torch", "sklearn", "scipy", "jax", "sympy", "grader.checks.exercises.perceptron",
                 "grader.checks", "grader.record", "grader.course", "IPython", "nbgrader"):
        try:
            importlib.import_module(name)
            out[name] = "imported"
        except Exception as exc:
            out[name] = type(exc).__name__
    import grader
    out["grader"] = sorted(n for n in vars(grader) if not n.startswith("_"))
    return out
'''
    sandbox, session = _sandbox(source)
    try:
        seen = run_in(session, session.resolve("t", "attempt")).value
        session.collect_flags()
    finally:
        sandbox.close()
    grader_names = seen.pop("grader")
    assert all(outcome in ("ModuleNotFoundError", "ImportError") for outcome in seen.values()), seen
    # `grader` in the sandbox is the runtime: its stand-ins and its own modules, nothing more
    import pkgutil

    import grader.runtime

    runtime = {*grader.runtime.__all__, "annotations", "Any",
               *(m.name for m in pkgutil.iter_modules(grader.runtime.__path__))}
    assert set(grader_names) <= runtime, set(grader_names) - runtime


@needs_bwrap
def test_memory_outside_processes_is_refused_or_counted():
    source = '''
import os

def hold(kind):
    if kind == "memfd":
        fd = os.memfd_create("hoard")
        os.write(fd, b"x" * 2**20)
        return "held"
    if kind == "devshm":
        with open("/dev/shm-hoard", "wb") as handle:
            handle.write(b"x" * 2**20)
        return "held"
    if kind == "tmp":
        with open("/tmp/hoard", "wb") as handle:
            for _ in range(1024):
                handle.write(b"x" * 2**20)
        return "held"
    if kind == "root":
        open("/hoard", "wb").write(b"x")
        return "held"
    return "?"
'''
    limits = Limits(scratch_mb=16, file_mb=512)
    sandbox, session = _sandbox(source, limits)
    try:
        hold = session.resolve("t", "hold")
        outcomes = {}
        for kind in ("memfd", "devshm", "tmp", "root"):
            outcome = run_in(session, hold, kind)  # an OSError is the outcome's error
            assert outcome.status == "ok" or "OSError" in outcome.error["bases"], outcome
            outcomes[kind] = outcome.value if outcome.status == "ok" else outcome.error["type"]
    finally:
        sandbox.close()
    assert outcomes["memfd"] == "PermissionError"  # seccomp refuses memfd_create
    assert outcomes["devshm"] in ("OSError", "PermissionError", "FileNotFoundError")
    assert outcomes["tmp"] == "OSError"  # ENOSPC at the scratch size, not the machine's
    assert outcomes["root"] in ("OSError", "PermissionError")


@needs_bwrap
def test_a_sandbox_over_its_memory_limit_is_killed_and_says_so():
    source = '''
import numpy as np

def hoard():
    blocks = []
    while True:
        blocks.append(np.ones(2**25))  # 256 MiB each, touched
'''
    # The per-process address-space limit would stop it first with a MemoryError; lift it
    # to see the limit on the whole sandbox act.
    sandbox, session = _sandbox(source, Limits(memory_mb=600), {"RLIMIT_AS": 8 * 2**30})
    try:
        with pytest.raises(SandboxError) as info:
            run_in(session, session.resolve("t", "hoard"))
    finally:
        sandbox.close()
    assert info.value.reason == "memory"
    assert sandbox.memory_limit in ("cgroup1", "cgroup2", "rss-watchdog")


def test_the_seccomp_filter_refuses_exactly_what_it_says():
    program = confine.seccomp_program("x86_64")
    assert program is not None and len(program) % 8 == 0
    assert confine.seccomp_program("sparc") is None
    # every instruction is (code, jt, jf, k): the program ends in allow, then refuse
    import struct

    insns = [struct.unpack("=HBBI", program[i:i + 8]) for i in range(0, len(program), 8)]
    assert insns[-2][3] == 0x7FFF0000 and insns[-1][3] & 0xFFFF0000 == 0x00050000
    assert {319, 29} <= {k for _, _, _, k in insns}  # memfd_create and shmget on x86_64


@needs_bwrap
def test_bubblewrap_itself_holds_no_secret_and_no_course_path(monkeypatch):
    for key, value in CANARIES.items():
        monkeypatch.setenv(key, value)
    sandbox = Sandbox(Limits(), mode="bwrap")
    sandbox.start()
    try:
        with open(f"/proc/{sandbox.proc.pid}/environ", "rb") as handle:
            environ = handle.read()
        with open(f"/proc/{sandbox.proc.pid}/cmdline", "rb") as handle:
            cmdline = handle.read()
    finally:
        sandbox.close()
    assert environ == b""
    assert not any(v.encode() in cmdline for v in CANARIES.values())
    assert str(REPO).encode() not in cmdline and sys.prefix.encode() not in cmdline


def test_without_bubblewrap_the_worker_still_sees_only_the_runtime_as_grader():
    sandbox = Sandbox(Limits(), mode="rlimits-only")
    sandbox.start()
    session = Session(sandbox)
    try:
        session.load([{"source": "import grader\ndef names():\n"
                                 "    return sorted(n for n in vars(grader) if n.startswith('check'))\n",
                       "label": "s"}, {"checkpoint": "t"}], {}, 60)
        names = run_in(session, session.resolve("t", "names")).value
    finally:
        sandbox.close()
    assert names == ["check", "check_function", "check_layer", "check_loss"]
    assert np.asarray(names).size == 4


@needs_bwrap
def test_sandbox_sees_no_solutions_no_network_and_a_read_only_system(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("answer")
    sandbox = Sandbox(Limits(), mode="bwrap")
    sandbox.start()
    try:
        s = Session(sandbox)
        s.load([{"source": "import os, socket\n"
                 "def probe(paths):\n"
                 "    out = {}\n"
                 "    for p in paths:\n"
                 "        try:\n"
                 "            open(p).read(); out[p] = 'read'\n"
                 "        except OSError as e:\n"
                 "            out[p] = type(e).__name__\n"
                 "    try:\n"
                 "        open('/usr/owned', 'w'); out['write'] = 'ok'\n"
                 "    except OSError as e:\n"
                 "        out['write'] = type(e).__name__\n"
                 "    try:\n"
                 "        socket.create_connection(('127.0.0.1', 22), timeout=1); out['net'] = 'ok'\n"
                 "    except OSError as e:\n"
                 "        out['net'] = type(e).__name__\n"
                 "    open('/tmp/scratch', 'w').write('x')\n"
                 "    out['uid'] = os.getuid()\n"
                 "    return out\n", "label": "sol"}, {"checkpoint": "t"}], {}, 60)
        seen = run_in(s, s.resolve("t", "probe"), [str(secret), str(SOLUTIONS / "01_perceptron")]).value
    finally:
        sandbox.close()
    assert seen[str(secret)] != "read" and seen[str(SOLUTIONS / "01_perceptron")] != "read"
    assert seen["write"] != "ok" and seen["net"] != "ok" and seen["uid"] != 0
    assert any(f.startswith("file:") for f in s.flags)


@needs_bwrap
def test_a_sandbox_that_cannot_start_is_the_graders_problem(tmp_path, monkeypatch):
    from grader.record import sandbox as sandbox_module

    real = sandbox_module.bwrap_args
    monkeypatch.setattr(sandbox_module, "bwrap_args",
                        lambda *a, **k: [*real(*a, **k), "--no-such-option"])
    sample = next(s for s in samples_for("01_perceptron") if s.student == "perfect")
    notebooks.write_clean(sample.notebook, tmp_path / "in" / "ann" / "01_perceptron" /
                          sample.notebook_name)
    result = grade(tmp_path / "in", tmp_path / "out", jobs=1, quiet=True)[0]
    assert result.status == "error" and result.score == 0
    assert "not the student" in result.notebooks[0].message
