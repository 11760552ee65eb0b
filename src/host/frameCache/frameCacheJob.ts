// "Build Frame Cache": decodes a config's video into the frame cache the engine will use, ahead of a run (the format
// data.frameCache.format selects: compact JPEG or raw RGB24). The engine does it (a `build-frame-cache` request in its
// own process), so the extension host never encodes, decodes or writes a frame itself.

import type { ProgressMessage } from '../../core/messages';
import type { EngineClient } from '../engine/engineClient';

export interface FrameCacheJobResult {
  cacheDir: string;
  frameCount: number;
  alreadyComplete: boolean;
  /** The engine's report: frames, format, sizes before → after, frames/s, folder. */
  summary: string;
}

export interface FrameCacheJobProgress {
  framesDone: number;
  totalFrames: number | null;
  /** Seconds left at the current speed, when known. */
  etaSeconds?: number;
  /** Frames per second, when known. */
  framesPerSecond?: number;
  /** The engine's text: the size so far → projected and RGB24's (or what a repair does). */
  sizes?: string;
}

/** `120/795 frames · 31.2 frames/s · 14 s left · 40 MB → ≈ 160 MB (RGB24 2.7 GB)` */
export function frameProgressText(p: FrameCacheJobProgress): string {
  return [
    `${p.framesDone}/${p.totalFrames ?? '?'} frames`,
    p.framesPerSecond ? `${p.framesPerSecond.toFixed(1)} frames/s` : '',
    p.etaSeconds !== undefined ? `${Math.round(p.etaSeconds)} s left` : '',
    p.sizes ?? '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/** Thrown when the build did not complete: `cancelled` after the signal, else the engine's error. */
export class FrameCacheJobError extends Error {
  constructor(
    message: string,
    readonly cancelled: boolean,
  ) {
    super(message);
    this.name = 'FrameCacheJobError';
  }
}

export async function buildFrameCacheForConfig(
  engines: EngineClient,
  configFile: string,
  options: {
    ffmpegPath?: string;
    cacheRoot?: string;
    signal?: AbortSignal;
    log?: (line: string) => void;
    onPlan?: (summary: string) => void;
    onProgress?: (p: FrameCacheJobProgress) => void;
  },
): Promise<FrameCacheJobResult> {
  let planned = false;
  const onProgress = (p: ProgressMessage) => {
    if (!planned && p.message) {
      planned = true;
      options.onPlan?.(p.message);
    } else options.onProgress?.({ framesDone: p.done, totalFrames: p.total, etaSeconds: p.eta, framesPerSecond: p.rate, sizes: p.message });
  };
  const outcome = await engines.buildFrameCache(
    { configPath: configFile, ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}), cacheRoot: options.cacheRoot },
    { signal: options.signal, log: options.log, onProgress },
  );
  if (outcome.reason === 'completed' && outcome.ready) return outcome.ready;
  const cancelled = outcome.reason === 'stopped';
  throw new FrameCacheJobError(
    cancelled ? 'frame caching cancelled' : (outcome.error ?? 'the engine ended without a frame cache'),
    cancelled,
  );
}
