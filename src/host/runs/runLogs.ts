// The logs of a run: trainer.log (rank 0), and for a multi-process run logs/rank-N.log of every rank, the Slurm job's
// output (logs/slurm-<job>.out) or torchrun's (logs/torchrun.out). "Show Trainer Log" offers them when there are more
// than one. Only plain names inside the run folder that exist and stay inside it after symlinks are listed (a run
// folder is untrusted input: runPathSafety.ts).

import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { isSafelyInside } from '../../core/node/runPathSafety';
import { runPaths } from '../../core/node/runPaths';

export interface RunLog {
  label: string;
  file: string;
}

const RANK = /^rank-(\d+)\.log$/;
const JOB = /^slurm-(\d+(?:_\d+)?)\.out$/;

export async function listRunLogs(runDir: string): Promise<RunLog[]> {
  const logs: RunLog[] = [];
  const main = runPaths(runDir).log;
  const names = await readdir(path.join(runDir, 'logs')).catch(() => [] as string[]);
  const ranks = names
    .map((n) => RANK.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]));
  logs.push({ label: ranks.length ? 'trainer.log (rank 0, run events)' : 'trainer.log', file: main });
  for (const m of ranks) logs.push({ label: `rank ${m[1]}`, file: path.join(runDir, 'logs', m[0]) });
  for (const n of names.filter((n) => JOB.test(n)).sort())
    logs.push({ label: `Slurm job ${JOB.exec(n)![1]} output`, file: path.join(runDir, 'logs', n) });
  if (names.includes('torchrun.out')) logs.push({ label: 'torchrun output', file: path.join(runDir, 'logs', 'torchrun.out') });
  return logs.filter((l) => existsSync(l.file) && isSafelyInside(runDir, path.relative(runDir, l.file)));
}
