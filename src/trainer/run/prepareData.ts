/**
 * Preparing a run's data: the backend, the frame cache (one decode pass, resumable; its cost checked against the free
 * disk space first), the blank tail trimmed, and the clip sampler over the usable frames.
 */
import type { DoraConfig } from '../../core/config';
import type { TrainerMessage } from '../../core/messages';
import { initBackend, type BackendName, type BackendReport } from '../backend';
import { ClipSampler } from '../data/clips';
import { resolveFfmpeg } from '../data/ffmpeg/tools';
import { buildFrameCache } from '../data/frameCache/build';
import { FrameCacheError } from '../data/frameCache/errors';
import { detectBlankTail } from '../data/frameCache/blankTail';
import type { FrameCache, FrameSource } from '../data/frameCache/reader';
import { planFrameCache } from '../data/frameCache/plan';
import type { RunWriter } from './openRun';
import { TrainingError } from './runConfig';

export interface DataOptions {
  backend?: BackendName;
  ffmpegPath?: string;
  cacheRoot?: string;
  signal?: AbortSignal;
  emit: (message: TrainerMessage) => void;
}

/** Initialises the backend the config (or the caller) asks for and records it in run.json and trainer.log. */
export async function initRunBackend(config: DoraConfig, options: DataOptions, writer: RunWriter): Promise<BackendReport> {
  const report = await initBackend(options.backend ?? config.runtime.backend, { log: (m) => void writer.log(m) });
  writer.info.backend = report.active;
  await writer.log(`backend ${report.active}: ${report.reason}`);
  for (const a of report.attempts) if (a.outcome !== 'active') await writer.log(`  ${a.backend} ${a.outcome}: ${a.reason}`);
  return report;
}

/**
 * The frame cache of the config's video, built (or resumed) first when needed, with progress messages; undefined when
 * a stop request cancelled the build (the frames done so far are kept for next time).
 */
export async function openFrames(config: DoraConfig, options: DataOptions, writer: RunWriter): Promise<FrameCache | undefined> {
  const { emit } = options;
  emit({ type: 'progress', phase: 'frame-cache', done: 0, total: null, message: `Preparing ${config.data.video}` });
  const tools = resolveFfmpeg({ explicitPath: options.ffmpegPath });
  const plan = await planFrameCache(config.data.video, {
    shortSide: config.data.frameCache.shortSide,
    cacheRoot: config.data.frameCache.dir ?? options.cacheRoot,
    tools,
  });
  await writer.log(plan.summary);
  if (!plan.alreadyComplete && plan.freeBytes !== null && plan.freeBytes < plan.estimatedBytes - plan.completedFrames * plan.frameBytes) {
    throw new TrainingError(
      `${plan.summary}: not enough free disk space`,
      'Free disk space, lower data.frameCache.shortSide, or point data.frameCache.dir at a larger disk.',
    );
  }
  try {
    return await buildFrameCache(plan, {
      tools,
      signal: options.signal,
      onProgress: (p) =>
        emit({
          type: 'progress',
          phase: 'frame-cache',
          done: p.framesDone,
          total: p.totalFrames,
          rate: p.framesPerSecond,
          eta: Number.isFinite(p.etaSeconds) ? p.etaSeconds : undefined,
        }),
    });
  } catch (error) {
    if (error instanceof FrameCacheError && error.code === 'CANCELLED') return undefined;
    throw error;
  }
}

export interface ClipRange {
  sampler: ClipSampler;
  /** The usable frames [startFrame, endFrame) after data.startFrame, data.maxFrames and the blank tail. */
  startFrame: number;
  endFrame: number;
}

/** The clip sampler over the usable frames; a trimmed blank tail is reported as a warning. */
export async function clipRange(config: DoraConfig, cache: FrameSource, writer: RunWriter, emit: DataOptions['emit']): Promise<ClipRange> {
  let endFrame = cache.frameCount;
  if (config.data.trimBlankTail) {
    const tail = detectBlankTail(cache);
    if (tail) {
      endFrame = tail.firstBlankFrame;
      emit({ type: 'warning', message: tail.message });
      await writer.event({ type: 'warning', message: tail.message });
    }
  }
  const startFrame = Math.min(config.data.startFrame, endFrame);
  if (config.data.maxFrames !== undefined) endFrame = Math.min(endFrame, startFrame + config.data.maxFrames);
  try {
    const sampler = new ClipSampler({
      totalFrames: cache.frameCount,
      framesPerClip: config.data.framesPerClip,
      stride: config.data.stride,
      batchClips: config.training.batchClips,
      seed: config.training.seed,
      startFrame,
      endFrame,
    });
    return { sampler, startFrame, endFrame };
  } catch (e) {
    throw new TrainingError(
      `${config.data.video}: ${(e as Error).message}`,
      'Use a longer video, or lower data.stride / data.framesPerClip / training.batchClips in the config.',
    );
  }
}
