// The `dora cache` command line: flags → runCacheCommand, a live progress line (frames/s, ETA, size so far →
// projected), Ctrl-C stops cleanly (the next run resumes), and the before → after sizes at the end.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCacheBench } from './data/compactCache/bench';
import { runCacheCommand } from './data/cacheCli';
import { progressLine } from './data/cacheCli';
import { FRAME_CACHE_FORMATS, type FrameCacheFormat } from './data/prepareFrames';

export const CACHE_USAGE = `  bench-cache [--seconds 120] [--short-side 320] [--quality 3] [--steps 3] [--no-clips]
                                                      the compact frame cache vs its anchors on a generated 4K60 video and
                                                      the test clips (.cache/test-videos); prints one JSON line
  cache <config.dora.json|video> [--cache-dir D] [--short-side N] [--format jpeg|rgb24|auto] [--quality 2..31]
        [--verify full] [--hwaccel auto|none] [--ffmpeg PATH]
                                                      build (resume, repair) the frame cache; shows sizes, frames/s and ETA`;

type Flags = Map<string, string | true>;

function value(flags: Flags, name: string): string | undefined {
  const v = flags.get(name);
  if (v === true) throw new Error(`--${name} needs a value`);
  return v;
}

function intValue(flags: Flags, name: string, min: number, max: number): number | undefined {
  const v = value(flags, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max} (got "${v}")`);
  return n;
}

function oneOf<T extends string>(flags: Flags, name: string, values: readonly T[]): T | undefined {
  const v = value(flags, name);
  if (v !== undefined && !values.includes(v as T)) throw new Error(`--${name} must be one of ${values.join(', ')} (got "${v}")`);
  return v as T | undefined;
}

export async function cacheCommand(positional: string[], flags: Flags): Promise<number> {
  let options;
  try {
    if (positional.length !== 1) throw new Error('cache: give one *.dora.json config or one video file');
    options = {
      target: positional[0],
      cacheRoot: value(flags, 'cache-dir'),
      shortSide: intValue(flags, 'short-side', 16, 100_000),
      format: oneOf<FrameCacheFormat>(flags, 'format', FRAME_CACHE_FORMATS),
      quality: intValue(flags, 'quality', 2, 31),
      verify: oneOf(flags, 'verify', ['quick', 'full'] as const),
      hwaccel: oneOf(flags, 'hwaccel', ['auto', 'none'] as const),
      ffmpegPath: value(flags, 'ffmpeg'),
    };
  } catch (e) {
    console.error(`dora: ${(e as Error).message}\nusage:\n${CACHE_USAGE}`);
    return 2;
  }
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

/** `dora bench-cache`: progress on stderr, ONE JSON line on stdout. */
export async function benchCacheCommand(flags: Flags): Promise<number> {
  try {
    const clipDir = resolve('.cache', 'test-videos');
    const clips = flags.has('no-clips') ? [] : TEST_CLIPS.map((c) => join(clipDir, c)).filter((c) => existsSync(c));
    const result = await runCacheBench({
      seconds: intValue(flags, 'seconds', 1, 36_000),
      shortSide: intValue(flags, 'short-side', 16, 100_000),
      quality: intValue(flags, 'quality', 2, 31),
      steps: intValue(flags, 'steps', 1, 1000),
      videoDir: resolve('.cache', 'bench'),
      clips,
      log: (line) => console.error(`[bench-cache] ${line}`),
    });
    console.log(JSON.stringify(result));
    return 0;
  } catch (e) {
    console.error(`dora: ${(e as Error).message}`);
    return 1;
  }
}
