// Child process for the kill-and-resume test: builds a compact cache and prints each committed frame count, so the
// parent can SIGKILL it mid-build. Usage: node --import tsx buildChild.ts <video> <cacheRoot> <chunkBytes>
import { buildCompactCache } from '../../../../src/trainer/data/compactCache/build';

const [video, cacheRoot, chunkBytes] = process.argv.slice(2);
void buildCompactCache(video, {
  cacheRoot,
  chunkBytes: Number(chunkBytes),
  flushIntervalMs: 0,
  progressIntervalMs: 0,
  onProgress: (p) => console.log(`frames ${p.framesDone}`),
}).then(() => console.log('done'));
