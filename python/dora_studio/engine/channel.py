"""How the engine talks to its host. Spawned by the host (`DORA_MESSAGE_FD=3`), engine messages are JSON lines on that
fd and host messages JSON lines on stdin (read by a thread: `stop` sets the stop flag; end of input means the host is
gone, which also stops the run cleanly). Run by hand (no message fd), the engine prints a human progress line on
stderr instead and does not read stdin; Ctrl-C / SIGTERM stop it the same way (signals are wired by the command)."""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
from typing import Any, Callable, Iterable, Iterator, TextIO

from ..run.atomic import json_safe, to_json
from .protocol import is_engine_message, is_host_message


class StopFlag:
    """Set once a stop was asked for (host `stop`, SIGINT, SIGTERM, host gone); the loop checks it between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""
        self.checkpoint = True

    def set(self, reason: str, checkpoint: bool = True) -> None:
        if not self._event.is_set():
            self.reason = reason
            self.checkpoint = checkpoint
        self._event.set()

    def __bool__(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)


class Channel:
    """Engine → host messages (fd 3) or, without a host, a human-readable progress line."""

    def __init__(self, fd: int | None = None, human: TextIO | None = None) -> None:
        self.fd = fd
        self.human = human
        self._lock = threading.Lock()
        self._last_line = 0.0
        self._last_loss: float | None = None
        self._last_phase = ""
        self.broken = False

    @classmethod
    def from_env(cls) -> "Channel":
        raw = os.environ.get("DORA_MESSAGE_FD")
        if raw:
            fd = int(raw)
            os.fstat(fd)  # fails clearly if the host did not open it
            os.set_inheritable(fd, False)  # DataLoader workers and other children must not hold it
            return cls(fd=fd)
        return cls(human=sys.stderr)

    @property
    def connected(self) -> bool:
        return self.fd is not None

    def send(self, message: dict[str, Any]) -> None:
        message = json_safe(message)
        if not is_engine_message(message):
            raise ValueError(f"engine: refusing to send an invalid {message.get('type')!r} message: {message}")
        if self.fd is None:
            self._print(message)
            return
        data = (to_json(message) + "\n").encode("utf-8")
        with self._lock:
            if self.broken:
                return
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self.fd, view) :]
            except (BrokenPipeError, OSError):
                self.broken = True  # the host went away; the run folder stays the durable record

    def _print(self, m: dict[str, Any]) -> None:
        out = self.human
        if out is None:
            return
        kind = m["type"]
        if kind == "metrics":
            self._last_loss = m["record"]["loss"]
        elif kind == "progress" and m["phase"] not in ("training", "frame-cache"):
            if m["phase"] != self._last_phase and m["phase"] != "checkpoint":
                out.write(f"{m['phase']}…" + (f" {m['message']}" if m.get("message") else "") + "\n")
            self._last_phase = m["phase"]
        elif kind == "progress":
            self._last_phase = m["phase"]
            now = time.monotonic()
            final = m["total"] is not None and m["done"] >= m["total"]
            if now - self._last_line < 2.0 and not final and m["done"] != 1:
                return
            self._last_line = now
            out.write(_progress_line(m, self._last_loss) + "\n")
        elif kind in ("warning", "error"):
            out.write(f"{kind}: {m['message']}" + (f"\n  fix: {m['fix']}" if m.get("fix") else "") + "\n")
        elif kind == "finished":
            out.write(f"{m['reason']} at step {m['step']}" + (f": {m['message']}" if m.get("message") else "") + "\n")
        elif kind == "checkpoint-saved":
            out.write(f"checkpoint {m['path']}\n")
        out.flush()


def _progress_line(m: dict[str, Any], loss: float | None) -> str:
    total = m["total"]
    head = f"{m['phase']} {m['done']}" + (f"/{total} ({100 * m['done'] / max(total, 1):.1f}%)" if total else "")
    parts = [head]
    if m.get("rate"):
        parts.append(f"{1 / m['rate']:.2f} s/step" if m["phase"] == "training" else f"{m['rate']:.1f}/s")
    if loss is not None and m["phase"] == "training":
        parts.append(f"loss {loss:.4f}")
    if m.get("eta") is not None:
        parts.append(f"eta {_clock(m['eta'])}")
    if m.get("message"):
        parts.append(m["message"])
    return "  ".join(parts)


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{(s % 3600) // 60:02d}:{s % 60:02d}"


def fd_lines(fd: int) -> Iterator[bytes]:
    """Lines read with os.read: no Python file object, so no buffer lock that a fork (DataLoader workers; their
    multiprocessing bootstrap closes sys.stdin) could inherit in the locked state and deadlock on."""
    pending = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from lines
    if pending:
        yield pending


class HostReader:
    """Reads host messages from stdin in a thread: `stop` → the stop flag; `start` messages → `starts` queue."""

    def __init__(self, stop: StopFlag, warn: Callable[[str], None], lines: Iterable[bytes] | None = None) -> None:
        self.stop = stop
        self.warn = warn
        self.starts: "queue.Queue[dict[str, Any] | None]" = queue.Queue()
        self.lines = lines if lines is not None else fd_lines(0)
        self.thread = threading.Thread(target=self._run, name="dora-host-reader", daemon=True)

    def start(self) -> "HostReader":
        self.thread.start()
        return self

    def _run(self) -> None:
        for raw in self.lines:
            line = raw.strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if not is_host_message(message):
                self.warn(f"engine: ignored a malformed message from the host: {line[:200]!r}")
            elif message["type"] == "stop":
                self.stop.set("stop requested", checkpoint=message.get("checkpoint", True) is not False)
            elif message["type"] == "start":
                self.starts.put(message)
            else:
                self.warn(f"engine: the {message['type']!r} request is not handled by this command; ignored")
        self.stop.set("the host closed the message channel")
        self.starts.put(None)
