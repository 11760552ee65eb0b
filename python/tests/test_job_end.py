"""The batch script's `job-end`: which rank took a Slurm job down (srun's report), and what the run folder gets."""

import json

from dora_studio.commands.job_end import main as job_end
from dora_studio.run.job_end import FailedTask, culprit, failed_tasks, record_job_end

OUTPUT = """training 5/13 (38.5%)  1.30 s/step  loss 4.7448
failed at step 5: lost contact with another process of the run (RuntimeError: ... Connection reset by peer)
srun: error: vm: task 0: Exited with exit code 1
srun: error: gpu07: task 1: Killed
srun: launch/slurm: _step_signal: Terminating StepId=4.0
srun: error: gpu08: tasks 2-3,5: Terminated
"""


def test_srun_reports_and_the_rank_that_died():
    tasks = failed_tasks(OUTPUT)
    assert tasks == [
        FailedTask([0], "vm", "Exited with exit code 1"),
        FailedTask([1], "gpu07", "Killed"),
        FailedTask([2, 3, 5], "gpu08", "Terminated"),
    ]
    # Rank 0 exited first, but only because rank 1 was killed; srun's own Terminated are the survivors.
    assert culprit(tasks).ranks == [1]
    assert culprit([FailedTask([3], "n", "Exited with exit code 2")]).ranks == [3]
    assert culprit([]) is None


def run_folder(tmp_path, events, output=OUTPUT):
    run = tmp_path / "run"
    (run / "logs").mkdir(parents=True)
    (run / "config.json").write_text("{}")
    (run / "run.json").write_text(json.dumps({"statusHint": "running", "heartbeat": "2026-01-01T00:00:00Z"}))
    (run / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (run / "logs" / "slurm-9.out").write_text(output)
    (run / "logs" / "rank-1.log").write_text("".join(f"line {i}\n" for i in range(20)))
    (run / "run.lock").write_text(json.dumps({"pid": 999_999_999, "hostname": __import__("socket").gethostname()}))
    return run


def events_of(run):
    return [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]


def test_a_killed_rank_fails_the_run_with_its_last_lines_and_frees_the_lock(tmp_path):
    run = run_folder(tmp_path, [{"type": "started", "step": 0, "time": "t"}])
    assert job_end(["--run-dir", str(run), "--job-id", "9", "--exit-code", "137"]) == 0
    failed = events_of(run)[-1]
    assert failed["type"] == "failed" and failed["reason"].startswith("Slurm job 9: rank 1 on gpu07: Killed")
    assert "line 19" in failed["reason"] and "line 7" not in failed["reason"]  # the last 12 lines
    assert json.loads((run / "run.json").read_text())["statusHint"] == "failed"
    assert not (run / "run.lock").exists()  # its pid is gone on this host
    end = json.loads((run / "slurm" / "end-9.json").read_text())
    assert end["exitCode"] == 137 and end["failedTasks"][1] == {"ranks": [1], "host": "gpu07", "what": "Killed"}


def test_after_rank_0s_lost_contact_the_dead_rank_is_the_reason(tmp_path):
    lost = {"type": "failed", "reason": "lost contact with another process of the run", "step": 5, "time": "t"}
    run = run_folder(tmp_path, [{"type": "started", "step": 0, "time": "t"}, lost])
    record_job_end(run, "9", 1)
    assert [e["type"] for e in events_of(run)] == ["started", "failed", "failed"]
    assert "rank 1 on gpu07: Killed" in events_of(run)[-1]["reason"]


def test_a_clean_end_adds_no_event_and_a_finished_run_gets_only_a_warning(tmp_path):
    run = run_folder(
        tmp_path, [{"type": "started", "step": 0, "time": "t"}, {"type": "finished", "step": 7, "time": "t"}]
    )
    record_job_end(run, "9", 0)
    assert [e["type"] for e in events_of(run)] == ["started", "finished"]
    record_job_end(run, "9", 1)
    assert events_of(run)[-1]["type"] == "warning"


def test_a_job_that_died_before_the_engine_started(tmp_path):
    run = run_folder(tmp_path, [], output="/bin/sh: 1: python3: not found\n")
    record_job_end(run, "9", 127)
    failed = events_of(run)[-1]
    assert failed["type"] == "failed" and "exit status 127 before the trainer wrote a final event" in failed["reason"]
    assert "python3: not found" in failed["reason"]


def test_job_ids_are_checked(tmp_path, capsys):
    run = run_folder(tmp_path, [])
    assert job_end(["--run-dir", str(run), "--job-id", "../../x", "--exit-code", "1"]) == 2
    assert "not a Slurm job id" in capsys.readouterr().err
