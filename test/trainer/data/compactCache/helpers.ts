// Shared by the compact-cache tests: an independent ffmpeg encode of chosen frames (no product code), and PSNR.
import { spawnSync } from 'node:child_process';
import type { FfmpegTools } from '../../../../src/trainer/data/ffmpeg/tools';

/** The JPEG ffmpeg's mjpeg encoder makes of frame `index` at width×height (select, area scale, 4:2:0, qscale). */
export function referenceJpeg(tools: FfmpegTools, file: string, index: number, width: number, height: number, quality = 3): Buffer {
  const r = spawnSync(
    tools.ffmpeg,
    [
      ...['-v', 'error', '-i', file, '-vf', `select=eq(n\\,${index}),scale=${width}:${height}:flags=area,format=yuvj420p`],
      ...['-frames:v', '1', '-c:v', 'mjpeg', '-q:v', String(quality), '-f', 'image2pipe', 'pipe:1'],
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return r.stdout;
}

export function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / a.length));
}
