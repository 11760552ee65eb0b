// The training run's frames: the cache format the config asks for (data.frameCache.format), built or resumed with
// progress messages (frames/s, ETA, size so far → projected) and opened as a FrameSource.
import type { DoraConfig } from '../../core/config';
import type { TrainerMessage } from '../../core/messages';
import type { FfmpegTools } from '../data/ffmpeg';
import { formatBytes } from '../data/frameCache';
import { prepareFrames, type PreparedFrames } from '../data/prepareFrames';

export async function prepareTrainingFrames(
  config: DoraConfig,
  tools: FfmpegTools,
  options: { cacheRoot?: string; signal?: AbortSignal },
  emit: (message: TrainerMessage) => void,
  log: (line: string) => Promise<void>,
): Promise<PreparedFrames> {
  const lines: string[] = [];
  const prepared = await prepareFrames(config.data.video, {
    format: config.data.frameCache.format,
    shortSide: config.data.frameCache.shortSide,
    quality: config.data.frameCache.quality,
    cacheRoot: config.data.frameCache.dir ?? options.cacheRoot,
    tools,
    signal: options.signal,
    onPlan: (summary) => lines.push(summary),
    log: (line) => lines.push(line),
    onProgress: (p) =>
      emit({
        type: 'progress',
        phase: 'frame-cache',
        done: p.framesDone,
        total: p.totalFrames,
        rate: p.framesPerSecond,
        eta: Number.isFinite(p.etaSeconds) ? p.etaSeconds : undefined,
        message:
          p.phase === 'repair'
            ? 're-building corrupt chunks'
            : `${formatBytes(p.cacheBytes)} so far, ≈ ${formatBytes(p.projectedBytes)} in all (RGB24: ${formatBytes(p.rawBytes)})`,
      }),
  });
  for (const line of lines) await log(line);
  await log(
    `frames: ${prepared.format} cache, ${prepared.source.frameCount} frames, ${formatBytes(prepared.cacheBytes)} in ${prepared.cacheDir}`,
  );
  return prepared;
}
