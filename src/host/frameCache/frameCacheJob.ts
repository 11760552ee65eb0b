// "Build Frame Cache": decodes a config's video into the frame cache the engine will use, ahead of a run. The engine
// does it (a `build-frame-cache` request in its own process), so the extension host never writes frames itself.

import type { ProgressMessage } from '../../core/messages';
import type { EngineClient } from '../engine/engineClient';

export interface FrameCacheJobResult {
  cacheDir: string;
  frameCount: number;
  alreadyComplete: boolean;
  summary: string;
}

export interface FrameCacheJobProgress {
  framesDone: number;
  totalFrames: number | null;
  /** Seconds left at the current speed, when known. */
  etaSeconds?: number;
}

/** `120/795 frames, 14 s left` */
export function frameProgressText(p: FrameCacheJobProgress): string {
  return `${p.framesDone}/${p.totalFrames ?? '?'} frames${p.etaSeconds !== undefined ? `, ${Math.round(p.etaSeconds)} s left` : ''}`;
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
    } else options.onProgress?.({ framesDone: p.done, totalFrames: p.total, etaSeconds: p.eta });
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
