// Shared helpers for the training tests: a tiny synthetic video, tiny configs, and the CLI.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateSyntheticVideo } from '../../src/trainer/data/syntheticVideo';

export const repoRoot = resolve(__dirname, '..', '..');
export const CLI = join(repoRoot, 'dist', 'cli.js');

let tinyVideo: Promise<string> | undefined;

/** A 4 s, 160×96, 15 fps synthetic walking tour (60 frames), generated once per test process. */
export function tinySyntheticVideo(dir: string): Promise<string> {
  tinyVideo ??= (async () => {
    mkdirSync(dir, { recursive: true });
    const files = await generateSyntheticVideo(join(dir, 'tiny-tour'), { durationSeconds: 4, width: 160, height: 96, fps: 15, seed: 7 });
    return files.video;
  })();
  return tinyVideo;
}

/** A config small enough for a few steps per second on either backend. */
export function tinyConfig(video: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base = {
    preset: 'demo',
    name: 'tiny',
    model: { arch: 'custom', embedDim: 24, depth: 2, numHeads: 3, patchSize: 8, head: { outDim: 64, hiddenDim: 32, bottleneckDim: 16 } },
    data: {
      video,
      framesPerClip: 2,
      stride: 3,
      precropSize: 48,
      globalSize: 32,
      localSize: 16,
      localCrops: 2,
      frameCache: { shortSide: 64 },
      maxFrames: 40,
    },
    training: { epochs: 1, batchClips: 2, lr: 0.001, warmupEpochs: 0, freezeLastLayer: 0 },
    runtime: { backend: 'cpu', logEvery: 1, snapshotEvery: 3, checkpointEvery: 3, keepCheckpoints: 10, runsDir: 'runs' },
  };
  return merge(base, overrides);
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && a[k] && typeof a[k] === 'object'
        ? merge(a[k] as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export function writeConfig(dir: string, name: string, config: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.dora.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export function runCli(args: string[], timeoutMs = 300_000) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

export function readJsonl(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
