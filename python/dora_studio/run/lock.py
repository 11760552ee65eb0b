"""The run-folder lock `<run>/run.lock` (BRIEF contract 5), the same record and rules as the TF.js engine's
`src/core/node/runLock.ts`, so either engine refuses or takes over the other's lock:

- the file holds `{"formatVersion":1,"pid","processStart","hostname","engine","command","since"}` and is created
  atomically (written to a temp file, then hard-linked into place, which fails if the name exists; O_CREAT|O_EXCL
  where links are unsupported), so no process ever reads a half-written lock;
- same host: stale when the pid is gone or its processStart (field 22 of /proc/<pid>/stat) differs (a reused pid);
  another host: live unless run.json's heartbeat is missing, older than 15 minutes or more than 2 minutes in the
  future (a heartbeat from the future proves nothing); a lock that is not a valid record is stale once it is 2 s old;
- a stale lock is taken over under the guard file `run.lock.takeover` (also exclusive, shared with the TF.js engine),
  judged again under the guard, so two processes that find the same stale lock cannot both take it;
- a live one refuses with "run R is being trained by pid P on host H since T" (R: the run folder's name) and a fix.
"""

from __future__ import annotations

import atexit
import errno
import json
import os
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

LOCK_FORMAT_VERSION = 1
LOCK_FILE = "run.lock"
TAKEOVER_FILE = "run.lock.takeover"
STALE_HEARTBEAT_S = 15 * 60
#: A heartbeat further in the future than this is not believed (clock skew between hosts is smaller).
FUTURE_HEARTBEAT_S = 2 * 60
#: A takeover guard older than this belongs to a process that died inside the few milliseconds of a takeover.
_TAKEOVER_GUARD_STALE_S = 30.0
#: An invalid lock this young may be one being written without hard links: it is waited for, not taken over.
_YOUNG_INVALID_LOCK_S = 2.0
_ATTEMPTS = 200
_NO_LINKS = {"EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"}


def iso_now() -> str:
    """JavaScript's `new Date().toISOString()`: UTC, milliseconds, `Z`."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def process_start(pid: int) -> str | None:
    """Field 22 (starttime, clock ticks since boot) of /proc/<pid>/stat as a decimal string; None off Linux or if gone."""
    if not isinstance(pid, int) or pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 1 :].split()  # the name (field 2) may hold spaces and parentheses
    start = fields[22 - 3] if len(fields) > 22 - 3 else None  # fields[0] is field 3 (state)
    return start if start is not None and start.isdigit() else None


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (0 and negatives address process groups: never alive)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_lock_record(value: Any) -> bool:
    """The record of contract 5, field by field (as `isRunLockRecord` in runLock.ts)."""
    if not isinstance(value, dict):
        return False
    pid, start = value.get("pid"), value.get("processStart")
    return (
        value.get("formatVersion") == LOCK_FORMAT_VERSION
        and isinstance(pid, int)
        and not isinstance(pid, bool)
        and pid > 0
        and (start is None or (isinstance(start, str) and start.isdigit()))
        and isinstance(value.get("hostname"), str)
        and value.get("engine") in ("tfjs", "pytorch")
        and isinstance(value.get("command"), str)
        and isinstance(value.get("since"), str)
    )


class RunLockedError(RuntimeError):
    """Another live trainer holds the run: the message names it (contract 5), `fix` says what to do."""

    def __init__(self, run_dir: Path, lock: dict[str, Any]) -> None:
        pid, host = lock["pid"], lock["hostname"]
        super().__init__(f"run {_run_name(run_dir)} is being trained by pid {pid} on host {host} since {lock['since']}")
        self.run_dir = run_dir
        self.lock = lock
        self.fix = (
            "Wait for it to finish, or stop it (DoRA: Stop Run, or Ctrl-C where it was started). "
            f"If pid {pid} on {host} is not a DoRA trainer any more, delete {run_dir / LOCK_FILE}."
        )


def _run_name(run_dir: Path) -> str:
    return Path(os.path.abspath(run_dir)).name


@dataclass
class LockVerdict:
    stale: bool
    why: str


def judge(lock: dict[str, Any], run_dir: Path, hostname: str, now: float | None = None) -> LockVerdict:
    """Whether a lock record belongs to a live trainer (contract 5; `judgeRunLock` in runLock.ts)."""
    if not is_lock_record(lock):
        return LockVerdict(True, f"{LOCK_FILE} is not a valid lock record")
    pid, host = lock["pid"], lock["hostname"]
    if host == hostname:
        if not pid_alive(pid):
            return LockVerdict(True, f"its owner, pid {pid}, is gone")
        recorded, actual = lock["processStart"], process_start(pid)
        if recorded is not None and actual is not None and recorded != actual:
            return LockVerdict(True, f"pid {pid} is now another process (start time {actual}, the lock's {recorded})")
        return LockVerdict(False, f"pid {pid} is alive")
    heartbeat = _heartbeat(run_dir)
    if heartbeat is None:
        return LockVerdict(True, f"it is held on host {host} and run.json has no valid heartbeat")
    age = (time.time() if now is None else now) - heartbeat[1]
    if age < -FUTURE_HEARTBEAT_S:
        return LockVerdict(True, f"run.json's heartbeat {heartbeat[0]} is in the future")
    if age > STALE_HEARTBEAT_S:
        return LockVerdict(True, f"no heartbeat from host {host} for {round(age / 60)} min")
    return LockVerdict(False, f"host {host} wrote a heartbeat {max(0, round(age))} s ago")


def _heartbeat(run_dir: Path) -> tuple[str, float] | None:
    """run.json's heartbeat (text, POSIX time), or None when there is no valid one."""
    try:
        text = json.loads((run_dir / "run.json").read_text("utf-8"))["heartbeat"]
        beat = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=timezone.utc)
    return str(text), beat.timestamp()


