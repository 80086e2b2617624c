"""The sandbox's ``/opt``, built once from an allowlist · 沙箱的 /opt:按白名单构建一次.

An *image* is a folder that the sandbox sees as ``/opt``::

    python/bin/python3             the interpreter (a hard link to the host's)
    python/lib/libpython3.X.so*    its shared library, when it has one
    python/lib/python3.X/          the standard library, without site-packages, tests,
                                   GUI toolkits or the build configuration
    site/                          NumPy, Matplotlib, tqdm, threadpoolctl and their
                                   requirements (grader.record.world.PACKAGES)
    nnfs/                          empty: where the runtime layer is mounted

The sandbox runtime (:mod:`grader.runtime`) is a small layer of its own
(:func:`runtime_layer`), so that changing it does not rebuild the image.

Files are hard links to the installed ones where the file system allows (a copy
otherwise), so an image costs little disk. Every module is compiled again *for the
sandbox's paths* (``compileall -d``), because the bytecode Python wrote when the packages
were installed names the host's folders (the course repository, the virtual
environment) in every code object; the image carries none of it.

Images live under ``$NNFS_CACHE`` (default ``~/.cache/nnfs-grader``) in a folder named
by a digest of everything that goes in (interpreter, package versions, runtime
sources), so a new version builds a new image and an old one is never half-updated:
an image is built in a temporary folder and renamed into place when complete.
"""

from __future__ import annotations

import compileall
import contextlib
import fcntl
import hashlib
import importlib.metadata as metadata
import os
import re
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

__all__ = ["FORMAT", "cache_root", "image", "runtime_layer", "digest", "interpreter_parts"]

FORMAT = 1  # bump when the layout changes
# Parts of the standard library no graded code needs (and the build configuration, which
# names the folders the interpreter was built in).
_STDLIB_SKIP = {"site-packages", "dist-packages", "test", "tests", "idlelib", "tkinter",
                "turtledemo", "ensurepip", "lib2to3", "__pycache__"}
_CONFIG_DIR = re.compile(r"^config-\d")


def cache_root() -> Path:
    return Path(os.environ.get("NNFS_CACHE") or Path.home() / ".cache" / "nnfs-grader")


def interpreter_parts() -> tuple[str, str, list[str], str]:
    """(interpreter binary, standard library folder, shared library files, pythonX.Y)."""
    executable = os.path.realpath(sys.executable)
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    shared: list[str] = []
    libdir, ldlibrary = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("LDLIBRARY")
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and libdir and ldlibrary:
        stem = os.path.join(libdir, ldlibrary.split(".so")[0] + ".so")
        candidates = [stem, *map(str, Path(libdir).glob(Path(stem).name + ".*"))]
        shared = sorted(p for p in candidates if os.path.isfile(p))
    return executable, stdlib, shared, version


def _runtime_sources() -> list[Path]:
    here = Path(__file__).resolve().parent.parent / "runtime"
    return sorted(here.glob("*.py"))


def digest(distributions: dict[str, metadata.Distribution]) -> str:
    executable, stdlib, shared, version = interpreter_parts()
    parts = [f"format={FORMAT}", sys.version, executable, stdlib, *shared]
    parts += sorted(f"{name}=={dist.version}" for name, dist in distributions.items())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: a copy does the same
        shutil.copy2(source, target)


def _mirror(source: Path, target: Path, skip: set[str] = frozenset()) -> None:
    """Hard-link every file under ``source`` (no bytecode, nothing in ``skip``)."""
    if source.is_file():
        _link(source, target)
        return
    for folder, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if d not in skip and d != "__pycache__"
                   and not _CONFIG_DIR.match(d) and not os.path.islink(os.path.join(folder, d))]
        rel = Path(folder).relative_to(source)
        for name in files:
            path = Path(folder) / name
            if name.endswith((".pyc", ".pyo")) or path.is_symlink():
                continue
            _link(path, target / rel / name)


def _neutral_sysconfig(stdlib: Path, host_prefixes: list[str]) -> None:
    """The build configuration module names the host's folders: point them at /opt/python."""
    for path in stdlib.glob("_sysconfigdata_*.py"):
        text = path.read_text(encoding="utf-8")
        for prefix in sorted(set(host_prefixes), key=len, reverse=True):
            text = text.replace(prefix, "/opt/python")
        path.unlink()  # a hard link: never write through it into the host's file
        path.write_text(text, encoding="utf-8")


def _build(root: Path, top_levels: list[str]) -> None:
    executable, stdlib, shared, version = interpreter_parts()
    python = root / "python"
    _link(Path(executable), python / "bin" / "python3")
    for path in shared:
        _link(Path(path), python / "lib" / os.path.basename(path))
    library = python / "lib" / version
    _mirror(Path(stdlib), library, _STDLIB_SKIP)
    dynload = Path(sysconfig.get_paths()["platstdlib"]) / "lib-dynload"
    if dynload.is_dir() and not (library / "lib-dynload").exists():
        _mirror(dynload, library / "lib-dynload")
    _neutral_sysconfig(library, [sys.base_prefix, sys.base_exec_prefix,
                                 os.path.realpath(sys.base_prefix)])
    for path in top_levels:
        _mirror(Path(path), root / "site" / os.path.basename(path))
    (root / "nnfs").mkdir()
    for folder, seen_as in ((library, f"/opt/python/lib/{version}"), (root / "site", "/opt/site")):
        _compile(folder, seen_as)


def _compile(folder: Path, seen_as: str) -> None:
    """Bytecode for every module under ``folder``, naming the paths the sandbox sees."""
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        compileall.compile_dir(folder, ddir=seen_as, quiet=2, legacy=False,
                               workers=min(4, os.cpu_count() or 1))


def _built(target: Path, build) -> Path:
    """``target``, built by ``build(folder)`` into a temporary folder and renamed when done."""
    if (target / "COMPLETE").is_file():
        return target
    root = target.parent
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder; the others find it done
        if (target / "COMPLETE").is_file():
            return target
        building = Path(tempfile.mkdtemp(prefix="building-", dir=root))
        building.chmod(0o755)  # the sandbox's user reads it
        try:
            build(building)
            (building / "COMPLETE").write_text("built by grader.record.image\n")
            if target.exists():  # left by a build that never completed: ours to replace
                shutil.rmtree(target)
            os.replace(building, target)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
    return target


def image(top_levels: list[str], distributions: dict[str, metadata.Distribution]) -> Path:
    """The image folder for these packages, built now if it does not exist yet."""
    target = cache_root() / "sandbox" / digest(distributions)
    return _built(target, lambda folder: _build(folder, top_levels))


def runtime_layer() -> Path:
    """A folder holding ``grader/``: the runtime's sources, compiled for ``/opt/nnfs``."""
    sources = _runtime_sources()
    key = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in sources))
    target = cache_root() / "sandbox" / f"runtime-{FORMAT}-{key.hexdigest()[:20]}"

    def build(folder: Path) -> None:
        (folder / "grader").mkdir()
        for path in sources:
            shutil.copy2(path, folder / "grader" / path.name)
        _compile(folder, "/opt/nnfs")

    return _built(target, build)
