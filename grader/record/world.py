"""What the sandbox contains · 沙箱里有什么.

The grading sandbox is built from an allowlist, never by hiding things from a full
view of the machine. Its whole file system is:

==========================  =====================================================
``/opt/python``             the Python interpreter and its standard library (the
                            interpreter's own ``site-packages`` is an empty folder)
``/opt/site``               NumPy, Matplotlib, tqdm, threadpoolctl and what they
                            need (:data:`PACKAGES`), plus what an exercise allows
                            (``allow_imports``); nothing else of the virtual
                            environment, so no torch, no scikit-learn, no project
``/opt/nnfs/grader``        the sandbox runtime (:mod:`grader.runtime`) under the
                            name a notebook imports; no other part of the project
``/usr/lib/<arch>``, ...    the shared libraries the interpreter links against
``/etc/ld.so.cache``        so that those libraries are found
``/tmp``                    a private, size-limited scratch folder (the working
                            folder and ``HOME``)
``/dev``                    a tiny read-only folder with null, zero, full, random,
                            urandom
==========================  =====================================================

There is no ``/proc``, no ``/sys``, no ``/usr/bin`` and no ``/home``: nothing shows a
host path, the grader's environment or another process. Every mount point is a
neutral name, so even the interpreter's own ``sys.prefix`` says nothing about the
host. The environment is built from scratch (:func:`environment`).
"""

from __future__ import annotations

import functools
import glob
import importlib.metadata as metadata
import importlib.util
import os
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PACKAGES", "PYTHON", "SITE", "RUNTIME_PARENT", "Mount", "World", "world",
           "environment", "runtime_dir"]

#: Distributions the sandbox may import (with their own requirements): what a notebook's
#: setup and solution cells need, and nothing that differentiates or trains a network.
PACKAGES = ("numpy", "matplotlib", "threadpoolctl", "tqdm")

PYTHON = "/opt/python"
SITE = "/opt/site"
RUNTIME_PARENT = "/opt/nnfs"


@dataclass(frozen=True)
class Mount:
    source: str  # a path on the host
    target: str  # where the sandbox sees it


@dataclass
class World:
    """Read-only mounts of one sandbox, and the paths the worker is started with."""

    mounts: list[Mount] = field(default_factory=list)
    empty_dirs: list[str] = field(default_factory=list)  # targets hidden by an empty tmpfs
    symlinks: list[tuple[str, str]] = field(default_factory=list)  # (link text, path)
    executable: str = f"{PYTHON}/bin/python3"
    library_path: str = ""  # LD_LIBRARY_PATH, when the interpreter needs its own lib folder


def runtime_dir() -> Path:
    """The folder of :mod:`grader.runtime` on the host."""
    return Path(__file__).resolve().parent.parent / "runtime"


def _real(path: str | Path) -> str:
    return os.path.realpath(path)


def _interpreter() -> tuple[list[Mount], list[str], str, str]:
    """The interpreter, its standard library and its shared library, under /opt/python."""
    executable = _real(sys.executable)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    mounts = [Mount(executable, f"{PYTHON}/bin/python3")]
    stdlib = _real(sysconfig.get_paths()["stdlib"])
    mounts.append(Mount(stdlib, f"{PYTHON}/lib/{version}"))
    dynload = _real(os.path.join(sysconfig.get_paths()["platstdlib"], "lib-dynload"))
    if os.path.isdir(dynload) and not dynload.startswith(stdlib + os.sep):
        mounts.append(Mount(dynload, f"{PYTHON}/lib/{version}/lib-dynload"))
    # The interpreter's own packages folder is replaced by an empty one.
    hidden = [f"{PYTHON}/lib/{version}/{name}" for name in ("site-packages", "dist-packages")
              if os.path.isdir(os.path.join(stdlib, name))]
    library_path = ""
    libdir, ldlibrary = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("LDLIBRARY")
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and libdir and ldlibrary:
        for path in sorted(glob.glob(os.path.join(libdir, ldlibrary.split(".so")[0] + ".so*"))):
            mounts.append(Mount(_real(path), f"{PYTHON}/lib/{os.path.basename(path)}"))
        library_path = f"{PYTHON}/lib"
    return mounts, hidden, version, library_path


def _system_libraries() -> tuple[list[Mount], list[tuple[str, str]]]:
    """Shared-library folders (no Python packages live there) and the loader's cache."""
    mounts, links = [], []
    for path in ("/lib64", "/lib32", "/libx32", "/lib"):
        if os.path.islink(path):
            links.append((os.readlink(path), path))
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    candidates = ["/usr/lib64", "/usr/lib32"]
    if multiarch:
        candidates.append(f"/usr/lib/{multiarch}")
    for path in ("/lib64", "/lib") if not links else ():
        candidates.append(path)
    for path in candidates:
        real = _real(path)
        if os.path.isdir(real) and not os.path.islink(path):
            mounts.append(Mount(real, path))
    for path in ("/etc/ld.so.cache",):
        if os.path.isfile(path):
            mounts.append(Mount(_real(path), path))
    return mounts, links


@functools.lru_cache(maxsize=1)
def _distributions() -> dict[str, metadata.Distribution]:
    from packaging.requirements import Requirement

    found: dict[str, metadata.Distribution] = {}
    todo = list(PACKAGES)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[key] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return found


def _top_level(dist: metadata.Distribution) -> list[str]:
    """The distribution's top-level files and folders in its site-packages (host paths)."""
    names = {f.parts[0] for f in dist.files or [] if f.parts and f.parts[0] not in ("..", "__pycache__")}
    base = Path(dist.locate_file(""))
    return [str(base / name) for name in sorted(names) if (base / name).exists()]


def _module_paths(name: str) -> list[str]:
    """Files of an importable module that is not an installed distribution (rare)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return [_real(p) for p in spec.submodule_search_locations]
    return [_real(spec.origin)] if spec.origin and os.path.isfile(spec.origin) else []


def _site(allowed: tuple[str, ...]) -> list[Mount]:
    paths: list[str] = []
    for dist in _distributions().values():
        paths += _top_level(dist)
    for name in allowed:
        try:
            dist = metadata.distribution(name)
            paths += _top_level(dist)
        except metadata.PackageNotFoundError:
            paths += _module_paths(name)
    mounts, seen = [], set()
    for path in paths:
        target = f"{SITE}/{os.path.basename(path)}"
        if target not in seen:
            seen.add(target)
            mounts.append(Mount(_real(path), target))
    return mounts


@functools.lru_cache(maxsize=16)
def world(allowed: tuple[str, ...] = ()) -> World:
    """The sandbox's file system for a notebook whose exercises allow ``allowed`` imports."""
    interpreter, hidden, _version, library_path = _interpreter()
    libraries, links = _system_libraries()
    mounts = [*libraries, *interpreter, *_site(tuple(sorted(allowed))),
              Mount(str(runtime_dir()), f"{RUNTIME_PARENT}/grader")]
    return World(mounts=mounts, empty_dirs=hidden, symlinks=links, library_path=library_path)


def environment(home: str, library_path: str = "") -> dict[str, str]:
    """The sandbox's whole environment: no variable of the grader's reaches it."""
    env = {
        "PATH": "/nonexistent",  # nothing to run: no shell, no binaries
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NBGRADER_EXECUTION": "autograde",
        "NNFS_SANDBOX": "1",  # grader.plotting: no font search (it would start fc-list)
    }
    if library_path:
        env["LD_LIBRARY_PATH"] = library_path
    return env
