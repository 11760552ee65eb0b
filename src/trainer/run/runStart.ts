/**
 * Before a trainer writes anything into a run folder: the config (with `--set` overrides), the checks that a start can
 * succeed at all (so a bad config or a missing video creates no run folder), the run-folder lock (src/core/runLock.ts),
 * the checks that the folder's own files do not lead elsewhere, and the clean-up of what a killed writer left behind.
 * Also the wording of disk errors and of the fixes the trainer suggests: each fix names a command that works.
 */
import { readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isTempFileName } from '../../core/atomicWrite';
import { ConfigError, formatNumber, parseConfigText, resolveConfig, type DoraConfig } from '../../core/config';
import { applyOverrides, diffConfigs, parseOverride, type ConfigChange } from '../../core/configOverrides';
import { isPidAlive } from '../../core/processIdentity';
import { acquireRunLock, type RunLockHandle } from '../../core/runLock';
import { checkRunFolderEntries, readEvents, readRunInfo, runPaths, type RunInfo } from '../../core/runDir';
import { assertReadableFile, resolveFfmpeg } from '../data/ffmpeg';

/** A config read from a *.dora.json or a run's config.json, with the `--set` overrides applied and validated. */
export interface ResolvedTrainingConfig {
  config: DoraConfig;
  /** What the overrides changed (empty without overrides). */
  changes: ConfigChange[];
}

/** config.json holds a resolved DoraConfig; its bookkeeping field is not a config-file key. */
function stripResolvedFields(raw: unknown): Record<string, unknown> {
  const { configFile: _c, ...rest } = raw as Record<string, unknown>;
  return rest;
}

/**
 * Resolves a config file's raw JSON with overrides. On resume (`resume: true`) `raw` is the run's config.json and keys
 * that cannot change on resume are refused. Problems name the file, the JSON path and the `--set` that caused them.
 */
export function resolveWithOverrides(
  raw: unknown,
  file: string,
  overrides: readonly string[],
  options: { resume: boolean; configFile?: string },
): ResolvedTrainingConfig {
  const base = options.resume ? stripResolvedFields(raw) : (raw as Record<string, unknown>);
  const configFile = options.configFile ?? file;
  const before = resolveConfig(base, { file: configFile });
  if (overrides.length === 0) return { config: before, changes: [] };
  const parsed = overrides.map(parseOverride);
  const label = `${file} with ${parsed.map((o) => `--set ${o.text}`).join(' ')}`;
  let after: DoraConfig;
  try {
    after = resolveConfig(applyOverrides(base, parsed, options), { file: configFile });
  } catch (error) {
    // The same JSON-path problems, attributed to the overrides rather than to the file.
    if (error instanceof ConfigError)
      throw new ConfigError(
        label,
        error.problems.map((p) => ({ ...p, file: label })),
      );
    throw error;
  }
  return { config: after, changes: diffConfigs(before, after) };
}

export async function readConfigFile(file: string): Promise<unknown> {
  return parseConfigText(await readFile(file, 'utf8'), file);
}

/**
 * What must hold before a run folder is created or touched: the video is a readable file and ffmpeg can be found.
 * Throws VideoError (it names the file and the fix).
 */
export function preflightTraining(config: DoraConfig, options: { ffmpegPath?: string }): void {
  assertReadableFile(config.data.video);
  resolveFfmpeg({ explicitPath: options.ffmpegPath });
}

/**
 * Removes a run folder that holds nothing but the empty checkpoints/ and snapshots/ folders: what createRunDir (or the
 * extension) made for a start that then failed before writing anything. Call it after releasing the run lock.
 */
export async function removeHollowRunDir(runDir: string): Promise<boolean> {
  const paths = runPaths(runDir);
  let names: string[];
  try {
    names = await readdir(runDir);
  } catch {
    return false;
  }
  const allowed = new Set(['checkpoints', 'snapshots']);
  if (!names.every((n) => allowed.has(n))) return false;
  for (const sub of [paths.checkpointsDir, paths.snapshotsDir]) if ((await readdir(sub).catch(() => [])).length > 0) return false;
  for (const sub of [paths.checkpointsDir, paths.snapshotsDir]) await rmdir(sub).catch(() => undefined);
  await rmdir(runDir).catch(() => undefined);
  return true;
}

