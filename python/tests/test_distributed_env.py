"""Which process a rank is (torchrun's and srun's variables, never an sbatch script's), Slurm host lists, the
statistics of a global batch split over processes, and where a checkpoint continues with another global batch."""

import pytest
import torch

from dora_studio.data.clips import ClipSampler
from dora_studio.distributed.env import DistInfo, dist_info
from dora_studio.distributed.hostlist import expand_hostlist, tasks_on_node
from dora_studio.dora.step_stats import step_statistics
from dora_studio.run.resume_position import ResumeMismatch, resume_position

SRUN_TASK_1 = {
    "SLURM_JOB_ID": "4242", "SLURM_STEP_ID": "0", "SLURM_PROCID": "3", "SLURM_NTASKS": "4", "SLURM_STEP_NUM_TASKS": "4",
    "SLURM_LOCALID": "1", "SLURM_NODEID": "1", "SLURM_STEP_TASKS_PER_NODE": "2(x2)", "SLURM_STEP_NODELIST": "gpu[07-08]",
}  # fmt: skip


def test_srun_tasks_are_ranks_with_the_first_node_as_rendezvous():
    info = dist_info(SRUN_TASK_1)
    assert info == DistInfo(3, 4, 1, "slurm", 2, "gpu07", 20000 + 4242)
    assert dist_info({**SRUN_TASK_1, "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "1234"}).master_port == 1234


def test_an_sbatch_script_is_one_process_though_it_sees_slurm_ntasks():
    batch_script = {"SLURM_JOB_ID": "7", "SLURM_PROCID": "0", "SLURM_NTASKS": "8", "SLURM_LOCALID": "0"}
    assert dist_info(batch_script) == DistInfo()
    assert not dist_info(batch_script).distributed


def test_torchrun_variables_win_over_slurm_ones():
    env = {**SRUN_TASK_1, "RANK": "5", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "4",
           "MASTER_ADDR": "head", "MASTER_PORT": "29400"}  # fmt: skip
    assert dist_info(env) == DistInfo(5, 8, 1, "torchrun", 4, "head", 29400)


@pytest.mark.parametrize(
    "env, problem",
    [
        ({"RANK": "3", "WORLD_SIZE": "2"}, "outside the world"),
        ({"RANK": "x", "WORLD_SIZE": "2"}, "RANK='x' is not an integer"),
        ({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "2", "LOCAL_WORLD_SIZE": "2"}, "local rank 2 is outside"),
    ],
)
def test_bad_launcher_variables_are_named(env, problem):
    with pytest.raises(ValueError, match=problem):
        dist_info(env)


def test_host_lists():
    assert expand_hostlist("gpu[01-03,07],login1") == ["gpu01", "gpu02", "gpu03", "gpu07", "login1"]
    assert expand_hostlist("r[1-2]n[8-9]") == ["r1n8", "r1n9", "r2n8", "r2n9"]
    assert expand_hostlist("vm") == ["vm"]
    assert tasks_on_node("2(x3),1", 3) == 1 and tasks_on_node("4", 0) == 4
    with pytest.raises(ValueError, match="unbalanced"):
        expand_hostlist("gpu[01-03")


class Summing:
    """Two processes' halves of a batch, summed as all_reduce would."""

    world_size = 2

    def __init__(self, other: torch.Tensor) -> None:
        self.other = other

    def all_reduce_sum_(self, t: torch.Tensor) -> torch.Tensor:
        return t.add_(self.other)


def test_statistics_of_a_split_batch_are_those_of_the_whole_batch():
    g = torch.Generator().manual_seed(0)
    teacher = torch.randn(3, 4, 16, generator=g)  # [F, B, D]
    targets = torch.softmax(torch.randn(3, 4, 16, generator=g), dim=-1)
    losses = [torch.rand(3, generator=g) for _ in range(2)]  # each half's (loss, masked, local)
    whole_losses = tuple((losses[0] + losses[1]) / 2)
    whole = step_statistics(teacher, targets, whole_losses)
    halves = [(teacher[:, i::2], targets[:, i::2], tuple(losses[i])) for i in range(2)]
    other = halves[1]  # what the other process contributes to the one all-reduce
    d = 16
    rows = other[0].reshape(-1, d)
    q = other[1].reshape(-1, d)
    entropy = -(q * torch.log(q + 1e-12)).sum(-1).sum()
    contribution = torch.cat([rows.sum(0), q.sum(0), torch.stack([*other[2], entropy])])
    split = step_statistics(*halves[0], all_reduce=Summing(contribution).all_reduce_sum_, world_size=2)
    for name in ("loss", "loss_masked", "loss_local", "teacher_entropy", "teacher_batch_entropy", "batch_center"):
        assert torch.allclose(getattr(split, name), getattr(whole, name), rtol=1e-6, atol=1e-6), name


def sampler(batch: int, world: int) -> ClipSampler:
    return ClipSampler(1000, 8, 4, batch, seed=0, world_size=world)  # 968 clip starts


def test_resume_with_another_global_batch_keeps_the_epoch_and_the_clips_seen():
    old = sampler(2, 2)  # 4 clips per step, 242 steps per epoch
    schedule = {"iteration": 242 * 3 + 10, "itersPerEpoch": 242, "globalBatch": 4, "worldSize": 2}
    new = sampler(2, 1)  # 2 clips per step, 484 steps per epoch
    pos = resume_position(schedule, new)
    assert pos.iteration == 484 * 3 + 20 and "2 process(es) with 4 clips per step" in pos.note
    up = resume_position({**schedule, "iteration": 242 * 3 + 11}, sampler(3, 2))  # 44 clips seen → step ceil(44/6)
    assert up.iteration == 161 * 3 + 8
    same = resume_position(schedule, old)
    assert same.iteration == schedule["iteration"] and same.note is None
    # A checkpoint of one process (no globalBatch: the TF.js engine, earlier runs) resumed by 2 processes.
    assert resume_position({"iteration": 10, "itersPerEpoch": 484}, sampler(2, 2)).iteration == 5
    with pytest.raises(ResumeMismatch, match="steps per epoch"):
        resume_position({"iteration": 10, "itersPerEpoch": 500}, new)
