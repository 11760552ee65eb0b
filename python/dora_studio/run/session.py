"""One training session of a run folder: the run lock around the Trainer, and every failure turned into the same
records the TF.js engine writes (`error` + `finished: failed` messages, a `failed` event with its fix, a log line with
the traceback), so a failed PyTorch run looks like any other failed run."""

from __future__ import annotations

import json
import re
import traceback
from pathlib import Path
from typing import Any

from ..distributed.env import DistInfo
from ..distributed.group import SingleProcess, open_collective, rank_device
from ..dora.runtime import resolve_device
from ..engine.channel import Channel, StopFlag
from .lock import RunLock, RunLockedError
from .trainer import Trainer, TrainingError, TrainOptions, TrainResult

#: How gloo / NCCL / the c10d store report a process of the group that went away.
LOST_PEER = re.compile(
    "|".join(
        (
            r"Connection (reset|closed) by peer",
            r"Broken pipe",
            r"Connection refused",
            r"ProcessGroup\w*.*(timeout|Timed out)",
            r"NCCL .*(error|remote)",
            r"Socket Timeout",
            r"failed to recv",
        )
    ),
    re.I,
)

NON_FINITE_FIX = (
    'Lower training.lr, keep training.clipGrad at 3, or try dora.sinkhorn.variant "log-domain"; the last good '
    "checkpoint is kept and can be resumed."
)


def explain(error: BaseException) -> tuple[str, str | None]:
    """(message, fix) of an exception, using the fixes the engine's own errors carry."""
    name = type(error).__name__
    message = str(error) or name
    if isinstance(error, TrainingError):
        return message, error.fix
    if name == "NonFiniteLossError":
        return message, NON_FINITE_FIX
    if name == "DoraOutOfMemoryError":
        return message, None  # the message already ends with the fix
    if isinstance(error, MemoryError):
        return (
            "out of host memory",
            "lower training.batchClips or data.localCrops, or use fewer loader workers (--workers)",
        )
    if "fix:" in message or "Fix:" in message:
        return message, None
    if isinstance(error, RuntimeError) and LOST_PEER.search(message):
        return (
            f"lost contact with another process of the run ({name}: {message})",
            "another process died or was killed: its log (logs/rank-N.log) and the launcher's output say which; "
            "resume from the last checkpoint",
        )
    return f"{name}: {message}", None


def _read_runtime(run_dir: Path) -> dict[str, Any]:
    try:
        runtime = json.loads((run_dir / "config.json").read_text("utf-8")).get("runtime")
    except (OSError, ValueError, AttributeError):
        return {}  # reported with its fix by the trainer's config check
    return runtime if isinstance(runtime, dict) else {}


def open_process_group(opts: TrainOptions, dist: DistInfo) -> tuple[SingleProcess, Any]:
    """This rank's device (a rank's own GPU) and the process group of the run; one process opens nothing."""
    if not dist.distributed:
        return SingleProcess(), None
    runtime = _read_runtime(opts.run_dir)
    device = rank_device(resolve_device(opts.device or runtime.get("device") or "auto"), dist)
    return open_collective(dist, device), device


def _everyone_ok(collective: SingleProcess, problem: BaseException | None, what: str) -> None:
    """All ranks learn whether each of them got through `what`; a rank's failure ends every rank with its message."""
    problems = collective.gather_problems(explain(problem)[0] if problem is not None else None)
    if problem is not None:
        raise problem
    if problems:
        rank, message = problems[0]
        raise TrainingError(f"process {rank} of the run failed {what}: {message}", f"see logs/rank-{rank}.log")


def run_session(
    opts: TrainOptions, channel: Channel, stop: StopFlag, dist: DistInfo, versions: dict[str, str]
) -> TrainResult:
    lock = RunLock(opts.run_dir, command="train", engine="pytorch") if dist.is_main else None
    collective: SingleProcess = SingleProcess()
    try:
        if not (opts.run_dir / "config.json").is_file():
            raise FileNotFoundError(
                f"{opts.run_dir}: not a run folder (no config.json); fix: create the run with "
                "`node dist/cli.js train <config.dora.json> --engine pytorch`, or pass the folder of an existing run"
            )
        collective, device = open_process_group(opts, dist)
        locked: BaseException | None = None
        try:
            if lock is not None:
                lock.acquire()
        except (RunLockedError, OSError) as e:
            locked = e
        _everyone_ok(collective, locked, "to lock the run folder")
    except Exception as e:  # noqa: BLE001 — before the lock nothing may be written into the folder
        # Not a run folder, it belongs to another trainer, or the processes cannot meet: write nothing into it.
        collective.close()
        message = str(e) if isinstance(e, (RunLockedError, OSError, TrainingError)) else explain(e)[0]
        fix = {"fix": e.fix} if isinstance(e, (RunLockedError, TrainingError)) and e.fix else {}
        channel.send({"type": "error", "message": message, "fatal": True, **fix})
        channel.send({"type": "finished", "reason": "failed", "step": 0, "message": message})
        return TrainResult("failed", 0, message)
    trainer = Trainer(opts, channel, stop, dist, collective, device)
    try:
        if lock is not None and lock.took_over:
            trainer.rec.log(lock.took_over)
        problem: BaseException | None = None
        try:
            trainer.setup(versions)
        except Exception as e:  # noqa: BLE001 — reported below, by every rank
            problem = e
        _everyone_ok(collective, problem, "to start")
        trainer.connect()
        return trainer.train()
    except BaseException as error:  # noqa: BLE001 — every failure is reported, then the process exits non-zero
        if isinstance(error, KeyboardInterrupt):
            error = TrainingError(
                "interrupted twice: stopped without a final checkpoint", "resume with --resume latest"
            )
        return _failed(trainer, channel, error)
    finally:
        trainer.rec.stop_heartbeat()
        source = getattr(trainer, "source", None)
        if source is not None:
            source.close()
        if lock is not None:
            lock.release()
        engine = getattr(trainer, "engine", None)
        if engine is not None:
            engine.disconnect()  # DDP's Reducer must not outlive the process group (a deadlock at exit otherwise)
        collective.close()


def _failed(trainer: Trainer, channel: Channel, error: BaseException) -> TrainResult:
    message, fix = explain(error)
    step = trainer.iteration
    extra: dict[str, Any] = {"fix": fix} if fix else {}
    for action in (
        lambda: channel.send({"type": "error", "message": message, "fatal": True, **extra}),
        lambda: trainer.rec.event("failed", reason=message, **extra),
        lambda: trainer.rec.log("failed: " + "".join(traceback.format_exception(error)).rstrip()),
        lambda: trainer.rec.write_info(statusHint="failed") if trainer.rec.info else None,
        lambda: channel.send({"type": "finished", "reason": "failed", "step": step, "message": message}),
    ):
        try:
            action()
        except Exception:  # noqa: BLE001 — reporting must not hide the original failure
            pass
    return TrainResult("failed", step, f"{message}\nFix: {fix}" if fix else message)
