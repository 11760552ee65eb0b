"""Which process of a run this is, from the variables the launchers set:

- torchrun (and `torch.distributed.launch`): RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT;
- Slurm's srun: SLURM_PROCID, SLURM_STEP_NUM_TASKS (else SLURM_NTASKS), SLURM_LOCALID, SLURM_STEP_TASKS_PER_NODE and
  SLURM_NODEID (tasks on this node), SLURM_STEP_NODELIST (else SLURM_NODELIST; its first host is the rendezvous
  address unless MASTER_ADDR is set), MASTER_PORT or a port derived from SLURM_JOB_ID.

Only a process that srun started is a Slurm rank: srun sets SLURM_STEP_ID. The batch script of `sbatch --ntasks=8`
itself has SLURM_PROCID=0 and SLURM_NTASKS=8 too, but is one process — taking those for a world of 8 would wait for
seven processes that never come. Anything else is one process (`local`).
Rank 0 writes the run folder; every rank logs to logs/rank-N.log."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from .hostlist import expand_hostlist, tasks_on_node

DEFAULT_MASTER_PORT = 29500


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    launcher: str = "local"  # local | torchrun | slurm
    local_world_size: int = 1
    master_addr: str | None = None
    master_port: int | None = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _int(env: Mapping[str, str], name: str, default: int | None = None) -> int:
    if name not in env:
        if default is None:
            raise ValueError(f"environment variable {name} is not set")
        return default
    try:
        value = int(env[name])
    except ValueError as e:
        raise ValueError(f"environment variable {name}={env[name]!r} is not an integer") from e
    if value < 0:
        raise ValueError(f"environment variable {name}={value} is negative")
    return value


def slurm_master_port(env: Mapping[str, str]) -> int:
    """MASTER_PORT, else 20000 + job id mod 20000: every rank of a job agrees, jobs sharing a node rarely collide."""
    if "MASTER_PORT" in env:
        return _int(env, "MASTER_PORT")
    return 20000 + _int(env, "SLURM_JOB_ID", 0) % 20000


def _torchrun(env: Mapping[str, str]) -> DistInfo:
    world = _int(env, "WORLD_SIZE")
    return DistInfo(
        rank=_int(env, "RANK"),
        world_size=world,
        local_rank=_int(env, "LOCAL_RANK", 0),
        launcher="torchrun",
        local_world_size=_int(env, "LOCAL_WORLD_SIZE", world),
        master_addr=env.get("MASTER_ADDR", "127.0.0.1"),
        master_port=_int(env, "MASTER_PORT", DEFAULT_MASTER_PORT),
    )


def _srun(env: Mapping[str, str]) -> DistInfo:
    world = _int(env, "SLURM_STEP_NUM_TASKS", _int(env, "SLURM_NTASKS", 1))
    per_node = env.get("SLURM_STEP_TASKS_PER_NODE") or env.get("SLURM_TASKS_PER_NODE")
    local_world = tasks_on_node(per_node, _int(env, "SLURM_NODEID", 0)) if per_node else world
    nodes = env.get("SLURM_STEP_NODELIST") or env.get("SLURM_NODELIST") or env.get("SLURM_JOB_NODELIST") or ""
    master = env.get("MASTER_ADDR") or (expand_hostlist(nodes)[0] if nodes.strip() else "127.0.0.1")
    return DistInfo(
        rank=_int(env, "SLURM_PROCID"),
        world_size=world,
        local_rank=_int(env, "SLURM_LOCALID", 0),
        launcher="slurm",
        local_world_size=local_world,
        master_addr=master,
        master_port=slurm_master_port(env),
    )


def dist_info(env: Mapping[str, str] | None = None) -> DistInfo:
    env = os.environ if env is None else env
    if "WORLD_SIZE" in env and "RANK" in env:
        info = _torchrun(env)
    elif "SLURM_PROCID" in env and ("SLURM_STEP_ID" in env or "SLURM_STEPID" in env):
        info = _srun(env)
    else:
        return DistInfo()
    if info.world_size < 1 or info.rank >= info.world_size:
        raise ValueError(f"rank {info.rank} is outside the world of {info.world_size} processes ({info.launcher})")
    if not 0 <= info.local_rank < max(1, info.local_world_size):
        raise ValueError(
            f"local rank {info.local_rank} is outside the {info.local_world_size} processes on this node ({info.launcher})"
        )
    return info
