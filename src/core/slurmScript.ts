// The launch command lines of a multi-process PyTorch run (docs/launchers.md): the `sbatch` script of a Slurm run
// and torchrun's arguments. Pure text: the Node half (src/core/node/slurm.ts) writes and submits the script.

/** `runtime.slurm` of a config (every field optional in the file; see configSpec.ts). */
export interface SlurmSettings {
  partition: string | null;
  /** Slurm time limit: `minutes`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`. */
  time: string | null;
  account: string | null;
  /** GPUs per node (`--gres=gpu:N`); null: one per process unless the run trains on the CPU. */
  gpusPerNode: number | null;
  /** More `#SBATCH …` lines, written as they are. */
  extraSbatch: string[];
  /** A shell line run on the compute node before the engine (module load, conda/venv activation …). */
  setup: string | null;
}

export const DEFAULT_SLURM_SETTINGS: SlurmSettings = {
  partition: null,
  time: null,
  account: null,
  gpusPerNode: null,
  extraSbatch: [],
  setup: null,
};

/** Seconds before the time limit at which Slurm sends SIGUSR1: the run finishes its step and checkpoints. */
export const CHECKPOINT_BEFORE_TIME_LIMIT_S = 120;

const TIME = /^(\d+-\d{1,2}(:\d{1,2}(:\d{1,2})?)?|\d+(:\d{1,2}(:\d{1,2})?)?)$/;
const SAFE_VALUE = /^[A-Za-z0-9_.,:@%+=-]+$/;

/** Problems of the Slurm settings: the field (dotted, from `runtime`) and what is wrong (empty when fine). */
export function slurmSettingsProblems(s: SlurmSettings): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  const report = (field: string, message: string) => out.push({ field: `runtime.slurm.${field}`, message });
  if (s.time !== null && !TIME.test(s.time))
    report('time', `${JSON.stringify(s.time)} is not a Slurm time limit (minutes, HH:MM:SS or D-HH:MM:SS)`);
  for (const key of ['partition', 'account'] as const) {
    const v = s[key];
    if (v !== null && !SAFE_VALUE.test(v)) report(key, `${JSON.stringify(v)} has characters Slurm names do not use`);
  }
  if (s.gpusPerNode !== null && (!Number.isInteger(s.gpusPerNode) || s.gpusPerNode < 0))
    report('gpusPerNode', `expected an integer >= 0, got ${s.gpusPerNode}`);
  s.extraSbatch.forEach((line, i) => {
    if (!/^#SBATCH\s+\S/.test(line) || /[\r\n]/.test(line))
      report(`extraSbatch[${i}]`, `${JSON.stringify(line)} must be one line starting with "#SBATCH "`);
  });
  if (s.setup !== null && /[\r\n\0]/.test(s.setup)) report('setup', 'must be one line (join commands with `&&` or `;`)');
  return out;
}

/** A word for a POSIX shell: single-quoted unless it is plainly safe. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface SbatchScriptOptions {
  runDir: string;
  runId: string;
  runName: string;
  /** `<repo>/python`: put on PYTHONPATH so the checkout's dora_studio runs (no install step). */
  pythonPath: string;
  /** The interpreter found on the submitting machine; used unless the setup line or DORA_PYTHON says otherwise. */
  python: string;
  /** Arguments after `python -m dora_studio train` (--run-dir, --resume, …). */
  trainArgs: string[];
  nodes: number;
  /** Processes per node (one per GPU). */
  tasksPerNode: number;
  /** GPUs per node to request (0: none). */
  gpusPerNode: number;
  settings: SlurmSettings;
  /** Who wrote it, for the header. */
  submitHost: string;
  time: string;
}

/** A path on an `#SBATCH` line (`suffix` may hold Slurm's `%j`): double-quoted when it has spaces; characters sbatch
 * would misread in the run folder's path are refused. */
