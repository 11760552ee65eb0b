"""A real single-node Slurm cluster for the tests (munged + slurmctld + slurmd of Debian's slurm-wlm / munge), with
every file in one folder: nothing in /etc is read or changed (clients find it through SLURM_CONF, the daemons through
-f, munge through its own socket), the ports are free ones, and `stop` ends exactly the daemons it started, by PID.
Start-up takes about 2 s. Needs root (slurmd runs jobs as their user; munged refuses to share a key otherwise).

    python3 python/tests/slurm_cluster.py start DIR     # prints {"SLURM_CONF": …, "partition": "debug", …} as JSON
    python3 python/tests/slurm_cluster.py stop DIR      # cancels its jobs, stops its daemons

Plain Python (no torch): the Node tests and the screenshot script use the same cluster."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

MISSING = (
    "the Slurm test cluster needs slurm-wlm and munge (Debian: `apt-get install slurm-wlm munge`, or "
    "`bash scripts/install-system-deps.sh`)"
)


class ClusterError(RuntimeError):
    pass


def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def slurm_conf(d: Path, node: str, cpus: int, ports: list[int]) -> str:
    return "\n".join(
        [
            "ClusterName=doratest",
            f"SlurmctldHost={node}(127.0.0.1)",
            f"SlurmctldPort={ports[0]}",
            f"SlurmdPort={ports[1]}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={d}/munge/munge.sock",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "MpiDefault=none",
            "SlurmUser=root",
            "SlurmdUser=root",
            f"StateSaveLocation={d}/state",
            f"SlurmdSpoolDir={d}/spool/%n",
            f"SlurmctldPidFile={d}/slurmctld.pid",
            f"SlurmdPidFile={d}/slurmd.pid",
            f"SlurmctldLogFile={d}/log/slurmctld.log",
            f"SlurmdLogFile={d}/log/slurmd.log",
            f"PlugStackConfig={d}/plugstack.conf",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "SlurmdParameters=config_overrides",
            "ReturnToService=2",
            "KillWait=5",
            "MinJobAge=600",
            f"NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN",
            f"PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP",
            "",
        ]
    )


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _wait(what: str, ok, timeout: float, log: Path | None = None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ok():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise ClusterError(f"the test cluster: {what} within {timeout:.0f} s\n{tail}")


def start(d: Path) -> dict[str, str]:
    if os.geteuid() != 0:
        raise ClusterError("the Slurm test cluster must be started as root (CI runs as root)")
    for tool in ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "srun", "sinfo"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            raise ClusterError(f"{tool} not found: {MISSING}")
    d = d.resolve()
    for sub in ("munge", "state", "spool", "log"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    (d / "munge").chmod(0o700)
    key = d / "munge" / "munge.key"
    if not key.exists():
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
    (d / "plugstack.conf").write_text("")
    node = socket.gethostname().split(".")[0]
    conf = d / "slurm.conf"
    conf.write_text(slurm_conf(d, node, max(os.cpu_count() or 1, 4), free_ports(2)))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    m = d / "munge"
    subprocess.run(
        ["munged", "-f", f"--socket={m}/munge.sock", f"--key-file={key}", f"--log-file={m}/munged.log",
         f"--pid-file={m}/munged.pid", f"--seed-file={m}/munged.seed"],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    subprocess.run(["slurmctld", "-f", str(conf)], check=True, env=env, capture_output=True)
    subprocess.run(["slurmd", "-f", str(conf), "-N", node], check=True, env=env, capture_output=True)

    def idle() -> bool:
        r = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True)
        return r.returncode == 0 and r.stdout.strip() == "idle"

    _wait("the node did not become idle", idle, 30, d / "log" / "slurmd.log")
    info = {"SLURM_CONF": str(conf), "partition": "debug", "node": node, "dir": str(d)}
    (d / "cluster.json").write_text(json.dumps(info))
    return info


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(d: Path) -> None:
    d = d.resolve()
    conf = d / "slurm.conf"
    if conf.exists() and _pid(d / "slurmctld.pid"):
        env = {**os.environ, "SLURM_CONF": str(conf)}
        subprocess.run(["scancel", "--full", "--quiet", "--partition=debug"], env=env, capture_output=True)

        def no_jobs() -> bool:
            r = subprocess.run(["squeue", "-h", "-t", "PD,R,CG"], env=env, capture_output=True, text=True)
            return r.returncode != 0 or not r.stdout.strip()

        try:
            _wait("its jobs did not end", no_jobs, 20)
        except ClusterError:
            pass  # the daemons are stopped anyway
    # slurmd and slurmctld together (each takes ~2 s to shut down), then munged, which they use until they exit.
    _terminate([_pid(d / "slurmd.pid"), _pid(d / "slurmctld.pid")])
    _terminate([_pid(d / "munge" / "munged.pid")])


def _terminate(pids: list[int | None]) -> None:
    live = [p for p in pids if p is not None and _alive(p)]
    for pid in live:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in live) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in live:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if argv[0] == "start":
            print(json.dumps(start(Path(argv[1]))))
        else:
            stop(Path(argv[1]))
    except (ClusterError, subprocess.CalledProcessError, OSError) as e:
        detail = getattr(e, "stderr", b"") or b""
        print(f"slurm_cluster: {e} {detail.decode(errors='replace') if isinstance(detail, bytes) else detail}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
