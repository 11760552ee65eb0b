// Runs launched as Slurm jobs, for the Runs view and Stop (docs/launchers.md). No vscode import.
// - Status: the run's events once the engine wrote them for the current job; before that, and when the job ended
//   without them, what `scontrol show job` says (queued, starting, failed with the job's reason). A run folder opened
//   where Slurm's commands are missing (a shared drive on another machine) shows what its files say.
// - Stop: a queued job is cancelled; a running one gets SIGUSR1 (each rank finishes its step, rank 0 checkpoints, the
//   job ends) and is cancelled if it is still there after the grace period. Only a job Slurm says runs this run's own
//   batch script is ever signalled or cancelled (slurmJobProblem: the folder's jobs.json is untrusted input).

import { readEvents, readRunStatus, type RunSummary } from '../../core/node/runDir';
import { cancelJob, queryJob, readSlurmJobs, readSlurmJobView, slurmJobProblem } from '../../core/node/slurm';
import type { RunEvent, RunStatusReport } from '../../core/runRecords';
import { slurmRunStatus, type SlurmJobInfo, type SlurmJobRecord } from '../../core/slurmState';

const TERMINAL = new Set(['finished', 'stopped', 'failed']);

export interface SlurmStatus {
  status: RunStatusReport;
  slurm: NonNullable<RunSummary['slurm']>;
}

/** The launch-aware status of a Slurm run (undefined: the folder has no slurm/jobs.json). */
export async function slurmStatusOf(
  runDir: string,
  events: readonly RunEvent[],
  report: RunStatusReport,
  query: typeof queryJob = queryJob,
): Promise<SlurmStatus | undefined> {
  // A job that ended and whose run says so needs no question to Slurm (it may have forgotten the job anyway).
  const settled = (record: SlurmJobRecord, end: unknown) =>
    end !== undefined && TERMINAL.has(report.status) && events.some((e) => Date.parse(e.time) >= Date.parse(record.submitted));
  const view = await readSlurmJobView(runDir, { settled, query });
  if (!view) return undefined;
  return { status: slurmRunStatus(report, events, view), slurm: describeJob(view.record, view.info, !view.slurmAvailable) };
}

function describeJob(record: SlurmJobRecord, info: SlurmJobInfo | undefined, noSlurm: boolean): SlurmStatus['slurm'] {
  return {
    jobId: record.jobId,
    ...(info ? { slurmState: info.slurmState } : noSlurm ? { slurmState: 'no Slurm here' } : {}),
    ...(info?.nodeList ? { nodeList: info.nodeList } : {}),
    ...(info?.reason ? { reason: info.reason } : {}),
  };
}

/** readRunStatus, with the job's state for a Slurm run (the dashboard's status badge). */
export async function readLaunchStatus(runDir: string): Promise<RunStatusReport> {
  const [report, events] = await Promise.all([readRunStatus(runDir), readEvents(runDir)]);
  return (await slurmStatusOf(runDir, events.records, report).catch(() => undefined))?.status ?? report;
}

export interface SlurmStopOptions {
  /** How long the job gets to checkpoint and end after SIGUSR1 before it is cancelled. */
  graceMs: number;
  pollMs?: number;
  log: (text: string) => void;
  query?: typeof queryJob;
  cancel?: typeof cancelJob;
}

/**
 * Stops the current job of a Slurm run: 'cancelled' (it was still queued), 'stopping' (SIGUSR1 sent; `done` resolves
 * once the job ended, cancelled after the grace period if need be), 'not-running', or 'refused' (with the reason) when
 * the job cannot be proven to be this run's.
 */
export async function stopSlurmRun(
  runDir: string,
  o: SlurmStopOptions,
): Promise<{ result: 'cancelled' | 'stopping' | 'not-running' | 'refused'; done: Promise<void>; reason?: string }> {
  const query = o.query ?? queryJob;
  const cancel = o.cancel ?? cancelJob;
  const jobs = await readSlurmJobs(runDir);
  const record = jobs?.jobs[jobs.jobs.length - 1];
  const info = record ? await query(record.jobId) : undefined;
  if (!record || info === undefined || info === 'no-slurm' || (info.state !== 'queued' && info.state !== 'running'))
    return { result: 'not-running', done: Promise.resolve() };
  const problem = await slurmJobProblem(runDir, record, info);
  if (problem) {
    o.log(`did not stop Slurm job ${record.jobId}: ${problem}`);
    return { result: 'refused', done: Promise.resolve(), reason: problem };
  }
  if (info.state === 'queued') {
    await cancel(record.jobId);
    o.log(`cancelled Slurm job ${record.jobId} (it had not started)`);
    return { result: 'cancelled', done: Promise.resolve() };
  }
  await cancel(record.jobId, 'USR1');
  o.log(`sent SIGUSR1 to Slurm job ${record.jobId}: every rank finishes its step, rank 0 writes a checkpoint`);
  return { result: 'stopping', done: escalate(record.jobId, o, query, cancel) };
}

async function escalate(jobId: string, o: SlurmStopOptions, query: typeof queryJob, cancel: typeof cancelJob): Promise<void> {
  const deadline = Date.now() + o.graceMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, o.pollMs ?? 2000));
    const info = await query(jobId).catch(() => undefined);
    if (info === undefined || info === 'no-slurm' || (info.state !== 'running' && info.state !== 'queued')) return;
  }
  await cancel(jobId).catch((error: Error) => o.log(`scancel ${jobId}: ${error.message}`));
  o.log(`Slurm job ${jobId} was still running ${Math.round(o.graceMs / 1000)} s after SIGUSR1: cancelled it (scancel)`);
}