export function sbatchPath(dir: string, suffix = ''): string {
  if (/["\\%\r\n]/.test(dir))
    throw new Error(
      `${dir}: a run folder for Slurm may not contain ", \\, % or a line break (sbatch reads them specially); use another runsDir`,
    );
  const p = dir + suffix;
  return /\s/.test(p) ? `"${p}"` : p;
}

function jobName(name: string): string {
  const slug = name.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '');
  return `dora-${slug || 'run'}`.slice(0, 64);
}

/**
 * The batch script: one task per process (`srun`, which starts every rank and ends them all when one fails), rank 0
 * writing the run folder, SIGUSR1 two minutes before the time limit (checkpoint, then stop), and `job-end` after
 * srun returns (records a dead rank as the run's failure, docs/launchers.md).
 */
export function buildSbatchScript(o: SbatchScriptOptions): string {
  const s = o.settings;
  const q = shellQuote;
  const lines = [
    '#!/bin/bash',
    `# DoRA Studio run ${o.runId} (${o.runName.replace(/[\r\n]/g, ' ')}): written by \`dora train --launcher slurm\` on ${o.submitHost} at ${o.time}.`,
    '# One task per process via srun; rank 0 writes the run folder; each rank logs to logs/rank-N.log.',
    `#SBATCH --job-name=${jobName(o.runName)}`,
    `#SBATCH --nodes=${o.nodes}`,
    `#SBATCH --ntasks-per-node=${o.tasksPerNode}`,
    ...(o.gpusPerNode > 0 ? [`#SBATCH --gres=gpu:${o.gpusPerNode}`] : []),
    ...(s.partition ? [`#SBATCH --partition=${s.partition}`] : []),
    ...(s.account ? [`#SBATCH --account=${s.account}`] : []),
    ...(s.time ? [`#SBATCH --time=${s.time}`] : []),
    `#SBATCH --output=${sbatchPath(o.runDir, '/logs/slurm-%j.out')}`,
    `#SBATCH --chdir=${sbatchPath(o.runDir)}`,
    `#SBATCH --signal=USR1@${CHECKPOINT_BEFORE_TIME_LIMIT_S}`,
    ...s.extraSbatch,
    '',
    ...(s.setup ? ['# runtime.slurm.setup', s.setup, ''] : []),
    `export PYTHONPATH=${q(o.pythonPath)}\${PYTHONPATH:+:$PYTHONPATH}`,
    'export PYTHONUNBUFFERED=1',
    // With a setup line the environment it prepared decides (python3 on its PATH); DORA_PYTHON always wins.
    `PY="\${DORA_PYTHON:-${s.setup ? 'python3' : q(o.python)}}"`,
    `RUN_DIR=${q(o.runDir)}`,
    'mkdir -p "$RUN_DIR/logs"',
    'echo "job $SLURM_JOB_ID on $SLURM_JOB_NODELIST: $SLURM_NTASKS task(s), python $PY"',
    `srun --kill-on-bad-exit=1 --ntasks-per-node=${o.tasksPerNode} "$PY" -m dora_studio train ${o.trainArgs.map(q).join(' ')}`,
    'rc=$?',
    '"$PY" -m dora_studio job-end --run-dir "$RUN_DIR" --job-id "$SLURM_JOB_ID" --exit-code "$rc"',
    'exit $rc',
    '',
  ];
  return lines.join('\n');
}

export interface TorchrunOptions {
  python: string;
  trainArgs: string[];
  nprocPerNode: number;
  nodes: number;
  /** `host:port` of the rendezvous (multi-node: the same on every node). */
  rdzvEndpoint?: string;
  /** The run id: all nodes of one run join the same rendezvous. */
  rdzvId: string;
}

/** `python -m torch.distributed.run …` (torchrun of that interpreter) for one node, or for every node of a job. */
export function torchrunArgs(o: TorchrunOptions): string[] {
  const rendezvous =
    o.nodes > 1
      ? ['--nnodes', String(o.nodes), '--rdzv_backend', 'c10d', '--rdzv_endpoint', o.rdzvEndpoint ?? '', '--rdzv_id', o.rdzvId]
      : ['--standalone', '--nnodes', '1'];
  // The underscore spellings: accepted by every torchrun (the hyphenated ones only by newer ones).
  return [
    '-m',
    'torch.distributed.run',
    ...rendezvous,
    '--nproc_per_node',
    String(o.nprocPerNode),
    '-m',
    'dora_studio',
    'train',
    ...o.trainArgs,
  ];
}
