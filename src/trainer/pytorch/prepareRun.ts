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
import { loadConfigFile } from '../../core/node/configFile';
import { runPaths } from '../../core/node/runPaths';
import { ensureFrameCache } from '../run/ensureFrameCache';
import { loadRunConfig, TrainingError } from '../run/runConfig';

export interface PrepareRunOptions {
  runDir: string;
  /** The *.dora.json of a new run. */
  configPath?: string;
  /** Resuming: the run's own config.json is read, not rewritten. */
  resume?: boolean;
  ffmpegPath?: string;
  cacheRoot?: string;
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
  let config: DoraConfig;
  if (options.resume) config = await loadRunConfig(runDir);
  else {
    if (!options.configPath)
      throw new TrainingError('no config file given', 'Pass a *.dora.json file (create one with `dora init <preset>`).');
    config = await loadConfigFile(resolve(options.configPath));
    await writeJsonAtomic(runPaths(runDir).config, config);
  }
  const cache = await ensureFrameCache(config.data.video, config.data.frameCache.shortSide, {
    cacheRoot: config.data.frameCache.dir ?? options.cacheRoot,
    ffmpegPath: options.ffmpegPath,
    signal: options.signal,
    emit: options.emit,
  });
  return { config, runDir, frameCacheDir: cache.cacheDir, frameCount: cache.frameCount };
}
