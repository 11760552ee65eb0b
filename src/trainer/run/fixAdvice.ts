/**
 * The fixes a failed run suggests, each a command that works: a resume reads the run's own config.json, so a changed
 * setting is given as `--set key=value` (core/configOverrides.ts), and the checkpoint named is one that can go on.
 * Also the wording of disk errors. Used by failure.ts and the checkpoint/snapshot writes of trainingLoop.ts.
 */
import { resolve } from 'node:path';
import type { DoraConfig } from '../../core/config';
import { formatNumber } from '../../core/configProblem';

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const setFlags = (sets: readonly string[]) => sets.map((s) => `--set ${s}`).join(' ');

/** `dora train --run-dir R --resume latest --set k=v …` (or `--resume <sidecar>`): the command the fixes suggest. */
export function resumeCommand(runDir: string, sets: readonly string[] = [], sidecar?: string): string {
  const from = sidecar ? `--resume ${shellQuote(resolve(sidecar))}` : `--run-dir ${shellQuote(resolve(runDir))} --resume latest`;
  return ['dora train', from, ...sets.map((s) => `--set ${shellQuote(s)}`)].join(' ');
}

const IN_VS_CODE = ' (in VS Code: make the same change in the .dora.json and use DoRA: Resume Run, which applies it)';

/**
 * How to go on after the loss diverged at the step after `lastStep`. The checkpoint OF `lastStep` holds the weights that
 * gave the non-finite loss (whatever the learning rate, the next step repeats it), so the advice resumes from the newest
 * checkpoint before it.
 */
export function divergenceAdvice(
  runDir: string,
  checkpoints: ReadonlyArray<{ step: number; sidecarFile: string }>,
  lastStep: number,
  sets: readonly string[],
): string {
  const before = checkpoints.filter((c) => c.step < lastStep);
  const from = before[before.length - 1];
  if (!from)
    return (
      `start a new run with ${setFlags(sets)} (or the same change in the .dora.json): ` +
      'no checkpoint was written before the loss diverged'
    );
  const newest = checkpoints[checkpoints.length - 1];
  const skipped = newest !== from ? ` (not from step ${newest.step}: its weights gave this loss)` : '';
  const command = resumeCommand(runDir, sets, newest !== from ? from.sidecarFile : undefined);
  return `resume from the checkpoint of step ${from.step}${skipped}: ${command}${IN_VS_CODE}; if it diverges again, lower it further`;
}

/** How to go on after a failure, given whether a complete checkpoint exists to resume from. */
export function continueAdvice(runDir: string, lastCheckpointStep: number, sets: readonly string[] = []): string {
  if (lastCheckpointStep > 0) {
    const command = resumeCommand(runDir, sets);
    return `resume from the last complete checkpoint (step ${lastCheckpointStep}): ${command}${sets.length ? IN_VS_CODE : ''}`;
  }
  const withSets = sets.length ? ` with ${setFlags(sets)} (or the same change in the .dora.json)` : '';
  return `start the run again${withSets}: there is no complete checkpoint to resume from`;
}

const DISK_CODES: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EIO: 'an input/output error (a failing disk or a lost network drive)',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/** The cause of a write error in words, or undefined when it is not a file-system error. */
export function diskCause(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && Object.hasOwn(DISK_CODES, code) ? DISK_CODES[code] : undefined;
}

/** The fix for a failed write: free space (or write less), then go on. `sets` are what writing less means. */
export function diskFix(runDir: string, lastCheckpointStep: number, error: unknown, sets: readonly string[] = []): string {
  const code = (error as { code?: unknown })?.code;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  const first = full
    ? `Free disk space${sets.length ? ` (or write less: ${setFlags(sets)})` : ''}`
    : code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
      ? `Make ${runDir} writable`
      : 'Check the disk';
  return `${first}, then ${continueAdvice(runDir, lastCheckpointStep, full ? sets : [])}.`;
}

/** The `--set`s that lower the learning rate tenfold (the NaN fix), the final rate too when it would be above it. */
export function lowerLrSettings(config: DoraConfig): string[] {
  const lr = config.training.lr / 10;
  const sets = [`training.lr=${formatNumber(lr)}`];
  if (config.training.minLr > lr) sets.push(`training.minLr=${formatNumber(config.training.minLr / 10)}`);
  return sets;
}
