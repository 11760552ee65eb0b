// Building a frame cache ahead of a run: builds (resumes, repairs) the cache of a config's video (or of a video file) in
// the format the config asks for, and says the size before and after, throughput and ETA. Backs `dora cache`
// (cli/cacheCommands.ts) and the engine's `build-frame-cache` request ("DoRA: Build Frame Cache").
import { loadConfigFile } from '../../core/node/configFile';
import type { HwAccel } from './compactCache/encoder';
import { resolveFfmpeg } from './ffmpeg/tools';
import { formatBytes } from './frameCache/layout';
import type { ProgressMessage } from '../../core/messages';
import {
  frameCacheSettings,
  prepareFrames,
  type FrameBuildProgress,
  type FrameCacheFormat,
  type FrameCacheSettings,
  type PreparedFrames,
} from './prepareFrames';

export interface CacheCommandOptions {
  /** A *.dora.json config (its data section gives video, short side, format, quality, dir) or a video file. */
  target: string;
  shortSide?: number;
  format?: FrameCacheFormat;
  quality?: number;
  /** --cache-dir / the dora.cacheFolder setting; a config's data.frameCache.dir wins. */
  cacheRoot?: string;
  ffmpegPath?: string;
  verify?: 'quick' | 'full';
  hwaccel?: HwAccel;
  signal?: AbortSignal;
  onPlan?: (summary: string) => void;
  onProgress?: (progress: FrameBuildProgress) => void;
  log?: (line: string) => void;
}

export interface CacheCommandResult {
  prepared: PreparedFrames;
  video: string;
  seconds: number;
  /** Frames encoded in this call per second (0 when the cache was already complete). */
  framesPerSecond: number;
  /** "before → after" for the user. */
  report: string;
}

async function settingsOf(options: CacheCommandOptions): Promise<FrameCacheSettings & { video: string }> {
  if (!options.target.endsWith('.dora.json')) {
    const { shortSide = 320, format = 'jpeg', quality, cacheRoot } = options;
    return { video: options.target, shortSide, format, quality, cacheRoot };
  }
  const config = await loadConfigFile(options.target);
  const fromConfig = frameCacheSettings(config, options.cacheRoot);
  return {
    video: config.data.video,
    shortSide: options.shortSide ?? fromConfig.shortSide,
    format: options.format ?? fromConfig.format,
    quality: options.quality ?? fromConfig.quality,
    cacheRoot: fromConfig.cacheRoot,
  };
}

export async function runCacheCommand(options: CacheCommandOptions): Promise<CacheCommandResult> {
  const settings = await settingsOf(options);
  const tools = resolveFfmpeg({ explicitPath: options.ffmpegPath || undefined });
  const started = Date.now();
  let encoded = 0;
  let first = -1;
  const prepared = await prepareFrames(settings.video, {
    ...settings,
    tools,
    signal: options.signal,
    verify: options.verify,
    hwaccel: options.hwaccel,
    workers: 0,
    onPlan: options.onPlan,
    log: options.log,
    onProgress: (p) => {
      if (p.phase === 'encode') {
        if (first < 0) first = p.framesDone;
        encoded = p.framesDone - first;
      }
      options.onProgress?.(p);
    },
  });
  prepared.source.close();
  const seconds = (Date.now() - started) / 1000;
  const fps = encoded > 0 && seconds > 0 ? encoded / seconds : 0;
  const ratio = prepared.cacheBytes > 0 ? prepared.rawBytes / prepared.cacheBytes : 1;
  const report =
    `${prepared.alreadyComplete ? 'Frame cache already complete' : 'Frame cache built'}: ${prepared.source.frameCount} frames ` +
    `at ${prepared.source.width}×${prepared.source.height} (${prepared.format}), ${formatBytes(prepared.cacheBytes)}` +
    (prepared.format === 'jpeg' ? ` — RGB24 would take ${formatBytes(prepared.rawBytes)} (${ratio.toFixed(1)}× smaller)` : '') +
    (fps > 0 ? `; ${fps.toFixed(1)} frames/s` : '') +
    ` — ${prepared.cacheDir}`;
  return { prepared, video: settings.video, seconds, framesPerSecond: fps, report };
}

/** The sizes part of a progress line: "40 MB → ≈ 160 MB (RGB24 2.7 GB)", or what a repair is doing. */
export function progressSizes(p: FrameBuildProgress): string {
  if (p.phase === 'repair') return 're-building corrupt chunks';
  return `${formatBytes(p.cacheBytes)} → ≈ ${formatBytes(p.projectedBytes)} (RGB24 ${formatBytes(p.rawBytes)})`;
}

/** One status line: "1234/5000 frames (24.7%) · 31.2 frames/s · ETA 2:01 · 40 MB → ≈ 160 MB (RGB24 2.7 GB)". */
export function progressLine(p: FrameBuildProgress): string {
  const pct = p.totalFrames > 0 ? ((100 * p.framesDone) / p.totalFrames).toFixed(1) : '?';
  const eta = Number.isFinite(p.etaSeconds) ? formatDuration(p.etaSeconds) : '…';
  if (p.phase === 'repair') return `${progressSizes(p)}: ${p.framesDone}/${p.totalFrames} frames`;
  return `${p.framesDone}/${p.totalFrames} frames (${pct}%) · ${p.framesPerSecond.toFixed(1)} frames/s · ETA ${eta} · ${progressSizes(p)}`;
}

/** The engine's progress message of a cache build (a run's, or Build Frame Cache's): counts, speed, ETA, sizes as text. */
export function frameCacheProgressMessage(p: FrameBuildProgress): ProgressMessage {
  return {
    type: 'progress',
    phase: 'frame-cache',
    done: p.framesDone,
    total: p.totalFrames,
    rate: p.framesPerSecond,
    eta: Number.isFinite(p.etaSeconds) ? p.etaSeconds : undefined,
    message: progressSizes(p),
  };
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
