"""What the sandbox contains · 沙箱里有什么.

The grading sandbox is built from an allowlist, never by hiding things from a full
view of the machine. Its whole file system is:

==========================  =====================================================
``/opt``                    an *image* (:mod:`grader.record.image`): the interpreter
                            and its standard library under ``/opt/python``, NumPy,
                            Matplotlib, tqdm, threadpoolctl and what they need under
                            ``/opt/site`` (:data:`PACKAGES`); nothing else of the
                            virtual environment (no torch, no scikit-learn)
``/opt/nnfs/grader``        the sandbox runtime (:mod:`grader.runtime`), the only part
                            of the project there
``/opt/extra/<name>``       a package an exercise allows (``allow_imports``), as
                            installed
``/usr/lib/<arch>``, ...    the system's shared libraries, and ``/etc/ld.so.cache``
                            so that they are found
``/tmp``                    a private, size-limited scratch folder (the working
                            folder and ``HOME``)
``/dev``                    a tiny read-only folder with null, zero, full, random,
                            urandom
==========================  =====================================================

There is no ``/proc``, no ``/sys``, no ``/usr/bin`` and no ``/home``: nothing shows the
grader's environment, another process, or a folder of the course. Every mount point
is a neutral name and every module is compiled for it, so even the interpreter's own
``sys.prefix`` and code objects say nothing of where the course lives. The
environment is built from scratch (:func:`environment`).
"""

from __future__ import annotations

import functools
import importlib.metadata as metadata
import importlib.util
import os
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from grader.record import image as sandbox_image

__all__ = ["PACKAGES", "SITE", "EXTRA", "RUNTIME_PARENT", "EXECUTABLE", "Mount", "World",
           "world", "environment", "runtime_dir"]

#: Distributions the sandbox may import (with their own requirements): what a notebook's
#: setup and solution cells need, and nothing that differentiates or trains a network.
PACKAGES = ("numpy", "matplotlib", "threadpoolctl", "tqdm")

EXECUTABLE = "/opt/python/bin/python3"
SITE = "/opt/site"
EXTRA = "/opt/extra"
RUNTIME_PARENT = "/opt/nnfs"


@dataclass(frozen=True)
class Mount:
    source: str  # a path on the host
    target: str  # where the sandbox sees it


@dataclass
class World:
    """Read-only mounts of one sandbox, and the paths the worker is started with."""

    mounts: list[Mount] = field(default_factory=list)
    symlinks: list[tuple[str, str]] = field(default_factory=list)  # (link text, path)
    python_path: list[str] = field(default_factory=list)
    library_path: str = ""  # LD_LIBRARY_PATH, when the interpreter has a shared library


def runtime_dir() -> Path:
    """The folder of :mod:`grader.runtime` on the host."""
    return Path(__file__).resolve().parent.parent / "runtime"


def _system_libraries() -> tuple[list[Mount], list[tuple[str, str]]]:
    """The shared-library folders (not the Python packages that may sit beside them)."""
    mounts, links = [], []
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    folders = ["/usr/lib64", "/usr/lib32"] + ([f"/usr/lib/{multiarch}"] if multiarch else [])
    for top in ("/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(top):
            links.append((os.readlink(top), top))
        elif os.path.isdir(top):  # a system without the merged /usr
            folders.append(f"{top}/{multiarch}" if top == "/lib" and multiarch else top)
    for folder in folders:
        if os.path.isdir(folder) and not os.path.islink(folder):
            mounts.append(Mount(os.path.realpath(folder), folder))
    if os.path.isfile("/etc/ld.so.cache"):
        mounts.append(Mount(os.path.realpath("/etc/ld.so.cache"), "/etc/ld.so.cache"))
    return mounts, links


@functools.lru_cache(maxsize=1)
def distributions() -> dict[str, metadata.Distribution]:
    """:data:`PACKAGES` and everything they require (extras left out)."""
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


def top_level(dist: metadata.Distribution) -> list[str]:
    """The distribution's top-level files and folders in its site-packages (host paths)."""
    names = {f.parts[0] for f in dist.files or []
             if f.parts and f.parts[0] not in ("..", "__pycache__")}
    base = Path(dist.locate_file(""))
    return [str(base / name) for name in sorted(names) if (base / name).exists()]


def _extra(name: str) -> list[str]:
    """Files of a package an exercise allows, whether or not it is a distribution."""
    try:
        return top_level(metadata.distribution(name))
    except metadata.PackageNotFoundError:
        pass
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return [os.path.realpath(p) for p in spec.submodule_search_locations]
    return [os.path.realpath(spec.origin)] if spec.origin and os.path.isfile(spec.origin) else []


@functools.lru_cache(maxsize=16)
def world(allowed: tuple[str, ...] = ()) -> World:
    """The sandbox's file system for a notebook whose exercises allow ``allowed`` imports."""
    dists = distributions()
    paths = [p for dist in dists.values() for p in top_level(dist)]
    root = sandbox_image.image(paths, dists)
    libraries, links = _system_libraries()
    mounts = [*libraries, Mount(str(root), "/opt"),
              Mount(str(sandbox_image.runtime_layer()), RUNTIME_PARENT)]
    for name in sorted(set(allowed)):
        for path in _extra(name):
            mounts.append(Mount(path, f"{EXTRA}/{os.path.basename(path)}"))
    library_path = "/opt/python/lib" if any(
        p.name.startswith("libpython") for p in (root / "python" / "lib").glob("*.so*")) else ""
    python_path = [RUNTIME_PARENT, SITE] + ([EXTRA] if allowed else [])
    return World(mounts=mounts, symlinks=links, python_path=python_path,
                 library_path=library_path)


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
