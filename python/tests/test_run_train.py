"""The PyTorch engine end to end on a tiny generated video (demo preset, CPU float32): a complete run folder that
the extension's own readers accept, exact resume after kill -9, stop through the message channel and signals, the
run lock, and checkpoints that the TF.js engine evaluates (and the other way round)."""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from pyrun_support import REPO, Workspace, engine_env, python_cmd, read_jsonl, train_cmd, ts_reference


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return Workspace(tmp_path_factory.mktemp("pyrun"))


def run_engine(*args, **kw):
    return subprocess.run(args[0], env=engine_env(), capture_output=True, text=True, timeout=300, **kw)


@pytest.fixture(scope="module")
def trained(ws):
    """One complete 6-step run (keepCheckpoints 1), shared by the tests that only read it."""
    run = ws.make_run(keepCheckpoints=1)
    proc = run_engine(train_cmd(run))
    assert proc.returncode == 0, proc.stderr
    return run


def test_a_run_writes_a_complete_valid_folder(trained):
    run = trained
    check = ts_reference("validateRun", runDir=str(run))
    assert check["problems"] == [] and check["leftovers"] == []
    assert check["status"] == "finished"
    assert check["events"] == ["started", "snapshot", "snapshot", "checkpoint", "snapshot", "checkpoint", "finished"]
    assert check["metricsSteps"] == [1, 2, 3, 4, 5, 6] and check["snapshots"] == [1, 3, 6]
    assert check["checkpoints"] == [6]  # keepCheckpoints 1 pruned step 4
    record = read_jsonl(run / "metrics.jsonl")[-1]
    for name in ("lossMasked", "lossLocal", "teacherEntropy", "gradNorm", "loaderWaitSec"):
        assert isinstance(record[name], float)
    info = json.loads((run / "run.json").read_text())
    assert info["engine"] == "pytorch" and info["backend"] == "pytorch-cpu" and info["precision"] == "fp32"
    assert info["totalSteps"] == 6 and info["processStart"].isdigit() and info["statusHint"] == "finished"
    assert not (run / "run.lock").exists()
    assert "finished at step 6" in (run / "trainer.log").read_text()


def wait_for_step(run, proc, step, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        steps = [r["step"] for r in read_jsonl(run / "metrics.jsonl")]
        if steps and steps[-1] >= step:
            return steps[-1]
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.005)
    raise AssertionError(f"no step {step} within {timeout} s")


