"""``python -m dora_studio <command>`` dispatch."""

from __future__ import annotations

import os
import subprocess
import sys

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": PYTHON_DIR}
    return subprocess.run([sys.executable, "-m", "dora_studio", *args], capture_output=True, text=True, env=env)


def test_lists_commands_and_rejects_unknown_ones() -> None:
    r = _run("--help")
    assert r.returncode == 0 and "golden-run" in r.stdout and "bench" in r.stdout
    r = _run("no-such-command")
    assert r.returncode == 2 and "unknown command 'no-such-command'" in r.stderr
    r = _run("../etc")
    assert r.returncode == 2
    assert _run().returncode == 2
