// Which video an evaluation job reads. k-NN on objects and tracking score against exact ground truth, which only a
// synthetic walking tour has: a run trained on the user's own video evaluates those two on the synthetic tour instead
// (frames it never trained on). The tour is generated on first need (`tour()`).
import type { EvalJob } from '../../core/messages';
import { readRunConfig } from '../../core/node/runDir';
import { runDirOfCheckpoint } from '../../core/node/runPaths';
import { readSyntheticOptions } from '../data/syntheticVideo';

/** Jobs that need a synthetic walking tour's ground truth. */
export function needsSyntheticTour(job: EvalJob): boolean {
  return job.suite === 'tracking' || (job.suite === 'knn' && (job.dataset ?? 'synthetic') === 'synthetic');
}

/** The training video recorded in a checkpoint's run (config.json), if readable. */
export async function runVideoOf(checkpoint: string): Promise<string | undefined> {
  const config = (await readRunConfig(runDirOfCheckpoint(checkpoint)).catch(() => undefined)) as { data?: { video?: unknown } } | undefined;
  return typeof config?.data?.video === 'string' ? config.data.video : undefined;
}

/** The jobs with `video` set to the synthetic tour where they need ground truth the run's own video does not have. */
export async function jobsWithGroundTruth(checkpoint: string, jobs: readonly EvalJob[], tour: () => Promise<string>): Promise<EvalJob[]> {
  if (!jobs.some(needsSyntheticTour)) return [...jobs];
  const video = await runVideoOf(checkpoint);
  if (video && readSyntheticOptions(video)) return [...jobs];
  const synthetic = await tour();
  return jobs.map((job) => (needsSyntheticTour(job) && !job.video ? { ...job, video: synthetic } : job));
}
