// The TypeScript side of the compact-cache tests (python/tests/test_compact_cache.py): builds a compact JPEG cache
// with the TF.js engine's own code and answers with its folder and the Node decoder's pixels of the asked frames.
// Request on stdin: {"video": …, "cacheRoot": …, "shortSide": N, "indices": [...]}.
import { readFileSync } from 'node:fs';
import { buildCompactCache } from '../../../src/trainer/data/compactCache/build';
import { openCompactCache } from '../../../src/trainer/data/compactCache/reader';

async function main(): Promise<void> {
  const request = JSON.parse(readFileSync(0, 'utf8')) as { video: string; cacheRoot: string; shortSide: number; indices: number[] };
  const { plan, meta } = await buildCompactCache(request.video, {
    cacheRoot: request.cacheRoot,
    shortSide: request.shortSide,
    chunkBytes: 64 * 1024,
  });
  const source = await openCompactCache(plan.cacheDir, { workers: 1 });
  await source.ready!(request.indices);
  const frames = Buffer.from(source.readFrames(request.indices)).toString('base64');
  source.close();
  process.stdout.write(JSON.stringify({ dir: plan.cacheDir, frameCount: meta.completedFrames, width: meta.width, height: meta.height, frames }));
}

void main();