@dataclass
class LockState:
    #: "free" (no lock file), "live" or "stale".
    state: str
    #: The record, when the file holds a valid one.
    lock: dict[str, Any] | None = None
    why: str = ""


def read_lock_state(run_dir: Path, hostname: str | None = None) -> LockState:
    """The lock of a run folder and whether it is live (`readRunLockState` in runLock.ts)."""
    try:
        raw = (run_dir / LOCK_FILE).read_bytes()
    except FileNotFoundError:
        return LockState("free")
    lock = _parse(raw)
    verdict = judge(lock or {}, run_dir, hostname or socket.gethostname())
    record = lock if is_lock_record(lock) else None
    return LockState("stale" if verdict.stale else "live", record, verdict.why)


def _create_exclusive(path: Path, text: str) -> bool:
    """Creates `path` holding `text` unless it exists, atomically (temp file hard-linked into place)."""
    temp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)
        return True
    except FileExistsError:
        return False
    except OSError as e:
        if _errno_name(e) not in _NO_LINKS:
            raise
        return _create_with_open(path, text)
    finally:
        temp.unlink(missing_ok=True)


def _create_with_open(path: Path, text: str) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def _errno_name(error: OSError) -> str:
    return errno.errorcode.get(error.errno or 0, "")


def _age(path: Path) -> float | None:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return None


class RunLock:
    """Holds `<run>/run.lock` from `acquire()` to `release()` (also released when the process exits normally)."""

    def __init__(self, run_dir: str | os.PathLike, command: str = "train", engine: str = "pytorch") -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
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
        #: Set by acquire() when it took over a stale lock: whose it was and why it was stale (for the log).
        self.took_over: str | None = None

    def acquire(self) -> None:
        """Takes the lock, taking over a stale one; raises RunLockedError when a live trainer holds it."""
        text = json.dumps(self.record) + "\n"
        guard = self.run_dir / TAKEOVER_FILE
        host = self.record["hostname"]
        for _ in range(_ATTEMPTS):
            if _create_exclusive(self.path, text):
                return self._hold()
            found = read_lock_state(self.run_dir, host)
            if found.state == "live":
                raise RunLockedError(self.run_dir, found.lock or {})
            if found.state == "free":
                continue  # released meanwhile
            if found.lock is None and (_age(self.path) or 0.0) < _YOUNG_INVALID_LOCK_S:
                time.sleep(0.05)  # maybe another process writing its lock without hard links
                continue
            if not _create_exclusive(guard, str(os.getpid())):
                if (_age(guard) or 0.0) > _TAKEOVER_GUARD_STALE_S:
                    guard.unlink(missing_ok=True)  # left by a process that died during a takeover
                time.sleep(0.02)
                continue
            try:
                if self._take_over(host):
                    return self._hold()
            finally:
                guard.unlink(missing_ok=True)
        # An OSError like the other failures to lock: the session reports it without writing into the folder.
        raise TimeoutError(f"{self.path}: could not take the run lock (it keeps changing hands); fix: try again")

    def _take_over(self, host: str) -> bool:
        """Under the guard: judge again (another process may have taken the folder meanwhile), remove a stale lock."""
        again = read_lock_state(self.run_dir, host)
        if again.state == "live":
            raise RunLockedError(self.run_dir, again.lock or {})
        if again.state == "stale":
            whose = json.dumps(again.lock) if again.lock is not None else "an invalid record"
            self.path.unlink(missing_ok=True)
            self.took_over = f"took over a stale run lock ({again.why}): {whose}"
        return _create_exclusive(self.path, json.dumps(self.record) + "\n")

    def _hold(self) -> None:
        self.held = True
        atexit.register(self._release_at_exit)

    def _release_at_exit(self) -> None:
        if os.getpid() == self.record["pid"]:  # never from a forked child (a DataLoader worker)
            self.release()

    def release(self) -> None:
        """Removes the lock if it is still ours (same pid, start time and `since`)."""
        if not self.held:
            return
        self.held = False
        atexit.unregister(self._release_at_exit)
        try:
            lock = _parse(self.path.read_bytes())
        except FileNotFoundError:
            return
        if lock is not None and all(lock.get(k) == self.record[k] for k in ("pid", "processStart", "since")):
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
