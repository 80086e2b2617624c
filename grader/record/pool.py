"""The grading processes, which never outlive the grader · 评分进程绝不比评分程序活得更久.

The grader hands notebooks to a pool of forked processes. If the grader itself is killed
(SIGKILL from a batch scheduler, the kernel's OOM killer, a node going away), a process of
a plain pool waits for its next notebook for ever: it reads the pool's queue through a pipe
whose write end it inherited itself, so it never sees the end of it (found after a Slurm
test killed a task: its pool processes still sleeping an hour later). Each process here
asks the kernel for a signal when its parent dies (Linux ``PR_SET_PDEATHSIG``), and goes.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

__all__ = ["grading_pool"]

_PR_SET_PDEATHSIG = 1


def grading_pool(jobs: int) -> ProcessPoolExecutor:
    """``jobs`` forked processes that die with this one."""
    context = multiprocessing.get_context("fork" if sys.platform != "win32" else None)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                               initializer=_die_with, initargs=(os.getpid(),))


def _die_with(parent: int) -> None:
    with contextlib.suppress(Exception):  # not Linux: the pool works as any pool
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
