/**
 * Preparing a run's data: the backend, the frame cache (data.frameCache.format: compact JPEG or raw RGB24; one decode
 * pass, resumable; its cost checked against the free disk space), the blank tail trimmed, and the clip sampler over the
 * usable frames.
 */
import type { DoraConfig } from '../../core/config';
import type { TrainerMessage } from '../../core/messages';
import { initBackend, type BackendName, type BackendReport } from '../backend';
import { ClipSampler } from '../data/clips';
import { resolveFfmpeg } from '../data/ffmpeg/tools';
import { FrameCacheError } from '../data/frameCache/errors';
import { detectBlankTail } from '../data/frameCache/blankTail';
import { formatBytes } from '../data/frameCache/layout';
import type { FrameSource } from '../data/frameCache/reader';
import { frameCacheProgressMessage } from '../data/cacheJob';
import { frameCacheSettings, prepareFrames } from '../data/prepareFrames';
import { videoIntegrityWarnings, type IntegrityIndex } from '../data/videoIntegrity';
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
 * The frames of the config's video (see buildFrames), and what the decode revealed about the file (truncated, variable
 * frame rate) reported: a message, an event and the log.
 */
export async function openFrames(config: DoraConfig, options: DataOptions, writer: RunWriter): Promise<FrameSource | undefined> {
  const source = await buildFrames(config, options, writer);
  for (const warning of source ? videoIntegrityWarnings(integrityIndexOf(source)) : []) {
    options.emit({ type: 'warning', message: warning });
    await writer.event({ type: 'warning', message: warning });
    await writer.log(`warning: ${warning}`);
  }
  return source;
}

/** The index of a raw cache or the metadata of a compact one: both carry the probe and the frames decoded. */
function integrityIndexOf(source: FrameSource): IntegrityIndex {
  const cache = source as FrameSource & { index?: IntegrityIndex; meta?: IntegrityIndex };
  return (
    cache.index ??
    cache.meta ?? {
      probe: {
        file: source.sourcePath,
        frameCount: source.frameCount,
        frameCountSource: 'estimated',
        constantFrameRate: true,
        fps: source.fps,
      },
      completedFrames: source.frameCount,
      complete: true,
    }
  );
}

/**
 * The frames of the config's video, from the cache format `data.frameCache.format` selects (prepareFrames: the compact
 * JPEG cache or raw RGB24), built (or resumed, or repaired) first when needed, with progress messages that carry the
 * sizes (so far → projected, and what RGB24 would take); undefined when a stop request cancelled the build (the frames
 * done so far are kept for next time).
 */
async function buildFrames(config: DoraConfig, options: DataOptions, writer: RunWriter): Promise<FrameSource | undefined> {
  const { emit } = options;
  emit({ type: 'progress', phase: 'frame-cache', done: 0, total: null, message: `Preparing ${config.data.video}` });
  const lines: string[] = [];
  try {
    const prepared = await prepareFrames(config.data.video, {
      ...frameCacheSettings(config, options.cacheRoot),
      tools: resolveFfmpeg({ explicitPath: options.ffmpegPath }),
      signal: options.signal,
      onPlan: (summary) => lines.push(summary),
      log: (line) => lines.push(line),
      onProgress: (p) => emit(frameCacheProgressMessage(p)),
    });
    for (const line of lines) await writer.log(line);
    const { source } = prepared;
    const size = formatBytes(prepared.cacheBytes);
    await writer.log(`frames: ${prepared.format} cache, ${source.frameCount} frames, ${size} in ${prepared.cacheDir}`);
    return source;
  } catch (error) {
    for (const line of lines) await writer.log(line);
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
