"""A throwaway single-node Slurm cluster for the tests · 测试用的临时单节点 Slurm 集群.

``cluster()`` starts, in a fresh folder, a ``munged`` with its own key and socket, a
``slurmctld`` and a ``slurmd`` on free ports of 127.0.0.1 with a minimal ``slurm.conf``
(``proctrack/linuxproc``, ``task/none``, ``select/cons_tres``; no cgroups, no accounting
database), and stops and removes it all afterwards. It never touches /etc/slurm,
/etc/munge or a cluster the machine already runs: every command gets ``SLURM_CONF``.

The node declares more CPUs than the machine has (``config_overrides``), so an array of a
few one-CPU tasks runs at once even on two cores. Needs Debian's ``slurm-wlm`` and
``munge`` and root (slurmd runs jobs as their user); without them the tests skip, with the
reason, except in CI (.ci/run installs both).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo")


def unavailable() -> str | None:
    """Why a test cluster cannot run here (English + Chinese), or None."""
    missing = [p for p in PROGRAMS if shutil.which(p) is None and not Path("/usr/sbin", p).exists()]
    if missing:
        return (f"Slurm or munge not installed ({', '.join(missing)}): apt-get install slurm-wlm "
                f"munge · 未安装 Slurm 或 munge（{', '.join(missing)}）：apt-get install slurm-wlm munge")
    if os.geteuid() != 0:
        return ("a Slurm test cluster needs root (slurmd starts jobs as their user) · "
                "临时 Slurm 集群需要 root 权限（slurmd 以作业所属用户的身份启动作业）")
    return None


def _program(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(int(line.split()[1]) / 1024 * 0.9)
    return 4096


@dataclass
class Cluster:
    root: Path
    env: dict[str, str]  # os.environ with SLURM_CONF: for every Slurm command

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([_program(args[0]), *args[1:]], env=self.env, capture_output=True,
                              text=True, timeout=60)
        if check and done.returncode:
            raise RuntimeError(f"{' '.join(args)}: {done.stdout}{done.stderr}")
        return done

    def submit(self, script: Path, *options: str, env: dict[str, str] | None = None) -> str:
        """``sbatch --parsable`` with these options; the job id."""
        done = subprocess.run([_program("sbatch"), "--parsable", *options, str(script)],
                              env={**(env or os.environ), "SLURM_CONF": self.env["SLURM_CONF"]},
                              capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise RuntimeError(f"sbatch: {done.stdout}{done.stderr}")
        return done.stdout.strip().split(";")[0]

    def tasks(self, job: str) -> dict[int, tuple[str, str]]:
        """{array task id: (state, exit code)} of an array job, finished tasks included."""
        done = self.run("scontrol", "show", "job", "-o", job, check=False)
        found = {}
        for line in done.stdout.splitlines():
            fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
            if fields.get("ArrayJobId") == job and fields.get("ArrayTaskId", "").isdigit():
                found[int(fields["ArrayTaskId"])] = (fields.get("JobState", ""),
                                                     fields.get("ExitCode", ""))
        return found

    def wait(self, job: str, count: int, timeout: float) -> dict[int, tuple[str, str]]:
        """Until every task of the array has ended; their states."""
        deadline = time.monotonic() + timeout
        ended = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY")
        while time.monotonic() < deadline:
            tasks = self.tasks(job)
            if len(tasks) == count and all(state in ended for state, _ in tasks.values()):
                return tasks
            time.sleep(1)
        raise AssertionError(f"array {job} still running after {timeout} s: {self.tasks(job)}")

    def log(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.root.glob("*.log")))


def _conf(root: Path, host: str, ports: list[int], cpus: int) -> str:
    return f"""\
ClusterName=nnfstest
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ports[0]}
SlurmdPort={ports[1]}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge/socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={_memory_mb()} State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


@contextlib.contextmanager
def cluster(cpus: int = 4) -> Iterator[Cluster]:
    """A running cluster for the duration of the ``with`` block; skip if impossible."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="nnfs-slurm-"))
    for folder in ("munge", "keys", "state", "spool"):
        (root / folder).mkdir()
    (root / "munge").chmod(0o755)  # the socket's folder: every user may connect
    (root / "keys").chmod(0o700)
    key = root / "keys" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    host = socket.gethostname().split(".")[0] or "localhost"
    conf = root / "slurm.conf"
    conf.write_text(_conf(root, host, _free_ports(2), cpus))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    daemons: list[subprocess.Popen] = []

    def start(*command: str) -> None:
        log = open(root / f"{Path(command[0]).name}.out.log", "w")
        daemons.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True))
        log.close()

    try:
        start(_program("munged"), "--foreground", "--force", f"--socket={root}/munge/socket",
              f"--key-file={key}", f"--pid-file={root}/munge/munged.pid",
              f"--log-file={root}/munged.log", f"--seed-file={root}/keys/munged.seed")
        _until(lambda: (root / "munge" / "socket").exists(), 30, "munged", root)
        start(_program("slurmctld"), "-D", "-f", str(conf))
        running = Cluster(root, env)
        _until(lambda: running.run("scontrol", "ping", check=False).returncode == 0
               and "UP" in running.run("scontrol", "ping", check=False).stdout, 60,
               "slurmctld", root)
        start(_program("slurmd"), "-D", "-f", str(conf), "-N", host)
        _until(lambda: running.run("sinfo", "-h", "-o", "%T", check=False).stdout.strip()
               in ("idle", "mixed", "allocated"), 60, "slurmd", root)
        yield running
    finally:
        if daemons:
            with contextlib.suppress(Exception):
                subprocess.run([_program("scancel"), "--full", "--user=root"], env=env,
                               capture_output=True, timeout=30)
        for daemon in reversed(daemons):
            with contextlib.suppress(ProcessLookupError):
                daemon.terminate()
        for daemon in reversed(daemons):
            try:
                daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        shutil.rmtree(root, ignore_errors=True)


def _until(ready, timeout: float, what: str, root: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                     for p in sorted(root.glob("*.log")))
    raise RuntimeError(f"{what} did not start within {timeout} s\n{logs}")


@pytest.fixture(scope="session")
def slurm() -> Iterator[Cluster]:
    """One cluster for the test session (import this fixture into a test module)."""
    with cluster() as running:
        yield running
