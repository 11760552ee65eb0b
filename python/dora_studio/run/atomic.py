"""Atomic file writes and JSONL appends with the rules of `src/core/atomicWrite.ts` and `src/core/jsonl.ts`:
a temp file `.<name>.<pid>.<rand>.tmp` in the same folder, fsync, rename (readers see the old or the new file, never a
mix; a failed write removes its temp file and leaves the previous file as it was); one `write` per JSONL record with
O_APPEND; a torn last line left by a crash is cut before the next append."""

from __future__ import annotations

import json
import math
import os
import secrets
from typing import Any


def _temp_path(path: str) -> str:
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _sync_dir(folder: str) -> None:
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # durability of the folder entry is a bonus; atomicity does not depend on it
    finally:
        os.close(fd)


def write_file_atomic(path: str | os.PathLike, data: bytes | str, fsync: bool = True) -> None:
    """Replaces `path` with `data` atomically. The folder must exist."""
    target = os.fspath(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    temp = _temp_path(target)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(temp, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    if fsync:
        _sync_dir(os.path.dirname(target))


def json_safe(value: Any) -> Any:
    """JSON has no NaN/Infinity: they become null (a diverged loss fails `isMetricsRecord`, as the format says)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def to_json(value: Any, indent: int | None = None) -> str:
    """JSON.stringify's layout: compact, or indented with `indent` spaces."""
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(json_safe(value), indent=indent, ensure_ascii=False, allow_nan=False, separators=separators)


def write_json_atomic(path: str | os.PathLike, value: Any) -> None:
    """`writeJsonAtomic`: two-space indented JSON and a final newline."""
    write_file_atomic(path, to_json(value, indent=2) + "\n")


def append_json_line(path: str | os.PathLike, record: Any) -> None:
    """One record, one line, one O_APPEND write: concurrent appenders never interleave inside a line."""
    line = (to_json(record) + "\n").encode("utf-8")
    fd = os.open(os.fspath(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(f"{path}: short append ({written} of {len(line)} bytes)")
    finally:
        os.close(fd)


def repair_jsonl_tail(path: str | os.PathLike) -> int:
    """Cuts a torn last line (no final newline) left by a crash; returns the bytes removed."""
    try:
        with open(path, "rb") as f:
            content = f.read()
    except FileNotFoundError:
        return 0
    if not content or content.endswith(b"\n"):
        return 0
    keep = content.rfind(b"\n") + 1
    os.truncate(path, keep)
    return len(content) - keep
