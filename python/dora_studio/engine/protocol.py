"""Messages of `src/core/messages.ts`, engine side. Engine → host: `ready` (first), `progress`, `metrics`,
`snapshot-ready`, `checkpoint-saved`, `warning`, `error`, `finished`, `eval-result`; host → engine: `start`, `stop`,
`evaluate`. The checks mirror the TypeScript guards, so the engine never sends what the host would drop."""

from __future__ import annotations

import math
from typing import Any

#: Must equal PROTOCOL_VERSION of src/core/messages.ts (a test reads that file and compares).
PROTOCOL_VERSION = 1

PHASES = ("starting", "frame-cache", "model-init", "training", "checkpoint", "snapshot", "evaluation")
FINISH_REASONS = ("completed", "stopped", "failed")


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _step(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _opt(check, v: Any) -> bool:  # type: ignore[no-untyped-def]
    return v is None or check(v)


def _str(v: Any) -> bool:
    return isinstance(v, str)


_METRIC_NUMBERS = ("epoch", "loss", "lr", "wd", "momentum", "teacherTemp", "imgPerSec", "secPerStep")


def is_metrics_record(r: Any) -> bool:
    return (
        isinstance(r, dict)
        and _step(r.get("step"))
        and _str(r.get("time"))
        and all(_num(r.get(k)) for k in _METRIC_NUMBERS)
    )


_ENGINE_CHECKS = {
    "ready": lambda m: _num(m.get("protocol")) and _num(m.get("pid")) and isinstance(m.get("versions"), dict),
    "progress": lambda m: m.get("phase") in PHASES
    and _num(m.get("done"))
    and (m.get("total") is None or _num(m.get("total")))
    and _opt(_num, m.get("rate"))
    and _opt(_num, m.get("eta"))
    and _opt(_str, m.get("message")),
    "metrics": lambda m: is_metrics_record(m.get("record")),
    "snapshot-ready": lambda m: _step(m.get("step")) and _str(m.get("path")),
    "checkpoint-saved": lambda m: _step(m.get("step")) and _str(m.get("path")),
    "warning": lambda m: _str(m.get("message")) and _opt(_str, m.get("fix")),
    "error": lambda m: _str(m.get("message")) and _opt(_str, m.get("fix")) and isinstance(m.get("fatal"), bool),
    "finished": lambda m: m.get("reason") in FINISH_REASONS and _step(m.get("step")) and _opt(_str, m.get("message")),
    "eval-result": lambda m: _str(m.get("suite"))
    and _str(m.get("dataset"))
    and isinstance(m.get("cached"), bool)
    and _num(m.get("seconds"))
    and _str(m.get("evalFile")),
}

_HOST_CHECKS = {
    "start": lambda m: _str(m.get("configPath"))
    and _str(m.get("runDir"))
    and _opt(_str, m.get("resumeCheckpoint"))
    and _opt(_step, m.get("maxSteps"))
    and _opt(_step, m.get("snapshotEvery"))
    and _opt(_str, m.get("cacheRoot")),
    "stop": lambda m: _opt(lambda v: isinstance(v, bool), m.get("checkpoint")),
    "evaluate": lambda m: _str(m.get("checkpoint")) and isinstance(m.get("jobs"), list),
}


def is_engine_message(m: Any) -> bool:
    return isinstance(m, dict) and m.get("type") in _ENGINE_CHECKS and bool(_ENGINE_CHECKS[m["type"]](m))


def is_host_message(m: Any) -> bool:
    return isinstance(m, dict) and m.get("type") in _HOST_CHECKS and bool(_HOST_CHECKS[m["type"]](m))
