"""Shared pytest set-up.

- CI must not pass by skipping: any skipped test turns the session into a failure (exit status 1).
- GPU tests (``test_cuda_*.py``) are not collected on a machine without CUDA; the session says so in one line
  instead of reporting them as skipped.
"""

from __future__ import annotations

import os
import sys

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the package, when pytest runs without PYTHONPATH

CUDA = torch.cuda.is_available()
collect_ignore_glob = [] if CUDA else ["test_cuda_*.py"]


def pytest_collection_finish(session: pytest.Session) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    if CUDA:
        reporter.write_line(f"CUDA tests collected ({torch.cuda.get_device_name(0)})")
    else:
        reporter.write_line("CUDA tests NOT collected: no CUDA device here (test_cuda_*.py run on a CUDA machine)")


def _skipped(session_config: pytest.Config) -> int:
    reporter = session_config.pluginmanager.get_plugin("terminalreporter")
    return len(reporter.stats.get("skipped", [])) if reporter else 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped(session.config) and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    skipped = _skipped(config)
    if skipped:
        terminalreporter.write_line(
            f"FAILED: {skipped} test(s) skipped; skipped tests do not count as passing", red=True
        )
