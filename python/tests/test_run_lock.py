"""The run lock (BRIEF contract 5): exclusive, records the owner, stale locks are taken over, live ones refuse."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from dora_studio.run.lock import RunLock, RunLockedError, iso_now, judge, process_start


def test_lock_record_and_release(tmp_path):
    lock = RunLock(tmp_path, command="train")
    lock.acquire()
    record = json.loads((tmp_path / "run.lock").read_text())
    assert record["pid"] == os.getpid() and record["engine"] == "pytorch" and record["command"] == "train"
    assert record["hostname"] == socket.gethostname() and record["formatVersion"] == 1
    assert record["processStart"] == process_start(os.getpid()) and record["processStart"].isdigit()
    with pytest.raises(RunLockedError, match=f"is being trained by pid {os.getpid()} on host"):
        RunLock(tmp_path).acquire()
    lock.release()
    assert not (tmp_path / "run.lock").exists()


def _write(tmp_path, **fields):
    record = {
        "formatVersion": 1,
        "pid": os.getpid(),
        "processStart": process_start(os.getpid()),
        "hostname": socket.gethostname(),
        "engine": "tfjs",
        "command": "train",
        "since": iso_now(),
        **fields,
    }
    (tmp_path / "run.lock").write_text(json.dumps(record))
    return record


def test_stale_locks_are_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _write(tmp_path, pid=dead.pid)
    lock = RunLock(tmp_path)
    lock.acquire()
    assert "is gone" in lock.took_over and json.loads((tmp_path / "run.lock").read_text())["pid"] == os.getpid()
    lock.release()
    _write(tmp_path, processStart="1")  # our pid, but another process start: a reused pid
    lock = RunLock(tmp_path)
    lock.acquire()
    assert "another process" in lock.took_over
    lock.release()


def test_other_hosts_count_by_heartbeat(tmp_path):
    record = _write(tmp_path, hostname="elsewhere", pid=1)
    (tmp_path / "run.json").write_text(json.dumps({"heartbeat": iso_now()}))
    assert not judge(record, tmp_path, socket.gethostname()).stale
    with pytest.raises(RunLockedError, match="on host elsewhere"):
        RunLock(tmp_path).acquire()
    assert judge(record, tmp_path, socket.gethostname(), now=time.time() + 16 * 60).stale
    (tmp_path / "run.json").write_text("{")
    assert judge(record, tmp_path, socket.gethostname()).stale
