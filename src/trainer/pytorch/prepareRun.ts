/**
 * The Node front door's part of a PyTorch run (BRIEF contract 3): the engine reads only `<run>/config.json` and the
 * frame cache, so before it starts a new run folder gets its resolved config.json (the TS resolver, absolute paths;
 * a resumed run keeps its own) and the video's frame cache is built. Used by `dora train --engine pytorch` and by the
 * `prepare-run` request of the TF.js engine's process (the extension's PyTorch runs).
 */
import { resolve } from 'node:path';
import type { DoraConfig } from '../../core/config';
import type { TrainerMessage } from '../../core/messages';
import { writeJsonAtomic } from '../../core/node/atomicWrite';
import { readRunLockState, RunLockedError } from '../../core/node/runLock';
import { runPaths } from '../../core/node/runPaths';
import { frameCacheSettings } from '../data/prepareFrames';
import { ensureFrameCache } from '../run/ensureFrameCache';
import { loadRunConfigWith, readConfigFile, resolveWithOverrides, TrainingError } from '../run/runConfig';

export interface PrepareRunOptions {
  runDir: string;
  /** The *.dora.json of a new run. */
  configPath?: string;
  /** Resuming: the run's own config.json is read, not rewritten. */
  resume?: boolean;
  ffmpegPath?: string;
  cacheRoot?: string;
  /** `--set key=value` overrides (runConfig.ts): on a new run applied before config.json is written; on resume they
   *  rewrite config.json (refused while another trainer holds the run). */
  overrides?: readonly string[];
  signal?: AbortSignal;
  emit: (message: TrainerMessage) => void;
}

export interface PreparedRun {
  config: DoraConfig;
  runDir: string;
  frameCacheDir: string;
  frameCount: number;
}

export async function prepareRun(options: PrepareRunOptions): Promise<PreparedRun> {
  const runDir = resolve(options.runDir);
  const config = await preparedConfig(runDir, options);
  const cache = await ensureFrameCache(config.data.video, frameCacheSettings(config, options.cacheRoot), {
    ffmpegPath: options.ffmpegPath,
    signal: options.signal,
    emit: options.emit,
  });
  return { config, runDir, frameCacheDir: cache.cacheDir, frameCount: cache.frameCount };
}

/** The run's config: a new run's is written to config.json; a resume's is rewritten only when overrides changed it. */
async function preparedConfig(runDir: string, options: PrepareRunOptions): Promise<DoraConfig> {
  const overrides = options.overrides ?? [];
  if (options.resume) {
    const { config, changes } = await loadRunConfigWith(runDir, overrides);
    if (changes.length > 0) {
      const lock = await readRunLockState(runDir);
      if (lock.state === 'live') {
        const locked = new RunLockedError(runDir, lock.lock);
        throw new TrainingError(locked.message, locked.fix);
      }
      await writeJsonAtomic(runPaths(runDir).config, config);
    }
    return config;
  }
  if (!options.configPath)
    throw new TrainingError('no config file given', 'Pass a *.dora.json file (create one with `dora init <preset>`).');
  const file = resolve(options.configPath);
  const { config } = resolveWithOverrides(await readConfigFile(file), file, overrides, { resume: false });
  await writeJsonAtomic(runPaths(runDir).config, config);
  return config;
}
