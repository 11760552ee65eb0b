// Measurements for `npm run bench:cache`: ffmpeg's own decode + scale (the anchor), a timed build, PSNR of cached
// frames against ffmpeg's RGB24 decodes, and batch decode times through the worker pool. Wall times on a shared
// machine are noisy, so CPU seconds (this process + its waited-for children, from /proc/self/stat) come along.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ClipSampler } from '../clips';
import { decodeFrames } from '../ffmpeg/decode';
import type { FfmpegTools } from '../ffmpeg/tools';
import type { FrameSource } from '../frameCache/reader';

export interface Timed {
  seconds: number;
  /** CPU seconds of this process and the child processes that finished meanwhile; null off Linux. */
  cpuSeconds: number | null;
}

function childCpuSeconds(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime + cstime, in USER_HZ (100 on Linux)
  } catch {
    return null;
  }
}

function cpuNow(): number | null {
  const children = childCpuSeconds();
  const self = process.cpuUsage();
  return children === null ? null : children + (self.user + self.system) / 1e6;
}

export async function timed<T>(work: () => Promise<T>): Promise<{ result: T } & Timed> {
  const cpu0 = cpuNow();
  const t0 = process.hrtime.bigint();
  const result = await work();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = cpuNow();
  return { result, seconds, cpuSeconds: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0 };
}

/** `ffmpeg -i V -vf scale=W:H:flags=area -f null -`: returns the frame count ffmpeg reports. */
export async function ffmpegDecodeOnly(tools: FfmpegTools, video: string, width: number, height: number): Promise<number> {
  const args = ['-hide_banner', '-nostdin', '-i', video, '-map', '0:v:0', '-vf', `scale=${width}:${height}:flags=area`, '-f', 'null', '-'];
  return new Promise((resolve, reject) => {
    const child = spawn(tools.ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.once('error', reject);
    child.once('close', (code) => {
      const frames = [...stderr.matchAll(/frame=\s*(\d+)/g)].at(-1);
      if (code !== 0 || !frames) reject(new Error(`ffmpeg decode failed (${code}): ${stderr.slice(-500)}`));
      else resolve(Number(frames[1]));
    });
  });
}

/** RGB24 frames of the given indices straight from ffmpeg: 'accurate' (full chroma, exact rounding) or 'default' swscale. */
export async function referenceFrames(
  tools: FfmpegTools,
  video: string,
  indices: number[],
  width: number,
  height: number,
  flags: 'accurate' | 'default',
): Promise<Buffer[]> {
  const select = `select='${indices.map((i) => `eq(n\\,${i})`).join('+')}'`;
  const scale = `scale=${width}:${height}:flags=${flags === 'accurate' ? 'area+accurate_rnd+full_chroma_int' : 'area'}`;
  const out: Buffer[] = [];
  for await (const frame of decodeFrames(tools, video, { width, height, videoFilter: `${select},${scale}`, maxFrames: indices.length }))
    out.push(Buffer.from(frame));
  return out;
}

/** PSNR (dB) of the RGB bytes of `frames` against `reference`, over all pixels of all frames. */
export function psnrOf(frames: Uint8Array[], reference: Uint8Array[]): number {
  let se = 0;
  let n = 0;
  frames.forEach((a, k) => {
    const b = reference[k];
    for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
    n += a.length;
  });
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / n));
}

/** PSNR (dB) of BT.601 luma (0.299 R + 0.587 G + 0.114 B): what 4:2:0 chroma subsampling does not touch. */
export function lumaPsnrOf(frames: Uint8Array[], reference: Uint8Array[]): number {
  const luma = (f: Uint8Array) => {
    const y = new Float64Array(f.length / 3);
    for (let i = 0, p = 0; i < y.length; i++, p += 3) y[i] = 0.299 * f[p] + 0.587 * f[p + 1] + 0.114 * f[p + 2];
    return y;
  };
  let se = 0;
  let n = 0;
  frames.forEach((a, k) => {
    const ya = luma(a);
    const yb = luma(reference[k]);
    for (let i = 0; i < ya.length; i++) se += (ya[i] - yb[i]) ** 2;
    n += ya.length;
  });
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / n));
}

/** Largest absolute difference of two equally long byte arrays. */
export function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

export interface BatchShape {
  batchClips: number;
  framesPerClip: number;
  stride: number;
}

/**
 * Median seconds to get one batch's frames decoded through the source's worker pool, each batch cold (frames of
 * batches never read before), for `batches` batches of the shape's clip order (seed 0, epoch 0).
 */
export async function batchDecodeSeconds(source: FrameSource, shape: BatchShape, batches: number): Promise<number> {
  // A video too short for the shape's stride (a quick run) gets the longest stride that fits.
  const stride = Math.max(1, Math.min(shape.stride, Math.floor((source.frameCount - shape.batchClips - 1) / shape.framesPerClip)));
  const sampler = new ClipSampler({ totalFrames: source.frameCount, ...shape, stride, seed: 0 });
  const times: number[] = [];
  for (let step = 0; step < Math.min(batches, sampler.stepsPerEpoch); step++) {
    const frames = sampler.batch(0, step).flatMap((c) => c.frameIndices);
    const t0 = process.hrtime.bigint();
    await source.ready!(frames);
    source.readFrames(frames);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
