"""The end of a Slurm job of a run, recorded by its batch script after `srun` returns (`python -m dora_studio job-end`).

When every rank ends normally, rank 0 has already written the run's final event; this only records the job's end
(`slurm/end-<job>.json`). When a rank died (killed, out of memory, its node lost) the others were ended by srun
(`--kill-on-bad-exit`) and nobody wrote a final event: this writes the `failed` event with the task srun reported and
the last lines of that rank's log, marks run.json failed and removes the run lock its dead rank 0 left behind, so the
run can be resumed from its last checkpoint at once. When rank 0 failed too, only because another rank died ("connection
reset by peer"), the dead rank's failure is added after rank 0's; after a final `finished`/`stopped` a failing task is
only a `warning`."""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic import append_json_line, write_json_atomic
from .lock import iso_now, judge
from .paths import run_paths

TERMINAL = ("finished", "stopped", "failed")
LIFECYCLE = ("started", "resumed", *TERMINAL)
_SRUN_ERROR = re.compile(r"^srun: error: (\S+): tasks? ([\d,\-]+): (.+?)\s*$")
TAIL_LINES = 12


@dataclass
class FailedTask:
    ranks: list[int]
    host: str
    what: str


def _ranks(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def failed_tasks(job_output: str) -> list[FailedTask]:
    """srun's reports of tasks that ended badly (`srun: error: node7: task 3: Killed`), in the order it printed them."""
    found = []
    for line in job_output.splitlines():
        m = _SRUN_ERROR.match(line)
        if m:
            found.append(FailedTask(_ranks(m.group(2)), m.group(1), m.group(3)))
    return found


def last_lines(path: Path, n: int = TAIL_LINES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip("\n").split("\n")[-n:])


def _last_lifecycle_event(events_file: Path) -> dict[str, Any] | None:
    last = None
    try:
        lines = events_file.read_text("utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("type") in LIFECYCLE:
            last = event
    return last


def _rank_log(run_dir: Path, rank: int) -> Path:
    logs = run_paths(run_dir).logs / f"rank-{rank}.log"
    return logs if logs.exists() else run_paths(run_dir).log


def culprit(tasks: list[FailedTask]) -> FailedTask | None:
    """The task that took the job down: the first one srun saw die of a signal or out of memory (not srun's own
    `Terminated` of the survivors), else the first one that exited with an error. (Another rank may exit first, with
    only "connection closed by peer" to say, so the order alone is not enough.)"""
    died = [t for t in tasks if not t.what.startswith("Exited with exit code") and t.what != "Terminated"]
    return (died or tasks or [None])[0]


def failure_reason(run_dir: Path, job_id: str, exit_code: int, tasks: list[FailedTask]) -> str:
    first = culprit(tasks)
    if first is not None:
        rank = first.ranks[0]
        log = _rank_log(run_dir, rank)
        tail = last_lines(log)
        where = f"rank {rank}" if len(first.ranks) == 1 else f"ranks {first.ranks}"
        reason = f"Slurm job {job_id}: {where} on {first.host}: {first.what}"
        return f"{reason}; last lines of {log.relative_to(run_dir)}:\n{tail}" if tail else reason
    output = run_paths(run_dir).logs / f"slurm-{job_id}.out"
    tail = last_lines(output)
    reason = f"Slurm job {job_id} ended with exit status {exit_code} before the trainer wrote a final event"
    return f"{reason}; last lines of logs/{output.name}:\n{tail}" if tail else reason


def record_job_end(run_dir: Path, job_id: str, exit_code: int) -> dict[str, Any]:
    """Writes slurm/end-<job>.json and, for a job that failed, the run's failed event (see the module docstring)."""
    paths = run_paths(run_dir)
    output = paths.logs / f"slurm-{job_id}.out"
    tasks = failed_tasks(output.read_text("utf-8", errors="replace")) if output.exists() else []
    last = _last_lifecycle_event(paths.events)
    step = int(last.get("step", 0)) if last else 0
    end = {
        "formatVersion": 1,
        "jobId": job_id,
        "exitCode": exit_code,
        "failedTasks": [{"ranks": t.ranks, "host": t.host, "what": t.what} for t in tasks],
        "host": socket.gethostname(),
        "time": iso_now(),
    }
    if exit_code != 0:
        reason = failure_reason(run_dir, job_id, exit_code, tasks)
        kind = last.get("type") if last else None
        # Rank 0 may have failed first with only "connection reset by peer" when another rank died: the rank srun
        # names is the cause, so its failure is recorded after (the last failed event gives the run's reason).
        cause = culprit(tasks)
        other_rank_died = cause is not None and cause.ranks[0] != 0
        if kind not in TERMINAL or (kind == "failed" and other_rank_died):
            fix = "resume the run: it continues from its last checkpoint (Resume Run, or `dora train --resume latest`)"
            append_json_line(
                paths.events, {"type": "failed", "reason": reason, "fix": fix, "time": iso_now(), "step": step}
            )
            _mark_failed(paths.info)
        elif tasks:
            append_json_line(paths.events, {"type": "warning", "message": reason, "time": iso_now(), "step": step})
        end["reason"] = reason
    _remove_dead_lock(run_dir)
    (run_dir / "slurm").mkdir(exist_ok=True)
    write_json_atomic(run_dir / "slurm" / f"end-{job_id}.json", end)
    return end


def _mark_failed(info_file: Path) -> None:
    try:
        info = json.loads(info_file.read_text("utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(info, dict):
        write_json_atomic(info_file, {**info, "statusHint": "failed"})


def _remove_dead_lock(run_dir: Path) -> None:
    lock_file = run_paths(run_dir).lock
    try:
        lock = json.loads(lock_file.read_text("utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(lock, dict) and judge(lock, run_dir, socket.gethostname()).stale:
        lock_file.unlink(missing_ok=True)
