/**
 * `dora cache` and `dora bench-cache`: building a video's frame cache ahead of a run (a live line with frames/s, ETA and
 * the size so far → projected; Ctrl-C stops cleanly and the next run resumes; the sizes before → after at the end), and
 * the compact cache's benchmark (one JSON line).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { progressLine, runCacheCommand } from '../data/cacheJob';
import { runCacheBench } from '../data/compactCache/bench';
import { FRAME_CACHE_FORMATS, type FrameCacheFormat } from '../data/prepareFrames';
import { intOption, stringOption, UsageError, type CommandSpec, type OptionValues } from './args';
import { CACHE_DIR, FFMPEG } from './common';

/** An integer option in [min, max]. */
function rangeOption(values: OptionValues, name: string, min: number, max: number): number | undefined {
  const n = intOption(values, name, min);
  if (n !== undefined && n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${n}")`);
  return n;
}

function oneOfOption<T extends string>(values: OptionValues, name: string, allowed: readonly T[]): T | undefined {
  const v = stringOption(values, name);
  if (v !== undefined && !allowed.includes(v as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got "${v}")`);
  return v as T | undefined;
}

const SHORT_SIDE = { type: 'string', value: 'N', help: 'short side of the cached frames in pixels (never upscaled)' } as const;
const QUALITY = { type: 'string', value: 'Q', help: "JPEG quantiser of the compact cache (ffmpeg's -q:v): 2 = best … 31" } as const;

export const cacheCommand: CommandSpec = {
  name: 'cache',
  positionals: '<config.dora.json|video>',
  arity: { min: 1, max: 1, missing: 'give one *.dora.json config or one video file' },
  summary: 'build (resume, repair) the frame cache; shows sizes before → after, frames/s and ETA',
  options: {
    'cache-dir': { ...CACHE_DIR, help: "frame-cache folder (a config's data.frameCache.dir wins; default: the user cache folder)" },
    'short-side': { ...SHORT_SIDE, help: `${SHORT_SIDE.help} (default: the config's, or 320 for a video)` },
    format: { type: 'string', value: 'F', help: `${FRAME_CACHE_FORMATS.join(', ')} (default: the config's, or jpeg for a video)` },
    quality: { ...QUALITY, help: `${QUALITY.help} (default: the config's, or 3)` },
    verify: { type: 'string', value: 'quick|full', help: 'check of an existing cache: chunk sizes and JPEG ends (quick), or every CRC' },
    hwaccel: { type: 'string', value: 'auto|none', help: "ffmpeg's hardware decoding (default auto: used where ffmpeg has it)" },
    ffmpeg: FFMPEG,
  },
  async run({ values, positionals: [target] }) {
    const options = {
      target,
      cacheRoot: stringOption(values, 'cache-dir'),
      shortSide: rangeOption(values, 'short-side', 16, 100_000),
      format: oneOfOption<FrameCacheFormat>(values, 'format', FRAME_CACHE_FORMATS),
      quality: rangeOption(values, 'quality', 2, 31),
      verify: oneOfOption(values, 'verify', ['quick', 'full'] as const),
      hwaccel: oneOfOption(values, 'hwaccel', ['auto', 'none'] as const),
      ffmpegPath: stringOption(values, 'ffmpeg'),
    };
    return buildWithTerminal(options);
  },
};

async function buildWithTerminal(options: Omit<Parameters<typeof runCacheCommand>[0], 'signal'>): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  try {
    const result = await runCacheCommand({
      ...options,
      signal: controller.signal,
      onPlan: (summary) => console.log(summary),
      log: (line) => console.log(line),
      onProgress: (p) => {
        const now = Date.now();
        if (tty) process.stderr.write(`\r\x1b[K${progressLine(p)}`);
        else if (now - lastLine >= 5000 || p.framesDone === p.totalFrames) console.log(progressLine(p));
        lastLine = now;
      },
    });
    if (tty) process.stderr.write('\n');
    console.log(result.report);
    return 0;
  } catch (e) {
    if (tty) process.stderr.write('\n');
    console.error(`dora: ${(e as Error).message}`);
    return 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

const TEST_CLIPS = ['vtest.avi', 'VID_20191220_170832.mp4', 'cockatoo.mp4', 'cityCC0.mpg'];

export const benchCacheCommand: CommandSpec = {
  name: 'bench-cache',
  positionals: '',
  arity: { min: 0, max: 0 },
  summary: 'the compact frame cache vs its anchors on a generated 4K60 video and the test clips; prints one JSON line',
  options: {
    seconds: { type: 'string', value: 'N', help: 'length of the generated 3840×2160 60 fps video (default 120)' },
    'short-side': { ...SHORT_SIDE, help: `${SHORT_SIDE.help} (default 320)` },
    quality: { ...QUALITY, help: `${QUALITY.help} (default 3)` },
    steps: { type: 'string', value: 'N', help: 'cpu-small DoRA steps timed against the batch decode (default 3)' },
    'no-clips': { type: 'boolean', help: 'skip the test clips in .cache/test-videos (scripts/fetch-test-videos.sh)' },
  },
  async run({ values }) {
    const clipDir = resolve('.cache', 'test-videos');
    const clips = values['no-clips'] ? [] : TEST_CLIPS.map((c) => join(clipDir, c)).filter((c) => existsSync(c));
    const result = await runCacheBench({
      seconds: rangeOption(values, 'seconds', 1, 36_000),
      shortSide: rangeOption(values, 'short-side', 16, 100_000),
      quality: rangeOption(values, 'quality', 2, 31),
      steps: rangeOption(values, 'steps', 1, 1000),
      videoDir: resolve('.cache', 'bench'),
      clips,
      log: (line) => console.error(`[bench-cache] ${line}`),
    });
    console.log(JSON.stringify(result));
    return 0;
  },
};
