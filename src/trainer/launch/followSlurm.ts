/**
 * `dora train --launcher slurm --wait`: follows the submitted job until it ends, printing its state changes (queued,
 * starting, running, its end) and the metrics rank 0 writes, from the same files and Slurm answers the extension's
 * Runs view uses (readSlurmJobView + slurmRunStatus). Ctrl-C stops following only; the job goes on.
 */
import { JsonlFollower } from '../../core/node/jsonl';
import { readEvents, readRunStatus } from '../../core/node/runDir';
import { runPaths } from '../../core/node/runPaths';
import { readSlurmJobView } from '../../core/node/slurm';
import { isMetricsRecord } from '../../core/runRecords';
import { slurmRunStatus, type LaunchStatusReport, type SlurmJobRecord } from '../../core/slurmState';

export const FOLLOW_INTERVAL_MS = 2000;

export async function slurmLaunchStatus(runDir: string): Promise<LaunchStatusReport | undefined> {
  const view = await readSlurmJobView(runDir);
  if (!view) return undefined;
  const [report, events] = await Promise.all([readRunStatus(runDir), readEvents(runDir)]);
  return slurmRunStatus(report, events.records, view);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Follows the job; resolves with 0 when the run finished or stopped, 1 when it failed, 130 after Ctrl-C. */
export async function followSlurmRun(runDir: string, record: SlurmJobRecord, intervalMs = FOLLOW_INTERVAL_MS): Promise<number> {
  let interrupted = false;
  const onSigint = () => (interrupted = true);
  process.on('SIGINT', onSigint);
  const metrics = new JsonlFollower(runPaths(runDir).metrics, isMetricsRecord);
  await metrics.poll(); // a resumed run: start after what is already there
  let last = '';
  try {
    while (!interrupted) {
      const status = await slurmLaunchStatus(runDir);
      const chunk = await metrics.poll().catch(() => ({ records: [] }));
      for (const m of chunk.records)
        console.error(`  step ${m.step}  epoch ${m.epoch}  loss ${m.loss.toFixed(4)}  ${m.secPerStep.toFixed(2)} s/step`);
      const line = status ? `job ${record.jobId}: ${status.status}${status.reason ? ` — ${status.reason}` : ''}` : '';
      if (line && line !== last) console.error(line);
      last = line;
      if (status && ['finished', 'stopped', 'failed'].includes(status.status)) return status.status === 'failed' ? 1 : 0;
      await sleep(intervalMs);
    }
    console.error(
      `stopped following; Slurm job ${record.jobId} goes on (stop it with a checkpoint: scancel --signal=USR1 ${record.jobId})`,
    );
    return 130;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
