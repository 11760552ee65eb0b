"""Which process of a run this is, from the variables torchrun and Slurm's srun set (RANK/WORLD_SIZE/LOCAL_RANK, or
SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID). Rank 0 writes the run folder; every rank logs to logs/rank-N.log."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    launcher: str = "local"

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _int(env: Mapping[str, str], name: str) -> int:
    try:
        value = int(env[name])
    except ValueError as e:
        raise ValueError(f"environment variable {name}={env[name]!r} is not an integer") from e
    if value < 0:
        raise ValueError(f"environment variable {name}={value} is negative")
    return value


def dist_info(env: Mapping[str, str] | None = None) -> DistInfo:
    env = os.environ if env is None else env
    if "WORLD_SIZE" in env and "RANK" in env:
        info = DistInfo(
            _int(env, "RANK"),
            _int(env, "WORLD_SIZE"),
            _int(env, "LOCAL_RANK") if "LOCAL_RANK" in env else 0,
            "torchrun",
        )
    elif "SLURM_NTASKS" in env and "SLURM_PROCID" in env:
        local = _int(env, "SLURM_LOCALID") if "SLURM_LOCALID" in env else 0
        info = DistInfo(_int(env, "SLURM_PROCID"), _int(env, "SLURM_NTASKS"), local, "slurm")
    else:
        return DistInfo()
    if info.world_size < 1 or info.rank >= info.world_size:
        raise ValueError(f"rank {info.rank} is outside the world of {info.world_size} processes ({info.launcher})")
    return info
