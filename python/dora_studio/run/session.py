"""One training session of a run folder: the run lock around the Trainer, and every failure turned into the same
records the TF.js engine writes (`error` + `finished: failed` messages, a `failed` event with its fix, a log line with
the traceback), so a failed PyTorch run looks like any other failed run."""

from __future__ import annotations

import traceback
from typing import Any

from ..engine.channel import Channel, StopFlag
from .dist_env import DistInfo
from .lock import RunLock, RunLockedError
from .trainer import Trainer, TrainingError, TrainOptions, TrainResult

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
    return f"{name}: {message}", None


def run_session(
    opts: TrainOptions, channel: Channel, stop: StopFlag, dist: DistInfo, versions: dict[str, str]
) -> TrainResult:
    lock = RunLock(opts.run_dir, command="train", engine="pytorch") if dist.is_main else None
    try:
        if not (opts.run_dir / "config.json").is_file():
            raise FileNotFoundError(
                f"{opts.run_dir}: not a run folder (no config.json); fix: create the run with "
                "`node dist/cli.js train <config.dora.json> --engine pytorch`, or pass the folder of an existing run"
            )
        if lock is not None:
            lock.acquire()
    except (RunLockedError, OSError) as e:
        # Not a run folder, or it belongs to another trainer (or cannot be locked): write nothing into it.
        fix = {"fix": e.fix} if isinstance(e, RunLockedError) else {}
        channel.send({"type": "error", "message": str(e), "fatal": True, **fix})
        channel.send({"type": "finished", "reason": "failed", "step": 0, "message": str(e)})
        return TrainResult("failed", 0, str(e))
    trainer = Trainer(opts, channel, stop, dist)
    try:
        if lock is not None and lock.took_over:
            trainer.rec.log(lock.took_over)
        trainer.setup(versions)
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