def test_kill_9_then_resume_follows_the_uninterrupted_run(ws):
    straight = ws.make_run(max_frames=48, checkpointEvery=3)  # 8 steps
    # Built by a DataLoader worker process here, in the training process below: the batches are the same.
    assert run_engine(train_cmd(straight, workers=1)).returncode == 0
    killed = ws.make_run(max_frames=48, checkpointEvery=3)
    proc = subprocess.Popen(train_cmd(killed), env=engine_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    at = wait_for_step(killed, proc, 4)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert at < 8 and (killed / "run.lock").exists()  # left behind by the killed trainer
    assert ts_reference("validateRun", runDir=str(killed))["status"] == "crashed"
    resumed = run_engine(train_cmd(killed, "--resume", "latest"))
    assert resumed.returncode == 0, resumed.stderr
    a, b = read_jsonl(straight / "metrics.jsonl"), read_jsonl(killed / "metrics.jsonl")
    assert [r["step"] for r in b] == list(range(1, 9))
    assert [r["loss"] for r in b] == [r["loss"] for r in a]  # bit-exact on CPU float32
    side_a = json.loads((straight / "checkpoints" / "step-000008.json").read_text())
    side_b = json.loads((killed / "checkpoints" / "step-000008.json").read_text())
    assert side_a["weightsSha256"] == side_b["weightsSha256"] and side_a["optimizerSha256"] == side_b["optimizerSha256"]
    check = ts_reference("validateRun", runDir=str(killed))
    assert check["problems"] == [] and "resumed" in check["events"] and check["status"] == "finished"
    assert "took over a stale run lock" in (killed / "trainer.log").read_text()


def test_start_and_stop_messages_on_the_host_channel(ws):
    """Engine mode: `ready` on fd 3, then the host's `start` on stdin runs the run, `stop` ends it with a checkpoint."""
    run = ws.make_run(max_frames=64)
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        python_cmd("train", "--wait-start", "--workers", "0"), env=engine_env(DORA_MESSAGE_FD=str(write_fd)),
        pass_fds=(write_fd,), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    os.close(write_fd)
    messages = []

    def send(message):
        proc.stdin.write((json.dumps(message) + "\n").encode())
        proc.stdin.flush()

    with os.fdopen(read_fd, "rb") as stream:
        for line in stream:
            messages.append(json.loads(line))
            if messages[-1]["type"] == "ready":
                send({"type": "start", "configPath": str(ws.root / "x.dora.json"), "runDir": str(run)})
            if messages[-1]["type"] == "metrics" and messages[-1]["record"]["step"] == 2:
                send({"type": "stop"})
    assert proc.wait(60) == 0, proc.stderr.read()
    ready = messages[0]
    assert ready["type"] == "ready" and ready["protocol"] == 1 and ready["pid"] == proc.pid
    assert {"python", "torch", "engine", "device", "precision"} <= set(ready["versions"])
    final = messages[-1]
    assert final["type"] == "finished" and final["reason"] == "stopped" and final["message"] == "stop requested"
    saved = [m for m in messages if m["type"] == "checkpoint-saved"]
    assert saved and saved[-1]["step"] == final["step"] and final["step"] < 16
    assert {"progress", "metrics", "snapshot-ready"} <= {m["type"] for m in messages}
    assert json.loads((run / "events.jsonl").read_text().splitlines()[-1])["type"] == "stopped"


def test_sigterm_finishes_the_step_and_checkpoints(ws):
    run = ws.make_run(max_frames=64)
    proc = subprocess.Popen(
        train_cmd(run), env=engine_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wait_for_step(run, proc, 2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    check = ts_reference("validateRun", runDir=str(run))
    assert check["status"] == "stopped" and check["checkpoints"][-1] == check["metricsSteps"][-1] < 16
    assert "stop requested (SIGTERM)" in err


def test_the_lock_refuses_a_second_trainer(ws):
    run = ws.make_run(max_frames=64)
    first = subprocess.Popen(train_cmd(run), env=engine_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_step(run, first, 1)
    first.send_signal(signal.SIGSTOP)  # alive and holding the lock, however fast this machine is
    try:
        events_before = (run / "events.jsonl").read_text()
        second = run_engine(train_cmd(run, "--resume", "latest"))
    finally:
        first.send_signal(signal.SIGCONT)
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert second.returncode == 1
    assert f"is being trained by pid {first.pid} on host" in second.stderr
    assert (run / "events.jsonl").read_text().startswith(events_before)
    assert "failed" not in [e["type"] for e in read_jsonl(run / "events.jsonl")]
    assert first.returncode == 0 and not (run / "run.lock").exists()


def node_cli(*args):
    return subprocess.run(["node", str(REPO / "dist" / "cli.js"), *args], capture_output=True, text=True, timeout=300)


def test_checkpoints_cross_between_the_engines(ws, trained):
    # PyTorch → TF.js: the TF.js engine evaluates a checkpoint the PyTorch engine trained.
    run = trained
    sidecar = run / "checkpoints" / "step-000006.json"
    ev = node_cli("eval", str(sidecar), "--suite", "attention", "--backend", "cpu")
    assert ev.returncode == 0, ev.stderr
    assert (run / "checkpoints" / "step-000006.eval.json").exists()
    # TF.js → PyTorch: the TF.js engine trains 2 steps; each engine then continues that checkpoint for one step.
    config = ws.root / "ts.dora.json"
    config.write_text(json.dumps(ws.config_file(44, checkpointEvery=2)))
    ts_run, py_run = ws.root / "ts-run", ws.root / "py-run"
    tr = node_cli("train", str(config), "--run-dir", str(ts_run), "--max-steps", "2", "--backend", "wasm")
    assert tr.returncode == 0, tr.stderr
    shutil.copytree(ts_run, py_run)
    tr = node_cli("train", "--resume", str(ts_run / "checkpoints" / "step-000002.json"), "--max-steps", "3",
                  "--backend", "wasm")  # fmt: skip
    assert tr.returncode == 0, tr.stderr
    resumed = run_engine(train_cmd(py_run, "--resume", "latest", "--max-steps", "3"))
    assert resumed.returncode == 0, resumed.stderr
    check = ts_reference("validateRun", runDir=str(py_run))
    assert check["problems"] == [] and check["metricsSteps"] == [1, 2, 3] and check["checkpoints"][-1] == 3
    assert "resumed" in check["events"]
    # The same clips, crops, heads and DoRA step: the two engines' step-3 losses agree to float32 noise (measured:
    # 4.06930 TF.js/wasm vs 4.06887 PyTorch/CPU).
    ts_loss, py_loss = (read_jsonl(r / "metrics.jsonl")[-1]["loss"] for r in (ts_run, py_run))
    assert abs(ts_loss - py_loss) <= 2e-3 * abs(ts_loss), (ts_loss, py_loss)


def test_bench_loader_prints_the_headroom_line(trained, capsys):
    from dora_studio.commands.bench_loader import main

    assert main(["--run-dir", str(trained), "--workers", "1", "--batches", "2", "--steps", "1"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["bench"] == "loader" and line["workers"] == 1 and line["loaderBatchesPerSec"] > 0
    assert line["headroom"] == pytest.approx(line["loaderBatchesPerSec"] * line["stepSec"], rel=0.02)
