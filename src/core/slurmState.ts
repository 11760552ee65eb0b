// The Slurm side of a run (docs/launchers.md; docs/run-directory.md, "Slurm runs"): the records the launcher and the
// batch script write into `<run>/slurm/`, what `scontrol show job` says, and the run status both give together.
// Pure: parsing and rules only; src/core/node/slurm.ts runs the commands and reads the files.

import type { RunEvent, RunStatusReport } from './runRecords';

/** One submission of the run (`slurm/jobs.json` holds them all, oldest first; the last one is the current job). */
export interface SlurmJobRecord {
  jobId: string;
  /** ISO time of the submission. */
  submitted: string;
  /** The batch script, a plain name inside `slurm/`. */
  script: string;
  /** The checkpoint this job resumes (`--resume`), or null for a fresh start. */
  resume: string | null;
  nodes: number;
  tasksPerNode: number;
  gpusPerNode: number;
  partition: string | null;
  submitHost: string;
}

export interface SlurmJobsFile {
  formatVersion: number;
  jobs: SlurmJobRecord[];
}

/** `slurm/end-<job>.json`, written by the batch script after srun returned (`python -m dora_studio job-end`). */
export interface SlurmJobEnd {
  formatVersion: number;
  jobId: string;
  exitCode: number;
  failedTasks: { ranks: number[]; host: string; what: string }[];
  reason?: string;
  time: string;
}

/** The states the UI tells apart. */
export type SlurmJobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'timeout';

/** What `scontrol show job` said about a job (undefined fields: not reported). */
export interface SlurmJobInfo {
  jobId: string;
  state: SlurmJobState;
  /** Slurm's own word: PENDING, RUNNING, COMPLETED, NODE_FAIL, … */
  slurmState: string;
  /** Why it waits (Priority, Resources, …) or ended; "None" is dropped. */
  reason?: string;
  exitCode?: string;
  nodeList?: string;
  /** The batch script the job runs (scontrol's `Command=`): what proves a job is a run's own (slurm.ts slurmJobProblem). */
  command?: string;
}

const JOB_ID = /^\d+(_\d+)?$/;

