"""The process group of a multi-process run and the few collectives the trainer needs.

- Backend: NCCL when the run trains on CUDA, gloo otherwise (the official code is NCCL-only; gloo lets the same run
  train on CPUs, which is how the tests run it).
- Rendezvous: `env://`. Under torchrun the variables point at its agent's store; under srun this module sets
  MASTER_ADDR/MASTER_PORT from the node list (dist.env) and rank 0 hosts the store.
- Timeout: `DORA_DIST_TIMEOUT_S` seconds (default 1800, torch's default). A process that dies leaves the others
  waiting in their next collective until the launcher ends them (srun --kill-on-bad-exit, torchrun) or this timeout
  passes; gloo notices a closed connection at once.

`Collective` is what one process sees of the others; `SingleProcess` is the same interface for a world of one, so
the trainer has one code path."""

from __future__ import annotations

import datetime
import os
from typing import Any

import torch

from .env import DistInfo

DEFAULT_TIMEOUT_S = 1800.0


class SingleProcess:
    """A world of one: every collective returns what it was given."""

    world_size = 1
    rank = 0
    backend = "none"

    def all_reduce_sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor

    def agree_stop(self, stop: bool, checkpoint: bool = True) -> tuple[bool, bool]:
        """(stop, checkpoint) agreed by every process: stop if any asks; checkpoint unless one asked not to."""
        return stop, checkpoint

    def gather_problems(self, problem: str | None) -> list[tuple[int, str]]:
        """Every process's problem (rank, message), so all of them leave together when one cannot go on."""
        return [(0, problem)] if problem else []

    def close(self) -> None:
        pass


class ProcessGroup(SingleProcess):
    def __init__(self, info: DistInfo, device: torch.device) -> None:
        import torch.distributed as dist

        if not dist.is_available():
            raise RuntimeError(
                f"this PyTorch ({torch.__version__}) was built without torch.distributed; install a build that has it "
                'or launch one process (runtime.launcher "local")'
            )
        self.dist = dist
        self.world_size = info.world_size
        self.rank = info.rank
        self.backend = "nccl" if device.type == "cuda" else "gloo"
        # Small tensors of the collectives live where the backend wants them (NCCL: the rank's GPU).
        self.device = device if self.backend == "nccl" else torch.device("cpu")
        if info.master_addr:
            os.environ.setdefault("MASTER_ADDR", info.master_addr)
        if info.master_port:
            os.environ.setdefault("MASTER_PORT", str(info.master_port))
        timeout = float(os.environ.get("DORA_DIST_TIMEOUT_S", DEFAULT_TIMEOUT_S))
        dist.init_process_group(
            self.backend,
            init_method="env://",
            rank=info.rank,
            world_size=info.world_size,
            timeout=datetime.timedelta(seconds=timeout),
        )

    def all_reduce_sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        self.dist.all_reduce(tensor, op=self.dist.ReduceOp.SUM)
        return tensor

    def agree_stop(self, stop: bool, checkpoint: bool = True) -> tuple[bool, bool]:
        flags = torch.tensor([int(stop), int(stop and not checkpoint)], dtype=torch.int32, device=self.device)
        self.dist.all_reduce(flags, op=self.dist.ReduceOp.MAX)
        any_stop, no_checkpoint = (bool(v) for v in flags.tolist())
        return any_stop, not no_checkpoint

    def gather_problems(self, problem: str | None) -> list[tuple[int, str]]:
        everyone: list[Any] = [None] * self.world_size
        self.dist.all_gather_object(everyone, problem)
        return [(rank, p) for rank, p in enumerate(everyone) if p]

    def close(self) -> None:
        if self.dist.is_initialized():
            self.dist.destroy_process_group()


def rank_device(device: torch.device, info: DistInfo) -> torch.device:
    """One process per GPU: local rank r trains on GPU r of its node (on the only GPU it sees when the launcher gave
    each task its own, e.g. `srun --gpus-per-task=1`). On CPUs the node's cores are shared out among its processes."""
    if device.type == "cpu":
        from ..data.loader import core_share

        torch.set_num_threads(core_share(info.local_world_size))
        return device
    if device.type != "cuda":
        return device
    count = torch.cuda.device_count()
    index = 0 if count == 1 else info.local_rank
    if index >= count:
        from ..dora.runtime import RuntimeSetupError

        raise RuntimeSetupError(
            f"process {info.rank} is local rank {info.local_rank} of {info.local_world_size} on this node, which has "
            f"{count} GPU(s) visible; one process per GPU: launch at most {count} processes per node "
            "(--nproc / runtime.distributed.nproc, runtime.slurm.gpusPerNode)"
        )
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


def open_collective(info: DistInfo, device: torch.device) -> SingleProcess:
    """The process group of this run (nothing to open for one process)."""
    return ProcessGroup(info, device) if info.distributed else SingleProcess()
