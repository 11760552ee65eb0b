"""The golden cases (../shared/golden): each case's outputs computed from its inputs by the engine's own functions."""

from .cases import CASE_RUNNERS, GoldenCase, load_case, run_case

__all__ = ["CASE_RUNNERS", "GoldenCase", "load_case", "run_case"]
