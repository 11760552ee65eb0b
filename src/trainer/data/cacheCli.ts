// `dora cache <config.dora.json | video>`: builds (resumes, repairs) the frame cache ahead of a run and shows the size
// before and after, throughput and ETA. The same code backs the "DoRA: Build Frame Cache" command.
import { loadConfigFile } from '../../core/config';
import type { HwAccel } from './compactCache/encoder';
import { resolveFfmpeg } from './ffmpeg';
import { formatBytes } from './frameCache';
import { prepareFrames, type FrameBuildProgress, type FrameCacheFormat, type PreparedFrames } from './prepareFrames';

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

async function settingsOf(options: CacheCommandOptions) {
  if (!options.target.endsWith('.dora.json')) {
    return { video: options.target, shortSide: options.shortSide ?? 320, format: options.format ?? 'jpeg', quality: options.quality };
  }
  const config = await loadConfigFile(options.target);
  const fc = config.data.frameCache;
  return {
    video: config.data.video,
    shortSide: options.shortSide ?? fc.shortSide,
    format: options.format ?? fc.format,
    quality: options.quality ?? fc.quality,
    dir: fc.dir,
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
    cacheRoot: ('dir' in settings ? settings.dir : undefined) ?? options.cacheRoot,
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

/** One status line: "1234/5000 frames (24.7%) · 31.2 frames/s · ETA 2:01 · 40 MB → ≈ 160 MB (RGB24 2.7 GB)". */
export function progressLine(p: FrameBuildProgress): string {
  const pct = p.totalFrames > 0 ? ((100 * p.framesDone) / p.totalFrames).toFixed(1) : '?';
  const eta = Number.isFinite(p.etaSeconds) ? formatDuration(p.etaSeconds) : '…';
  if (p.phase === 'repair') return `re-building corrupt chunks: ${p.framesDone}/${p.totalFrames} frames`;
  return (
    `${p.framesDone}/${p.totalFrames} frames (${pct}%) · ${p.framesPerSecond.toFixed(1)} frames/s · ETA ${eta} · ` +
    `${formatBytes(p.cacheBytes)} → ≈ ${formatBytes(p.projectedBytes)} (RGB24 ${formatBytes(p.rawBytes)})`
  );
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
