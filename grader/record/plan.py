"""Who is graded for what: one job per (student, assignment) · 评分任务.

:func:`plan` turns what :mod:`grader.record.collect` found into jobs; every finding of
collecting (renamed, late, duplicate, claims another student, ...) reaches the row
through :attr:`Job.flags`, and only there. ``--shard K/N`` keeps the students whose hash
falls in shard K (:func:`shard_of`).

:func:`engine_task` reads which worker of an array this process is from the batch engine
that started it (a Slurm job array, a Kubernetes Indexed Job, an AWS Batch array job):
its index, the count, the id of the whole array, and the variables they came from.
Claiming workers (:mod:`grader.record.queue`) use it to name themselves and their files,
to choose who writes the class's outputs (the first task), and to check that every task
of one array grades with the same settings; ``--shard auto`` makes it the shard.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.checks import messages as M
from grader.record.collect import Collection, Empty

__all__ = ["Job", "Task", "engine_task", "plan", "parse_shard", "shard_of"]

M.register(
    {
        "batch_bad_shard": (
            "--shard must be K/N with 1 ≤ K ≤ N, for example 2/4, or auto (got {value}).",
            "--shard 的格式必须是 K/N，且 1 ≤ K ≤ N，例如 2/4，或者 auto（收到的是 {value}）。",
        ),
        "batch_shard_no_engine": (
            "--shard auto needs a batch engine that numbers its tasks (a Slurm job array, a "
            "Kubernetes Indexed Job with NNFS_TASK_COUNT, an AWS Batch array job); none was "
            "found in the environment.",
            "--shard auto 需要一个为任务编号的批处理系统（Slurm 作业数组、设置了 NNFS_TASK_COUNT 的 "
            "Kubernetes Indexed Job、AWS Batch 数组作业）；环境中没有找到。",
        ),
        "batch_kubernetes_count": (
            "A Kubernetes Indexed Job does not tell a pod how many indexes there are: set "
            "NNFS_TASK_COUNT to the Job's completions in the manifest ({told}).",
            "Kubernetes Indexed Job 不会告诉 pod 一共有多少个下标：请在清单中把 NNFS_TASK_COUNT "
            "设为该 Job 的 completions（{told}）。",
        ),
        "batch_bad_engine": (
            "The batch engine's variables do not give a task index and count: {told}.",
            "批处理系统的环境变量没有给出有效的任务编号和任务总数：{told}。",
        ),
        "batch_nothing_collected": (
            "✗ Nothing could be graded: no file of this submission could be read ({reasons}).",
            "✗ 没有可评分的内容：这份提交中没有任何文件可以读取（{reasons}）。",
        ),
        "batch_files": (
            " (it holds only: {files})",
            "（其中只有：{files}）",
        ),
        "batch_unknown_assignment": (
            "the assignment could not be told from an empty folder",
            "无法从空文件夹判断是哪份作业",
        ),
    }
)


@dataclass
class Job:
    student: str
    assignment: str
    folder: Path
    origins: list[str] = field(default_factory=list)  # where the files came from
    # what collecting found (renamed:, late, duplicate:, claims_other_student:, …): the one
    # way collect's findings reach the row's flags
    flags: list[str] = field(default_factory=list)
    empty: str = ""  # bilingual reason when nothing gradable was submitted
    status: str = "empty"  # the row's status when nothing was graded (empty, too_large)


@dataclass(frozen=True)
class Task:
    """This process's place in an array of workers, as the batch engine told it."""

    index: int  # 1 … count, whatever the engine counts from
    count: int
    engine: str  # slurm | kubernetes | aws-batch
    run: str  # the engine's id of the whole array: the same in every task, "" if unknown
    told: str  # the variables it came from, as they were: "SLURM_ARRAY_TASK_ID=3, …"

    @property
    def name(self) -> str:
        return f"task-{self.index}-of-{self.count}"

    @property
    def first(self) -> bool:
        return self.index == 1


