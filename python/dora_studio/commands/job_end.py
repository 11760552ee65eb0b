"""``python -m dora_studio job-end --run-dir DIR --job-id J --exit-code N``: run by a Slurm run's batch script after
`srun` returns; records the job's end and, when a rank died, the run's failure with that rank's last log lines
(run/job_end.py). Exit status 0 (also when there was nothing to add), 2 bad arguments."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ..run.job_end import record_job_end


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m dora_studio job-end", description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", type=Path, required=True)
    p.add_argument("--job-id", required=True)
    p.add_argument("--exit-code", type=int, required=True)
    args = p.parse_args(argv)
    if not re.fullmatch(r"\d+(_\d+)?", args.job_id):
        print(f"job-end: {args.job_id!r} is not a Slurm job id", file=sys.stderr)
        return 2
    if not (args.run_dir / "config.json").is_file():
        print(f"job-end: {args.run_dir} is not a run folder (no config.json)", file=sys.stderr)
        return 2
    end = record_job_end(args.run_dir.resolve(), args.job_id, args.exit_code)
    print(f"job-end: Slurm job {args.job_id} ended with exit status {args.exit_code}"
          + (f": {end['reason'].splitlines()[0]}" if "reason" in end else ""), file=sys.stderr)  # fmt: skip
    return 0
