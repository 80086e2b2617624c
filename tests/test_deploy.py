"""Running on a batch engine (issue 22) · 在批处理系统上运行.

The index and count each engine hands a worker (grader.record.plan.engine_task), what a
worker does with them (its name, its files, who writes the class's files), and the
recipes in deploy/: the Kubernetes Indexed Job validated against Kubernetes' own schema
(kubernetes-validate ships the schemas: no network), the Slurm batch script checked by
bash. tests/test_slurm.py runs the Slurm script on a real cluster.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from grader.paths import REPO
from grader.record import claiming
from grader.record.plan import Task, engine_task, parse_shard

MANIFEST = REPO / "deploy" / "kubernetes" / "grade-job.yaml"
SBATCH = REPO / "deploy" / "slurm" / "grade.sbatch"

SLURM = {"SLURM_ARRAY_JOB_ID": "4242", "SLURM_ARRAY_TASK_COUNT": "4",
         "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_STEP": "1", "SLURM_JOB_ID": "4245"}


# ------------------------------------------------------------------ engine indexes


@pytest.mark.parametrize("environ,index,count,engine,run", [
    ({**SLURM, "SLURM_ARRAY_TASK_ID": "1"}, 1, 4, "slurm", "slurm:4242"),
    ({**SLURM, "SLURM_ARRAY_TASK_ID": "4"}, 4, 4, "slurm", "slurm:4242"),
    # --array=0-3 counts from 0, --array=0-12:4 in steps: both are tasks 1 … 4
    ({**SLURM, "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_ID": "0"}, 1, 4, "slurm", "slurm:4242"),
    ({**SLURM, "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "4",
      "SLURM_ARRAY_TASK_ID": "12"}, 4, 4, "slurm", "slurm:4242"),
    ({"JOB_COMPLETION_INDEX": "0", "NNFS_TASK_COUNT": "3", "NNFS_RUN_ID": "9f1c"}, 1, 3,
     "kubernetes", "kubernetes:9f1c"),
    ({"JOB_COMPLETION_INDEX": "2", "NNFS_TASK_COUNT": "3"}, 3, 3, "kubernetes", ""),
    ({"AWS_BATCH_JOB_ARRAY_INDEX": "0", "AWS_BATCH_JOB_ARRAY_SIZE": "10",
      "AWS_BATCH_JOB_ID": "ab12-cd34:0"}, 1, 10, "aws-batch", "aws-batch:ab12-cd34"),
    # NNFS_RUN_ID names the array under any engine
    ({**SLURM, "SLURM_ARRAY_TASK_ID": "2", "NNFS_RUN_ID": "fall26"}, 2, 4, "slurm", "fall26"),
])
def test_each_engine_tells_the_worker_its_index_and_count(environ, index, count, engine, run):
    task = engine_task(environ)
    assert (task.index, task.count, task.engine, task.run) == (index, count, engine, run)
    assert task.name == f"task-{index}-of-{count}" and task.first == (index == 1)
    for name, value in environ.items():  # the report says where the index came from
        if name.startswith(("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION", "AWS_BATCH_JOB_ARRAY")):
            assert f"{name}={value}" in task.told
    assert parse_shard("auto", task) == (index, count)


def test_no_engine_no_task_and_a_plain_slurm_job_is_not_an_array():
    assert engine_task({}) is None
    assert engine_task({"SLURM_JOB_ID": "77", "SLURM_NTASKS": "1"}) is None
    with pytest.raises(ValueError) as refused:
        parse_shard("auto", None)
    assert "--shard auto" in str(refused.value) and "批处理" in str(refused.value)
    assert parse_shard("2/4", None) == (2, 4)


@pytest.mark.parametrize("environ,english,chinese", [
    ({"JOB_COMPLETION_INDEX": "1"}, "NNFS_TASK_COUNT", "completions"),
    ({"JOB_COMPLETION_INDEX": "x", "NNFS_TASK_COUNT": "3"}, "JOB_COMPLETION_INDEX=x", "任务编号"),
    ({**SLURM, "SLURM_ARRAY_TASK_ID": "9"}, "SLURM_ARRAY_TASK_ID=9", "任务编号"),  # --array=1,5,9
])
def test_variables_that_do_not_give_an_index_are_a_clear_error(environ, english, chinese):
    with pytest.raises(ValueError) as refused:
        engine_task(environ)
    assert english in str(refused.value) and chinese in str(refused.value)


def _placed(db_url, shard, task, lease=None):
    run = SimpleNamespace()
    claiming.place(run, db_url, shard, task, lease)
    return run


def test_the_first_task_writes_the_class_files_and_the_others_their_own():
    pg = "postgresql://grader@db/fall26"
    first, third = Task(1, 4, "slurm", "slurm:1", ""), Task(3, 4, "slurm", "slurm:1", "")
    assert (_placed(pg, None, first).reports, _placed(pg, None, first).tag) == (True, "")
    assert (_placed(pg, None, third).reports, _placed(pg, None, third).tag) == (False,
                                                                               "task-3-of-4")
    assert _placed(pg, None, None).reports  # a worker alone writes them
    assert _placed(pg, (3, 4), third).tag == "shard-3-of-4"  # a shard is its own
    assert _placed(pg, None, third).run_id == "slurm:1"
    with pytest.raises(RuntimeError) as refused:  # an array on sqlite would grade it N times
        _placed(None, None, third)
    assert "PostgreSQL" in str(refused.value) and "--shard auto" in str(refused.value)
    assert _placed(None, (3, 4), third).tag == "shard-3-of-4"
    with pytest.raises(ValueError):
        _placed(pg, None, None, lease=0.5)


def test_a_worker_is_named_after_its_task_machine_and_process():
    name = claiming.worker_name(Task(2, 4, "slurm", "", ""))
    assert re.fullmatch(rf"task-2-of-4@[^:]+:{os.getpid()}", name)
    assert claiming.worker_name(None).startswith("worker@")


# ------------------------------------------------------------- Kubernetes manifest


def _manifest() -> dict:
    documents = [d for d in yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8")) if d]
    assert len(documents) == 1
    return documents[0]


@pytest.mark.parametrize("version", ["1.33", "1.37"])
def test_the_indexed_job_is_valid_kubernetes(version):
    """Strict: an unknown or misspelt field (hostUser, backofLimitPerIndex) is an error."""
    import kubernetes_validate

    assert kubernetes_validate.validate(_manifest(), version, strict=True) == version
    typo = _manifest()
    typo["spec"]["template"]["spec"]["hostUser"] = False
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, version, strict=True)


def test_the_indexed_job_runs_claiming_workers_that_can_sandbox():
    job = _manifest()
    spec, pod = job["spec"], job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert spec["completionMode"] == "Indexed" and pod["restartPolicy"] == "Never"
    assert int(env["NNFS_TASK_COUNT"]["value"]) == spec["completions"] == spec["parallelism"]
    assert env["NNFS_RUN_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == \
        "metadata.labels['batch.kubernetes.io/controller-uid']"
    command = container["command"]
    assert command[1:4] == ["-m", "grader", "grade"]
    assert command[command.index("--db-url") + 1] == "$(NNFS_DB_URL)"
    assert command[command.index("--sandbox") + 1] == "bwrap"
    jobs = int(command[command.index("--jobs") + 1])
    assert jobs == int(container["resources"]["requests"]["cpu"])
    # secrets come from a Secret, never as a literal; no password in the URL
    for name in ("NNFS_COURSE_SECRET", "PGPASSWORD"):
        assert "secretKeyRef" in env[name]["valueFrom"]
    assert "@" in env["NNFS_DB_URL"]["value"] and ":" not in env["NNFS_DB_URL"]["value"].split(
        "//")[1].split("@")[0]
    # bubblewrap: a user namespace of its own, no profile that forbids unshare and mount
    assert pod["hostUsers"] is False
    assert pod["securityContext"]["seccompProfile"]["type"] in ("Unconfined", "Localhost")
    assert container["securityContext"]["appArmorProfile"]["type"] in ("Unconfined", "Localhost")
    assert pod["automountServiceAccountToken"] is False
    # what a pod of index 0 is told is what the grader reads: task 1 of completions
    task = engine_task({"JOB_COMPLETION_INDEX": "0", "NNFS_TASK_COUNT":
                        env["NNFS_TASK_COUNT"]["value"], "NNFS_RUN_ID": "uid"})
    assert (task.index, task.count, task.first) == (1, spec["completions"], True)


# ------------------------------------------------------------------ Slurm script


def test_the_slurm_script_is_valid_bash_and_asks_for_what_it_lacks(tmp_path):
    assert subprocess.run(["bash", "-n", str(SBATCH)]).returncode == 0
    directives = re.findall(r"^#SBATCH (\S+)", SBATCH.read_text(encoding="utf-8"), re.M)
    assert "--array=1-4" in directives and any(d.startswith("--cpus-per-task") for d in directives)
    text = SBATCH.read_text(encoding="utf-8")
    assert re.search(r'^exec "\$python" -m grader grade .*--db-url "\$NNFS_DB_URL"', text, re.M)
    assert '--jobs "${SLURM_CPUS_PER_TASK:-1}" --sandbox bwrap' in text
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(SBATCH)], env=env, cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode != 0 and "NNFS_SOURCE" in done.stderr and "提交" in done.stderr
    env.update(NNFS_SOURCE="x", NNFS_OUT="y", NNFS_DB_URL="postgresql://u@h/d",
               NNFS_COURSE=str(tmp_path))
    done = subprocess.run(["bash", str(SBATCH)], env=env, cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 2 and "make venv" in done.stderr


def test_the_recipes_are_where_the_readme_says():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for path in (SBATCH, MANIFEST):
        assert str(Path(path).relative_to(REPO)) in readme