/** The pid in an atomic-write temp name `.<name>.<pid>.<hex>.tmp`, if any. */
function tempFileOwner(name: string): number | undefined {
  const m = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Removes what killed writers left in a run folder: atomic-write temp files whose writer is gone, partial snapshot
 * folders, and checkpoint data files that never got their sidecar. Call it holding the run lock (no trainer is writing).
 * Returns the removed paths, relative to the run folder.
 */
export async function cleanLeftovers(runDir: string): Promise<string[]> {
  const paths = runPaths(runDir);
  const removed: string[] = [];
  const remove = async (dir: string, name: string, recursive = false) => {
    await rm(join(dir, name), { force: true, recursive });
    removed.push(join(dir, name).slice(runDir.length + 1));
  };
  for (const dir of [runDir, paths.checkpointsDir, paths.snapshotsDir]) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const owner = tempFileOwner(name);
      if (isTempFileName(name) && (owner === undefined || (owner !== process.pid && !isPidAlive(owner)))) await remove(dir, name);
    }
  }
  for (const name of await readdir(paths.snapshotsDir).catch(() => [] as string[]))
    if (/^\.step-\d+\.partial$/.test(name)) await remove(paths.snapshotsDir, name, true);
  const checkpointNames = await readdir(paths.checkpointsDir).catch(() => [] as string[]);
  const sidecars = new Set(checkpointNames.filter((n) => /^step-\d+\.json$/.test(n)));
  for (const name of checkpointNames) {
    const m = /^(step-\d+)(?:\.optim)?\.safetensors$/.exec(name);
    if (m && !sidecars.has(`${m[1]}.json`) && (await stat(join(paths.checkpointsDir, name))).isFile())
      await remove(paths.checkpointsDir, name);
  }
  return removed;
}

/** What a resumed run looked like before this process touched it: kept so that a failed resume can leave it as it was. */
export interface RunBaseline {
  info?: RunInfo;
  /** The last completed step according to the events. */
  step: number;
}

export async function readRunBaseline(runDir: string): Promise<RunBaseline> {
  const [info, events] = await Promise.all([readRunInfo(runDir), readEvents(runDir)]);
  return { info, step: events.records.reduce((s, e) => Math.max(s, e.step), 0) };
}

/**
 * Takes the run folder for this process: its lock (refusing a live one), then the checks that its fixed files and
 * folders do not lead outside it. Released by the caller (handle.release()) when the run ends.
 */
export async function claimRunFolder(runDir: string, command: 'train' | 'resume'): Promise<RunLockHandle> {
  const lock = await acquireRunLock(runDir, { engine: 'tfjs', command });
  try {
    await checkRunFolderEntries(runDir);
  } catch (error) {
    await lock.release();
    throw error;
  }
  return lock;
}

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

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
    return `start a new run with ${sets.map((s) => `--set ${s}`).join(' ')} (or the same change in the .dora.json): no checkpoint was written before the loss diverged`;
  const newest = checkpoints[checkpoints.length - 1];
  const skipped = newest !== from ? ` (not from step ${newest.step}: its weights gave this loss)` : '';
  return `resume from the checkpoint of step ${from.step}${skipped}: ${resumeCommand(runDir, sets, newest !== from ? from.sidecarFile : undefined)}${IN_VS_CODE}; if it diverges again, lower it further`;
}

/** How to go on after a failure, given whether a complete checkpoint exists to resume from. */
export function continueAdvice(runDir: string, lastCheckpointStep: number, sets: readonly string[] = []): string {
  if (lastCheckpointStep > 0)
    return `resume from the last complete checkpoint (step ${lastCheckpointStep}): ${resumeCommand(runDir, sets)}${sets.length ? IN_VS_CODE : ''}`;
  return `start the run again${sets.length ? ` with ${sets.map((s) => `--set ${s}`).join(' ')} (or the same change in the .dora.json)` : ''}: there is no complete checkpoint to resume from`;
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
  const first =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? `Free disk space${sets.length ? ` (or write less: ${sets.map((s) => `--set ${s}`).join(' ')})` : ''}`
      : code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
        ? `Make ${runDir} writable`
        : 'Check the disk';
  return `${first}, then ${continueAdvice(runDir, lastCheckpointStep, code === 'ENOSPC' || code === 'EDQUOT' ? sets : [])}.`;
}

/** The `--set`s that lower the learning rate tenfold (the NaN fix), the final rate too when it would be above it. */
export function lowerLrSettings(config: DoraConfig): string[] {
  const lr = config.training.lr / 10;
  const sets = [`training.lr=${formatNumber(lr)}`];
  if (config.training.minLr > lr) sets.push(`training.minLr=${formatNumber(config.training.minLr / 10)}`);
  return sets;
}
