"""The run-folder lock `<run>/run.lock` (BRIEF contract 5, shared with the TF.js engine): created with
O_CREAT|O_EXCL and holding `{"formatVersion":1,"pid","processStart","hostname","engine","command","since"}`.

A lock is stale when its host is this host and (its pid is gone or that pid's processStart differs: a reused pid),
or when it comes from another host and run.json's heartbeat is older than 15 minutes. A stale lock is taken over (the
caller logs it); a live one refuses with "run R is being trained by pid P on host H since T".
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

LOCK_FORMAT_VERSION = 1
STALE_HEARTBEAT_S = 15 * 60
#: An unreadable lock younger than this may be one being written right now.
_FRESH_UNREADABLE_S = 5.0


def iso_now() -> str:
    """JavaScript's `new Date().toISOString()`: UTC, milliseconds, `Z`."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def process_start(pid: int) -> str | None:
    """Field 22 (starttime, clock ticks since boot) of /proc/<pid>/stat as a decimal string; None off Linux or if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # the name (field 2) may hold spaces and parentheses
    return fields[19] if len(fields) > 19 else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLockedError(RuntimeError):
    """Another live trainer holds the run; the message names it."""


@dataclass
class LockVerdict:
    stale: bool
    why: str


def judge(lock: dict[str, Any], run_dir: Path, hostname: str, now: float | None = None) -> LockVerdict:
    """Whether a lock record belongs to a live trainer (contract 5)."""
    pid = lock.get("pid")
    host = lock.get("hostname")
    if not isinstance(pid, int) or not isinstance(host, str):
        return LockVerdict(True, "the lock file is malformed")
    if host == hostname:
        if not pid_alive(pid):
            return LockVerdict(True, f"pid {pid} is gone")
        recorded, actual = lock.get("processStart"), process_start(pid)
        if recorded is not None and actual is not None and recorded != actual:
            return LockVerdict(True, f"pid {pid} now belongs to another process (start {actual} != {recorded})")
        return LockVerdict(False, "")
    age = _heartbeat_age(run_dir, time.time() if now is None else now)
    if age is None or age > STALE_HEARTBEAT_S:
        what = "no readable heartbeat" if age is None else f"no heartbeat for {round(age)} s"
        return LockVerdict(True, f"the trainer on {host} left {what}")
    return LockVerdict(False, "")


def _heartbeat_age(run_dir: Path, now: float) -> float | None:
    try:
        info = json.loads((run_dir / "run.json").read_text("utf-8"))
        beat = datetime.fromisoformat(str(info["heartbeat"]).replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return now - beat.timestamp()


class RunLock:
    """Holds `<run>/run.lock` from `acquire()` to `release()`."""

    def __init__(self, run_dir: str | os.PathLike, command: str = "train", engine: str = "pytorch") -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / "run.lock"
        self.record = {
            "formatVersion": LOCK_FORMAT_VERSION,
            "pid": os.getpid(),
            "processStart": process_start(os.getpid()),
            "hostname": socket.gethostname(),
            "engine": engine,
            "command": command,
            "since": iso_now(),
        }
        self.held = False
        #: Set by acquire() when it took over a stale lock: what it found and why it was stale (for the log).
        self.took_over: str | None = None

    def acquire(self) -> None:
        for _ in range(20):
            if self._create():
                self.held = True
                return
            raw = self._read()
            if raw is None:
                continue  # vanished between our create and read: try again
            lock = _parse(raw)
            if lock is None and time.time() - self._mtime() < _FRESH_UNREADABLE_S:
                time.sleep(0.1)  # another process is writing its lock right now
                continue
            verdict = judge(lock or {}, self.run_dir, self.record["hostname"])
            if not verdict.stale:
                raise RunLockedError(
                    f"run {self.run_dir} is being trained by pid {lock['pid']} on host {lock['hostname']} "
                    f"since {lock.get('since')} (engine {lock.get('engine')}, command {lock.get('command')}); "
                    "fix: stop that trainer first, or wait for it to finish"
                )
            if self._take_over(raw):
                self.took_over = f"took over a stale run lock ({verdict.why}): {raw.decode('utf-8', 'replace').strip()}"
        raise RunLockedError(f"{self.path}: could not take the run lock; fix: remove the file if no trainer is running")

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, (json.dumps(self.record) + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def _mtime(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def _take_over(self, judged: bytes) -> bool:
        """Moves the stale lock aside; if what we moved is not what we judged (a new owner raced us), put it back."""
        aside = self.run_dir / f".run.lock.{os.getpid()}.stale"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return False
        if aside.read_bytes() != judged:
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
        aside.unlink(missing_ok=True)
        return True

    def release(self) -> None:
        """Removes the lock if it is still ours."""
        if not self.held:
            return
        self.held = False
        lock = _parse(self._read() or b"")
        if lock and lock.get("pid") == self.record["pid"] and lock.get("hostname") == self.record["hostname"]:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None
