// `npm run bench:cache` (`dora bench-cache`): the compact frame cache measured side by side with its anchors in ONE
// run, printed as ONE JSON line. On a generated 4K60 video (benchVideo.ts, ≥ 2 min) and on the real test clips:
//   rawBytes / cacheBytes            RGB24 vs the compact cache (goal ≤ 1/10), psnr against ffmpeg's accurate RGB24
//                                    decode (and psnrVsRawCache against what the RGB24 cache stores);
//   buildFps / ffmpegDecodeFps       the build vs `ffmpeg -i … -vf scale=… -f null -` of the same file (goal ≥ 0.8×),
//                                    wall and CPU ratios, the anchor timed before and after the build;
//   batchDecodeSeconds / stepSeconds one cpu-small batch through the decode workers vs the cpu-small DoRA step
//                                    (goal: decode < step), and paperBatchDecodeSeconds (16 clips × 8 frames).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchStep } from '../../run/bench';
import { probeVideo } from '../ffmpeg/probe';
import { resolveFfmpeg, type FfmpegTools } from '../ffmpeg/tools';
import { buildCompactCache } from './build';
import { batchDecodeSeconds, ffmpegDecodeOnly, lumaPsnrOf, maxAbsDiff, psnrOf, referenceFrames, timed } from './benchMeasure';
import { ensureBenchVideo } from './benchVideo';
import { planCompactCache } from './plan';
import { openCompactCache } from './reader';

export interface CacheBenchOptions {
  seconds?: number;
  shortSide?: number;
  quality?: number;
  /** Folder of the generated video (kept between runs). */
  videoDir: string;
  /** Real clips to measure too. */
  clips?: string[];
  ffmpegPath?: string;
  /** cpu-small steps timed for stepSeconds. */
  steps?: number;
  log?: (line: string) => void;
}

const TOUR_FRAMES = 2 * 3600 * 60; // a 2 h tour at 60 fps
/** Rounded; an infinite PSNR (identical pixels) becomes the string "identical" (JSON has no Infinity). */
const round = (x: number, digits = 3): number => (Number.isFinite(x) ? +x.toFixed(digits) : x);
const db = (x: number): number | 'identical' => (x === Infinity ? 'identical' : round(x, 2));

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

/** Builds the cache of one video next to its anchor decodes; returns sizes, speeds and PSNR. */
async function measureVideo(tools: FfmpegTools, video: string, options: CacheBenchOptions, cacheRoot: string, psnrFrames: number) {
  const log = options.log ?? (() => undefined);
  const plan = await planCompactCache(video, { cacheRoot, tools, shortSide: options.shortSide ?? 320, quality: options.quality });
  const { width, height } = plan;
  log(`${video}: ffmpeg decode + scale to ${width}×${height} (anchor, before the build)`);
  const before = await timed(() => ffmpegDecodeOnly(tools, video, width, height));
  log(`${video}: building the compact cache`);
  const build = await timed(() => buildCompactCache(plan, { tools, removeStaleCaches: false }));
  log(`${video}: ffmpeg decode + scale again (anchor, after the build)`);
  const afterRun = await timed(() => ffmpegDecodeOnly(tools, video, width, height));
  const frames = build.result.meta.completedFrames;
  const anchorSeconds = (before.seconds + afterRun.seconds) / 2;
  const anchorCpu = before.cpuSeconds !== null && afterRun.cpuSeconds !== null ? (before.cpuSeconds + afterRun.cpuSeconds) / 2 : null;
  const cacheBytes = dirBytes(plan.cacheDir);
  const rawBytes = frames * width * height * 3;
  const source = await openCompactCache(plan.cacheDir, { workers: 0 });
  const step = Math.max(1, Math.floor(Math.min(frames, psnrFrames * 20) / psnrFrames));
  const indices = Array.from({ length: Math.min(psnrFrames, Math.ceil(frames / step)) }, (_, i) => i * step);
  const cached = indices.map((i) => source.readFrame(i));
  const accurate = await referenceFrames(tools, video, indices, width, height, 'accurate');
  const raw = await referenceFrames(tools, video, indices, width, height, 'default');
  source.close();
  return {
    plan,
    frames,
    width,
    height,
    rawBytes,
    cacheBytes,
    sizeRatio: round(rawBytes / cacheBytes, 2),
    bytesPerFrame: Math.round(cacheBytes / frames),
    buildSeconds: round(build.seconds, 2),
    buildFps: round(frames / build.seconds, 2),
    ffmpegDecodeFps: round(before.result / anchorSeconds, 2),
    ffmpegDecodeFpsBeforeAfter: [round(before.result / before.seconds, 2), round(afterRun.result / afterRun.seconds, 2)],
    buildSpeedRatio: round(anchorSeconds / build.seconds),
    buildCpuRatio: anchorCpu !== null && build.cpuSeconds ? round(anchorCpu / build.cpuSeconds) : null,
    psnr: db(psnrOf(cached, accurate)),
    psnrLuma: db(lumaPsnrOf(cached, accurate)),
    psnrVsRawCache: db(psnrOf(cached, raw)),
    rawCacheVsAccuratePsnr: db(psnrOf(raw, accurate)),
    psnrFrames: indices.length,
  };
}