export function isSlurmJobId(value: unknown): value is string {
  return typeof value === 'string' && JOB_ID.test(value);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isSlurmJobRecord(v: unknown): v is SlurmJobRecord {
  return (
    isObject(v) &&
    isSlurmJobId(v.jobId) &&
    typeof v.submitted === 'string' &&
    typeof v.script === 'string' &&
    (v.resume === null || typeof v.resume === 'string') &&
    [v.nodes, v.tasksPerNode, v.gpusPerNode].every((n) => Number.isInteger(n) && (n as number) >= 0) &&
    (v.partition === null || typeof v.partition === 'string') &&
    typeof v.submitHost === 'string'
  );
}

export function isSlurmJobsFile(v: unknown): v is SlurmJobsFile {
  return isObject(v) && typeof v.formatVersion === 'number' && Array.isArray(v.jobs) && v.jobs.every(isSlurmJobRecord);
}

export function isSlurmJobEnd(v: unknown): v is SlurmJobEnd {
  return (
    isObject(v) &&
    isSlurmJobId(v.jobId) &&
    Number.isInteger(v.exitCode) &&
    Array.isArray(v.failedTasks) &&
    typeof v.time === 'string' &&
    (v.reason === undefined || typeof v.reason === 'string')
  );
}

/** Slurm's job states (squeue(1) "JOB STATE CODES") in the UI's words. */
export function normaliseSlurmState(raw: string): SlurmJobState {
  const s = raw.toUpperCase().split(/[\s+]/)[0];
  if (['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'SUSPENDED', 'STOPPED'].includes(s))
    return 'queued';
  if (['RUNNING', 'COMPLETING', 'RESIZING', 'SIGNALING', 'STAGE_OUT'].includes(s)) return 'running';
  if (s === 'COMPLETED') return 'completed';
  if (['CANCELLED', 'PREEMPTED', 'REVOKED'].includes(s)) return 'cancelled';
  if (['TIMEOUT', 'DEADLINE'].includes(s)) return 'timeout';
  return 'failed'; // FAILED, NODE_FAIL, OUT_OF_MEMORY, BOOT_FAIL, SPECIAL_EXIT, …
}

/** `scontrol show job -o <id>` (one line of Key=Value pairs); undefined when it names no job. */
export function parseScontrolJob(text: string): SlurmJobInfo | undefined {
  const field = (key: string) => new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(text)?.[1];
  const jobId = field('JobId');
  const raw = field('JobState');
  if (!jobId || !raw) return undefined;
  const reason = field('Reason');
  // A path may hold spaces: Command runs up to the next ` Key=` of the one-line output (`(null)`: a --wrap job).
  const command = /(?:^|\s)Command=(.*?)(?=\s+[A-Za-z][\w:/]*=|\s*$)/.exec(text)?.[1];
  return {
    jobId,
    state: normaliseSlurmState(raw),
    slurmState: raw,
    ...(reason && reason !== 'None' && reason !== '(null)' ? { reason } : {}),
    ...(field('ExitCode') ? { exitCode: field('ExitCode') } : {}),
    ...(field('NodeList') && field('NodeList') !== '(null)' ? { nodeList: field('NodeList') } : {}),
    ...(command ? { command } : {}),
  };
}

/** A batch script the launcher writes (`slurm/job-N.sbatch`): the only names a jobs.json record may give. */
export const SBATCH_SCRIPT_NAME = /^job-[1-9]\d*\.sbatch$/;

const LIFECYCLE = new Set(['started', 'resumed', 'finished', 'stopped', 'failed']);

/** What is known of the current job: its record, Slurm's answer (undefined: not asked / no Slurm here / forgotten), its end record. */
export interface SlurmJobView {
  record: SlurmJobRecord;
  info?: SlurmJobInfo;
  /** Slurm's commands answered here (false: no Slurm on this machine, e.g. a shared folder opened elsewhere). */
  slurmAvailable: boolean;
  end?: SlurmJobEnd;
  /** The last lines of the job's output file (logs/slurm-<job>.out), for a job that ended before the engine did. */
  outputTail?: string;
  /** run.json's `launcher` (the engine writes it): "local"/"torchrun" when the run was continued outside Slurm. */
  engineLauncher?: string;
}

/** The run status with what the launcher knows (`queued`, a job that ended without the trainer's final event). */
export type LaunchStatusReport = RunStatusReport;

function ended(view: SlurmJobView): string | undefined {
  if (view.info && view.info.state !== 'queued' && view.info.state !== 'running')
    return `Slurm job ${view.record.jobId} ended ${view.info.slurmState}${view.info.exitCode ? ` (exit ${view.info.exitCode})` : ''}`;
  if (view.end) return `Slurm job ${view.record.jobId} ended with exit status ${view.end.exitCode}`;
  if (view.slurmAvailable && !view.info) return `Slurm job ${view.record.jobId} is no longer known to Slurm`;
  return undefined;
}

/**
 * The status of a Slurm run: the events decide once the engine wrote one for the current job; before that the job's
 * state does (queued, then starting while srun brings the ranks up). A job that ended without the engine's final event
 * is a failure, with the batch script's reason (a dead rank and its last log lines) or the job output's last lines.
 */
export function slurmRunStatus(report: RunStatusReport, events: readonly RunEvent[], view: SlurmJobView): LaunchStatusReport {
  const since = Date.parse(view.record.submitted);
  const fresh = events.some((e) => LIFECYCLE.has(e.type) && Date.parse(e.time) >= since);
  // Resumed outside Slurm after the job (e.g. one local process): that engine's records alone decide.
  if (fresh && view.engineLauncher !== undefined && view.engineLauncher !== 'slurm') return report;
  const job = view.record.jobId;
  const end = ended(view);
  const detail = view.end?.reason ?? (view.outputTail ? `last lines of logs/slurm-${job}.out:\n${view.outputTail}` : undefined);
  const failed = (why: string): LaunchStatusReport => ({ ...report, status: 'failed', reason: detail ? `${why}; ${detail}` : why });
  if (!fresh) {
    if (view.info?.state === 'queued')
      return {
        ...report,
        status: 'queued',
        reason: `Slurm job ${job} ${view.info.slurmState}${view.info.reason ? ` (${view.info.reason})` : ''}`,
      };
    if (view.info?.state === 'running')
      return { ...report, status: 'starting', reason: `Slurm job ${job} running on ${view.info.nodeList ?? '?'}; the engine is starting` };
    if (end) return failed(`${end} before the engine started`);
    return { ...report, status: 'queued', reason: `submitted as Slurm job ${job}; no Slurm commands here to ask for its state` };
  }
  if ((report.status === 'running' || report.status === 'starting' || report.status === 'crashed') && end)
    return failed(`${end} without the trainer's final event`);
  if (report.status === 'crashed' && view.info?.state === 'running')
    return { ...report, reason: `${report.reason ?? 'no heartbeat'} (Slurm job ${job} is still RUNNING)` };
  return report;
}
