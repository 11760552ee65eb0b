"""The run lock (BRIEF contract 5): exclusive, records the owner, stale locks are taken over, live ones refuse."""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dora_studio.run.lock import RunLock, RunLockedError, iso_now, judge, process_start, read_lock_state
from pyrun_support import REPO, engine_env, ts_reference


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


# ---- the same lock as the TF.js engine's (src/core/node/runLock.ts) ------------------------------------------------


def _lock_case(root, name, lock=None, heartbeat=None, raw=None):
    run = root / name
    run.mkdir()
    if raw is not None:
        (run / "run.lock").write_text(raw)
    elif lock is not None:
        (run / "run.lock").write_text(json.dumps(lock))
    if heartbeat is not None:
        (run / "run.json").write_text(json.dumps({"heartbeat": heartbeat}))
    return run


def _record(**fields):
    base = {"formatVersion": 1, "pid": 1, "processStart": None, "hostname": socket.gethostname()}
    return {**base, "engine": "tfjs", "command": "train", "since": "2026-12-04T10:00:00.000Z", **fields}


def _iso_at(offset_s):
    moment = datetime.now(timezone.utc) + timedelta(seconds=offset_s)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_both_engines_judge_every_lock_alike(tmp_path):
    """Dead, live and reused pids, invalid records, other hosts with a fresh, old, missing or future heartbeat."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        start = process_start(sleeper.pid)
        assert start is not None and start.isdigit()
        cases = {
            "dead-pid": (_record(pid=dead.pid), None, "stale"),
            "live-pid": (_record(pid=sleeper.pid, processStart=start), None, "live"),
            "reused-pid": (_record(pid=sleeper.pid, processStart=str(int(start) + 1)), None, "stale"),
            "no-start-time": (_record(pid=sleeper.pid, processStart=None), None, "live"),
            "pid-zero": (_record(pid=0), None, "stale"),
            "unknown-engine": (_record(pid=sleeper.pid, processStart=start, engine="jax"), None, "stale"),
            "other-host-fresh": (_record(hostname="gpu-node-7"), _iso_at(-30), "live"),
            "other-host-old": (_record(hostname="gpu-node-7"), _iso_at(-3600), "stale"),
            "other-host-future": (_record(hostname="gpu-node-7"), "2099-01-01T00:00:00.000Z", "stale"),
            "other-host-skew": (_record(hostname="gpu-node-7"), _iso_at(60), "live"),
            "other-host-no-run-json": (_record(hostname="gpu-node-7"), None, "stale"),
        }
        dirs = {name: _lock_case(tmp_path, name, lock, beat) for name, (lock, beat, _) in cases.items()}
        dirs["garbage"] = _lock_case(tmp_path, "garbage", raw="{not json")
        dirs["free"] = _lock_case(tmp_path, "free")
        expected = {name: want for name, (_, _, want) in cases.items()} | {"garbage": "stale", "free": "free"}
        node = ts_reference("lockStates", runDirs=[str(d) for d in dirs.values()])["states"]
        python = [read_lock_state(d).state for d in dirs.values()]
        assert dict(zip(dirs, python)) == expected
        assert dict(zip(dirs, (s["state"] for s in node))) == expected
        assert "in the future" in read_lock_state(dirs["other-host-future"]).why
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_refusal_names_the_run_folder_like_the_tfjs_engine(tmp_path):
    run = tmp_path / "20261204-120000-walk"
    run.mkdir()
    held = RunLock(run)
    held.acquire()
    try:
        with pytest.raises(RunLockedError) as refused:
            RunLock(run).acquire()
        node = ts_reference("acquireLock", runDir=str(run))
    finally:
        held.release()
    since = held.record["since"]
    expected = (
        f"run 20261204-120000-walk is being trained by pid {os.getpid()} on host {socket.gethostname()} since {since}"
    )
    assert str(refused.value) == expected == node["refused"]
    assert refused.value.fix == node["fix"]
    assert str(run / "run.lock") in refused.value.fix


def test_a_future_heartbeat_of_another_host_is_stale_and_taken_over(tmp_path):
    _write(tmp_path, hostname="gpu-node-7", pid=4242)
    (tmp_path / "run.json").write_text(json.dumps({"heartbeat": "2099-01-01T00:00:00.000Z"}))
    lock = RunLock(tmp_path)
    lock.acquire()
    assert "is in the future" in lock.took_over and "gpu-node-7" in lock.took_over
    lock.release()


def test_an_invalid_lock_is_waited_for_while_young_and_taken_over_when_old(tmp_path):
    (tmp_path / "run.lock").write_text("")  # another process between O_EXCL create and write (no hard links)
    owner = {**RunLock(tmp_path).record, "engine": "tfjs"}
    writer = threading.Timer(0.3, lambda: (tmp_path / "run.lock").write_text(json.dumps(owner)))
    writer.start()
    with pytest.raises(RunLockedError, match=f"pid {os.getpid()}"):
        RunLock(tmp_path).acquire()  # it waited, then found the finished record of a live owner
    writer.join()
    (tmp_path / "run.lock").write_text("{not json")
    old = time.time() - 60
    os.utime(tmp_path / "run.lock", (old, old))
    lock = RunLock(tmp_path)
    lock.acquire()
    assert "not a valid lock record" in lock.took_over
    lock.release()


def test_a_takeover_guard_is_respected_unless_its_owner_died(tmp_path):
    _write(tmp_path, pid=2**22 + 3, processStart="5")  # a dead owner: stale
    guard = tmp_path / "run.lock.takeover"
    guard.write_text("4242")
    old = time.time() - 60
    os.utime(guard, (old, old))  # left by a process that died during a takeover
    lock = RunLock(tmp_path)
    lock.acquire()
    assert "is gone" in lock.took_over and not guard.exists()
    lock.release()


def test_release_leaves_a_lock_that_is_no_longer_ours(tmp_path):
    lock = RunLock(tmp_path)
    lock.acquire()
    successor = {**lock.record, "since": "2026-12-04T11:00:00.000Z"}  # same pid, a later holder (a takeover)
    (tmp_path / "run.lock").write_text(json.dumps(successor))
    lock.release()
    assert json.loads((tmp_path / "run.lock").read_text()) == successor


def _spawn_holder(cmd):
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=engine_env(), cwd=REPO)


def test_engines_racing_over_a_stale_lock_one_wins_the_others_are_refused(tmp_path):
    """Three TF.js and three PyTorch processes take the same stale lock at once: the shared guard lets one win."""
    _write(tmp_path, pid=2**22 + 3, processStart="5")
    node_holder = REPO / "test" / "core" / "node" / "fixtures" / "lockHolder.ts"
    py_holder = Path(__file__).with_name("lock_holder.py")
    commands = [["node", "--import", "tsx", str(node_holder), str(tmp_path)]] * 3
    commands += [[sys.executable, str(py_holder), str(tmp_path)]] * 3
    children = [_spawn_holder(cmd) for cmd in commands]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready"
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        outcomes = [child.stdout.readline().strip() for child in children]
        assert [o.split(" ")[0] for o in outcomes].count("got") == 1, outcomes
        for outcome in (o for o in outcomes if not o.startswith("got")):
            assert re.match(r"refused run \S+ is being trained by pid \d+ on host \S+ since ", outcome), outcome
        for child in children:
            child.stdin.close()
        assert all(child.wait(timeout=60) == 0 for child in children)
        assert not (tmp_path / "run.lock").exists()
    finally:
        for child in children:
            child.kill()