/** Node (worker pool) and calling-thread decodes of the same frames: the pixel difference must be 0. */
async function decoderAgreement(cacheDir: string, frames: number[]): Promise<number> {
  const pooled = await openCompactCache(cacheDir);
  const sync = await openCompactCache(cacheDir, { workers: 0 });
  try {
    await pooled.ready!(frames);
    return maxAbsDiff(pooled.readFrames(frames), sync.readFrames(frames));
  } finally {
    pooled.close();
    sync.close();
  }
}

export async function runCacheBench(options: CacheBenchOptions): Promise<Record<string, unknown>> {
  const tools = resolveFfmpeg({ explicitPath: options.ffmpegPath });
  const log = options.log ?? (() => undefined);
  const seconds = options.seconds ?? 120;
  const video = await ensureBenchVideo(tools, options.videoDir, seconds, log);
  const probe = await probeVideo(video, tools);
  const cacheRoot = mkdtempSync(join(tmpdir(), 'dora-bench-cache-'));
  const load = loadavg()[0];
  try {
    const main = await measureVideo(tools, video, options, cacheRoot, 60);
    log('decoding batches through the worker pool');
    const source = await openCompactCache(main.plan.cacheDir);
    const cpuSmall = { batchClips: 2, framesPerClip: 4, stride: 30 };
    const batch = await batchDecodeSeconds(source, cpuSmall, 7);
    const paper = await batchDecodeSeconds(source, { batchClips: 16, framesPerClip: 8, stride: 60 }, 5);
    source.close();
    const agreement = await decoderAgreement(main.plan.cacheDir, [0, 1, 2, main.frames - 1]);
    log('timing the cpu-small DoRA step (wasm)');
    const step = await benchStep({ config: 'cpu-small', steps: options.steps ?? 3 });
    const clips = [];
    for (const clip of options.clips ?? []) {
      const m = await measureVideo(tools, clip, options, cacheRoot, 40);
      const { plan: _plan, ...rest } = m;
      clips.push({ clip: clip.split('/').at(-1), ...rest });
    }
    const { plan: _plan, ...measured } = main;
    const projected = (main.cacheBytes / main.frames) * TOUR_FRAMES;
    return {
      bench: 'frame-cache',
      machine: {
        cores: availableParallelism(),
        loadAvg1mStart: round(load, 1),
        loadAvg1mEnd: round(loadavg()[0], 1),
        note: 'shared machine: speeds are ratios against anchors timed in the same run',
      },
      video: { seconds, width: probe.width, height: probe.height, fps: probe.fps, codec: probe.codec, bytes: statSync(video).size },
      ...measured,
      projected2h4k60Bytes: Math.round(projected),
      batchDecodeSeconds: round(batch, 4),
      batchDecodeShape: 'cpu-small: 2 clips × 4 frames, read from this cache (larger frames than its 128 px cache)',
      stepSeconds: step.secPerStepMedian,
      stepBackend: step.backend,
      paperBatchDecodeSeconds: round(paper, 4),
      workerVsThreadMaxAbsDiff: agreement,
      clips,
      goals: {
        sizeAtMostTenthOfRaw: main.rawBytes / main.cacheBytes >= 10,
        twoHourTourUnder25GB: projected <= 25e9,
        // CPU seconds per frame, build vs anchor: what a shared machine cannot distort (wall ratio listed next to it).
        buildAtLeast08xFfmpegCpu: main.buildCpuRatio !== null && main.buildCpuRatio >= 0.8,
        buildAtLeast08xFfmpegWall: main.buildSpeedRatio >= 0.8,
        batchDecodeFasterThanStep: batch < step.secPerStepMedian,
      },
    };
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
}
