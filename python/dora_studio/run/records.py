"""The live records of a run folder (docs/run-directory.md): run.json with its heartbeat, events.jsonl, metrics.jsonl
and the free-text logs. Only rank 0 writes the shared files; every rank writes its own log (`logs/rank-N.log` when
there is more than one process; `trainer.log` is rank 0's log in every case)."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

from .atomic import append_json_line, repair_jsonl_tail, to_json, write_file_atomic, write_json_atomic
from .lock import iso_now, process_start
from .paths import run_paths

RUN_DIR_FORMAT_VERSION = 1
HEARTBEAT_INTERVAL_S = 10.0
METRICS_REQUIRED = ("epoch", "loss", "lr", "wd", "momentum", "teacherTemp", "imgPerSec", "secPerStep")


class RunRecorder:
    """Writes run.json / events / metrics / logs for one process of a run."""

    def __init__(self, run_dir: str | os.PathLike, rank: int = 0, world_size: int = 1) -> None:
        self.paths = run_paths(run_dir)
        self.rank = rank
        self.world_size = world_size
        self.is_writer = rank == 0
        self.last_step = 0
        self.info: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if world_size > 1:
            self.paths.logs.mkdir(parents=True, exist_ok=True)

    # ---- logs -----------------------------------------------------------------------------------
    def log(self, line: str) -> None:
        text = f"{iso_now()} {line}\n".encode("utf-8")
        targets: list[Path] = []
        if self.is_writer:
            targets.append(self.paths.log)
        if self.world_size > 1:
            targets.append(self.paths.logs / f"rank-{self.rank}.log")
        for target in targets:
            fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, text)
            finally:
                os.close(fd)

    # ---- run.json -------------------------------------------------------------------------------
    def start_info(self, config: dict[str, Any], versions: dict[str, str], extra: dict[str, Any]) -> None:
        """The first run.json of this process (keeps `created` of an earlier process on resume)."""
        created = iso_now()
        try:
            created = json.loads(self.paths.info.read_text("utf-8")).get("created") or created
        except (OSError, ValueError):
            pass
        self.info = {
            "formatVersion": RUN_DIR_FORMAT_VERSION,
            "id": self.paths.dir.name,
            "name": config.get("name", self.paths.dir.name),
            "created": created,
            "configFile": config.get("configFile", str(self.paths.config)),
            "preset": config.get("preset"),
            "statusHint": "starting",
            "totalSteps": None,
            "stepsPerEpoch": None,
            "backend": None,
            "pid": os.getpid(),
            "processStart": process_start(os.getpid()),
            "hostname": socket.gethostname(),
            "heartbeat": iso_now(),
            "versions": versions,
            **extra,
        }
        self.write_info()

    def write_info(self, **changes: Any) -> None:
        if not self.is_writer:
            return
        with self._lock:
            self.info.update(changes)
            self.info["heartbeat"] = iso_now()
            write_json_atomic(self.paths.info, self.info)

    def start_heartbeat(self, interval: float = HEARTBEAT_INTERVAL_S) -> None:
        """Rewrites run.json's heartbeat every `interval` seconds, also while a long step runs."""
        if not self.is_writer or self._thread is not None:
            return

        def beat() -> None:
            while not self._stop.wait(interval):
                try:
                    self.write_info()
                except OSError:
                    pass  # a full disk must not kill the trainer from a side thread; the next write reports it

        self._thread = threading.Thread(target=beat, name="dora-heartbeat", daemon=True)
        self._thread.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # ---- events and metrics -------------------------------------------------------------------------
    def repair_tails(self) -> None:
        if self.is_writer:
            repair_jsonl_tail(self.paths.events)
            repair_jsonl_tail(self.paths.metrics)

    def event(self, type_: str, **fields: Any) -> None:
        if self.is_writer:
            append_json_line(self.paths.events, {"type": type_, **fields, "time": iso_now(), "step": self.last_step})

    def metrics(self, record: dict[str, Any]) -> None:
        if self.is_writer:
            append_json_line(self.paths.metrics, record)

    def drop_metrics_after(self, step: int) -> None:
        """Keeps only records of steps <= `step` (atomic rewrite), so a resumed run never logs a step twice."""
        if not self.is_writer:
            return
        try:
            text = self.paths.metrics.read_text("utf-8")
        except FileNotFoundError:
            return
        keep = []
        for line in text.split("\n"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("step"), int) and record["step"] <= step:
                keep.append(to_json(record))
        write_file_atomic(self.paths.metrics, "".join(k + "\n" for k in keep))
