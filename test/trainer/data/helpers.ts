// Shared fixtures for the data tests: ffmpeg, the real test videos (fetched from Debian packages by
// scripts/fetch-test-videos.sh into .cache/test-videos) and temporary folders.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeFrames } from '../../../src/trainer/data/ffmpeg/decode';
import { resolveFfmpeg, type FfmpegTools } from '../../../src/trainer/data/ffmpeg/tools';

export const repoRoot = resolve(__dirname, '..', '..', '..');

/** ffmpeg tools, or a skip reason. On CI a missing ffmpeg is a failure, not a skip. */
export function ffmpegOrSkip(): { tools: FfmpegTools | null; skip: string | false } {
  try {
    return { tools: resolveFfmpeg(), skip: false };
  } catch (err) {
    if (process.env.CI) throw err;
    return { tools: null, skip: `ffmpeg is not installed (apt-get install ffmpeg): ${(err as Error).message}` };
  }
}

export interface TestVideos {
  vtest: string;
  phoneMp4: string;
}

let fetched: TestVideos | string | null = null;

/** Runs the fetch script once per process; returns the paths, or a skip reason when apt is unavailable. */
export function testVideosOrSkip(): { videos: TestVideos | null; skip: string | false } {
  if (fetched === null) {
    const dir = join(repoRoot, '.cache', 'test-videos');
    const result = spawnSync('bash', [join(repoRoot, 'scripts', 'fetch-test-videos.sh'), dir], { encoding: 'utf8' });
    const videos = { vtest: join(dir, 'vtest.avi'), phoneMp4: join(dir, 'VID_20191220_170832.mp4') };
    fetched =
      result.status === 0 && existsSync(videos.vtest) && existsSync(videos.phoneMp4)
        ? videos
        : `test videos unavailable (scripts/fetch-test-videos.sh failed: ${(result.stderr || result.error?.message || '').trim()})`;
    if (typeof fetched === 'string' && process.env.CI) throw new Error(fetched);
  }
  return typeof fetched === 'string' ? { videos: null, skip: fetched } : { videos: fetched, skip: false };
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function makeTempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `dora-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Decodes the given frame indices straight from the video with ffmpeg's select filter, independently
 * of the cache code, for comparison. Returns frames in ascending index order.
 */
export async function decodeSelectedFrames(
  tools: FfmpegTools,
  file: string,
  indices: number[],
  width: number,
  height: number,
  scale: string,
): Promise<Map<number, Buffer>> {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const select = `select='${sorted.map((i) => `eq(n\\,${i})`).join('+')}'`;
  const frames = new Map<number, Buffer>();
  let k = 0;
  for await (const frame of decodeFrames(tools, file, { width, height, videoFilter: `${select},${scale}` })) {
    frames.set(sorted[k++], Buffer.from(frame));
  }
  return frames;
}

/** Small deterministic PRNG for picking "random" frames reproducibly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}