def engine_task(environ: Mapping[str, str] | None = None) -> Task | None:
    """The task this process is in a Slurm job array, a Kubernetes Indexed Job or an AWS
    Batch array job, or None (not started by one of them).

    * Slurm: ``SLURM_ARRAY_TASK_ID`` among ``SLURM_ARRAY_TASK_MIN`` … with
      ``SLURM_ARRAY_TASK_STEP`` and ``SLURM_ARRAY_TASK_COUNT``; the array is
      ``SLURM_ARRAY_JOB_ID``. ``--array=0-3`` and ``--array=1-4`` both give tasks 1 … 4.
    * Kubernetes: ``JOB_COMPLETION_INDEX`` (from 0); the count is not given to a pod, so the
      manifest sets ``NNFS_TASK_COUNT`` to its ``completions``; the array is
      ``NNFS_RUN_ID`` (the manifest passes the Job's uid label).
    * AWS Batch: ``AWS_BATCH_JOB_ARRAY_INDEX`` (from 0) and ``AWS_BATCH_JOB_ARRAY_SIZE``;
      the array is the parent of ``AWS_BATCH_JOB_ID`` (``parent:index``).

    ``NNFS_RUN_ID``, when set, names the array under any engine.
    """
    env = os.environ if environ is None else environ

    def told(*names: str) -> str:
        return ", ".join(f"{n}={env[n]}" for n in names if n in env)

    def number(name: str) -> int:
        try:
            return int(env[name])
        except (KeyError, ValueError):
            raise ValueError(M.bilingual("batch_bad_engine", told=told(*names) or name)) from None

    run = env.get("NNFS_RUN_ID", "")
    if "SLURM_ARRAY_TASK_ID" in env:
        names = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
                 "SLURM_ARRAY_TASK_STEP", "SLURM_ARRAY_JOB_ID")
        task, count = number("SLURM_ARRAY_TASK_ID"), number("SLURM_ARRAY_TASK_COUNT")
        low = number("SLURM_ARRAY_TASK_MIN") if "SLURM_ARRAY_TASK_MIN" in env else task
        step = number("SLURM_ARRAY_TASK_STEP") if "SLURM_ARRAY_TASK_STEP" in env else 1
        index = (task - low) // max(step, 1) + 1
        engine, run = "slurm", run or (f"slurm:{env['SLURM_ARRAY_JOB_ID']}"
                                       if env.get("SLURM_ARRAY_JOB_ID") else "")
    elif "JOB_COMPLETION_INDEX" in env:
        names = ("JOB_COMPLETION_INDEX", "NNFS_TASK_COUNT", "NNFS_RUN_ID")
        index = number("JOB_COMPLETION_INDEX") + 1
        if "NNFS_TASK_COUNT" not in env:
            raise ValueError(M.bilingual("batch_kubernetes_count", told=told(*names)))
        count = number("NNFS_TASK_COUNT")
        engine, run = "kubernetes", f"kubernetes:{run}" if run else ""
    elif "AWS_BATCH_JOB_ARRAY_INDEX" in env:
        names = ("AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE", "AWS_BATCH_JOB_ID")
        index = number("AWS_BATCH_JOB_ARRAY_INDEX") + 1
        count = number("AWS_BATCH_JOB_ARRAY_SIZE")
        parent = env.get("AWS_BATCH_JOB_ID", "").split(":")[0]
        engine, run = "aws-batch", run or (f"aws-batch:{parent}" if parent else "")
    else:
        return None
    if not 1 <= index <= count:  # e.g. a Slurm array given as a list (--array=1,5,7)
        raise ValueError(M.bilingual("batch_bad_engine", told=told(*names)))
    return Task(index, count, engine, run, told(*names))


def parse_shard(text: str | None, task: Task | None = None) -> tuple[int, int] | None:
    """``K/N``, or ``auto``: the batch engine's task index and count (:func:`engine_task`)."""
    if not text:
        return None
    if text.strip().lower() == "auto":
        if task is None:
            raise ValueError(M.bilingual("batch_shard_no_engine"))
        return task.index, task.count
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(M.bilingual("batch_bad_shard", value=text)) from None
    if not 1 <= k <= n:
        raise ValueError(M.bilingual("batch_bad_shard", value=text))
    return k, n


def shard_of(student: str, n: int) -> int:
    """1-based shard of a student: stable across runs, machines and class lists."""
    return int(hashlib.sha1(student.encode()).hexdigest(), 16) % n + 1


def plan(collection: Collection, staging: Path, assignments: list[str] | None) -> list[Job]:
    """A job per (student, assignment); an empty folder's assignment is the only one in
    scope (``assignments``, or the only one submitted), if there is just one."""
    jobs: dict[tuple[str, str], Job] = {}
    for item in collection.submissions:
        job = jobs.setdefault((item.student, item.assignment),
                              Job(item.student, item.assignment, staging / item.student /
                                  item.assignment))
        job.origins.append(item.origin)
        job.flags += [flag for flag in item.flags if flag not in job.flags]
    in_scope = sorted(assignments or {a for _, a in jobs})
    for empty in collection.empty:
        assignment = empty.assignment or (in_scope[0] if len(in_scope) == 1 else "")
        if (empty.student, assignment) not in jobs:
            jobs[(empty.student, assignment)] = Job(
                empty.student, assignment, staging / empty.student / (assignment or "_"),
                [empty.origin], list(empty.flags), _empty_reason(empty, assignment),
                empty.status)
    return sorted(jobs.values(), key=lambda j: (j.assignment, j.student))


def _empty_reason(empty: Empty, assignment: str) -> str:
    """Why a student with nothing collected got nothing: what was there, and why each file
    that could have been their work was not read."""
    if empty.reasons:  # each reason: an English line, then a Chinese line
        english = " | ".join(r.split("\n")[0] for r in empty.reasons)
        chinese = " | ".join(r.split("\n")[-1] for r in empty.reasons)
        reason = "\n".join([M.en("batch_nothing_collected", reasons=english),
                            M.zh("batch_nothing_collected", reasons=chinese)])
    else:
        files = M.bilingual("batch_files", files=", ".join(empty.files[:5])) if empty.files \
            else ""
        reason = M.bilingual("intake_empty_submission", files=_one_line(files))
    if not assignment:
        reason += "\n" + M.bilingual("batch_unknown_assignment")
    return reason


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))
