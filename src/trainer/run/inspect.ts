/**
 * Inspect mode (no training): runs the teacher and the tracker of one or more checkpoints on the SAME frames (one clip,
 * deterministic centre crops) and writes each result in the snapshot format (docs/run-directory.md), so the compare
 * panel can show the checkpoints' tracked masks and attention side by side with one scrubber.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { DoraConfig } from '../../core/config';
import { writeJsonAtomic } from '../../core/node/atomicWrite';
import { initBackend, type BackendName } from '../backend';
import { clipFrameIndices } from '../data/clips';
import { resolveFfmpeg, type FfmpegTools } from '../data/ffmpeg/tools';
import { cacheRootForRunVideo } from '../data/frameCache/runCacheRoot';
import { frameCacheSettings, prepareFrames } from '../data/prepareFrames';
import { createDoraState, disposeDoraState } from '../dora/model';
import { OFFICIAL_SINKHORN } from '../dora/sinkhorn';
import { runTracker } from '../dora/tracker';
import { disposeTeacherPass, framesFirst, teacherPass } from '../dora/step/teacherPass';
import { BatchBuilder, type HostBatch } from './batch';
import { loadCheckpoint } from './checkpoint';
import { loadRunConfig, modelConfigOf, TrainingError } from './runConfig';
import { runDirOfCheckpoint } from '../../core/node/runPaths';
import { writeSnapshot } from './snapshot';

export interface InspectOptions {
  checkpoints: string[];
  outDir: string;
  /** Video to take the frames from; default: the first checkpoint's training video. */
  video?: string;
  /** First frame of the clip; default: the middle of the video. */
  clipStart?: number;
  backend?: BackendName;
  ffmpegPath?: string;
  cacheRoot?: string;
  /** Cancels between checkpoints. */
  signal?: AbortSignal;
  /** Called after each checkpoint with the number done. */
  onCheckpoint?: (done: number) => void;
}

export interface InspectResult {
  checkpoint: string;
  label: string;
  step: number;
  dir: string;
}

export async function inspectCheckpoints(options: InspectOptions): Promise<InspectResult[]> {
  if (options.checkpoints.length === 0)
    throw new TrainingError('inspect: no checkpoint given', 'Pass one or more checkpoint sidecars (checkpoints/step-NNNNNN.json).');
  const configs = await Promise.all(options.checkpoints.map((c) => loadRunConfig(runDirOfCheckpoint(c))));
  await initBackend(options.backend ?? 'wasm');
  const video = resolve(options.video ?? configs[0].data.video);
  const tools = resolveFfmpeg({ explicitPath: options.ffmpegPath });
  const results: InspectResult[] = [];
  await mkdir(options.outDir, { recursive: true });
  for (let i = 0; i < options.checkpoints.length; i++) {
    options.signal?.throwIfAborted();
    const config = configs[i];
    const sidecarPath = resolve(options.checkpoints[i]);
    const batch = await inspectedClip(video, config, options, tools);
    const state = createDoraState(modelConfigOf(config), () => 0.5);
    try {
      const sidecar = await loadCheckpoint(sidecarPath, state);
      const heads = Array.from({ length: Math.min(config.dora.objects, config.model.numHeads) }, (_, h) => h);
      const global = tf.tensor(batch.global, [1, batch.frames, 3, batch.globalSize, batch.globalSize]);
      const globalFF = framesFirst(global);
      const teacher = teacherPass(state, globalFF);
      const tracker = await runTracker({ ...teacher, heads, sinkhorn: config.dora.sinkhorn ?? OFFICIAL_SINKHORN });
      tf.dispose([global, globalFF]);
      disposeTeacherPass(teacher);
      const label = `${basename(runDirOfCheckpoint(sidecarPath))}-step-${sidecar.step}`;
      const dir = join(options.outDir, label);
      await writeSnapshot({
        runDir: runDirOfCheckpoint(sidecarPath),
        step: sidecar.step,
        epoch: sidecar.epoch,
        batch,
        tracker,
        heads,
        patchSize: config.model.patchSize,
        outDir: dir,
      });
      results.push({ checkpoint: sidecarPath, label, step: sidecar.step, dir });
      options.onCheckpoint?.(results.length);
    } finally {
      disposeDoraState(state);
    }
  }
  await writeJsonAtomic(join(options.outDir, 'inspect.json'), { video, results });
  return results;
}

/** The one clip inspect shows, read from the cache this run's config selects (compact JPEG or raw RGB24). */
async function inspectedClip(video: string, config: DoraConfig, options: InspectOptions, tools: FfmpegTools): Promise<HostBatch> {
  const settings = frameCacheSettings(config, options.cacheRoot);
  // config.json is from a run folder: its frameCache.dir is used only when reading it suffices (runCacheRoot.ts).
  const cacheRoot = cacheRootForRunVideo(video, settings.shortSide, config.data.frameCache.dir, options.cacheRoot, settings.quality);
  const { source: cache } = await prepareFrames(video, { ...settings, cacheRoot, tools, workers: 0 });
  try {
    const span = (config.data.framesPerClip - 1) * config.data.stride;
    const start = Math.max(0, Math.min(options.clipStart ?? Math.floor((cache.frameCount - span) / 2), cache.frameCount - 1 - span));
    if (start < 0 || start + span >= cache.frameCount)
      throw new TrainingError(
        `${video}: too short for one clip of ${config.data.framesPerClip} frames ${config.data.stride} apart`,
        'Inspect on a longer video.',
      );
    const clip = { start, frameIndices: clipFrameIndices(start, config.data.framesPerClip, config.data.stride) };
    return new BatchBuilder(cache, config.data, config.training.seed).build([clip], 0, { augment: false });
  } finally {
    cache.close();
  }
}
