/**
 * Snapshots for the UI (format in docs/run-directory.md): for a few clips of a step, the global crops as PNG, the
 * Sinkhorn assignment M* [N, k], each object's tracking map T [k, F, grid, grid] and binary mask. Written into a
 * `.partial` folder and renamed when complete, so readers never see half a snapshot.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic, type AtomicWriteOptions } from '../../core/node/atomicWrite';
import { RUN_DIR_FORMAT_VERSION, type SnapshotClip, type SnapshotManifest } from '../../core/runRecords';
import { snapshotPaths } from '../../core/node/runPaths';
import { encodePng } from '../data/png';
import type { TrackerResult } from '../dora/tracker';
import type { HostBatch } from './batch';

export interface SnapshotInput {
  runDir: string;
  step: number;
  epoch: number;
  batch: HostBatch;
  tracker: TrackerResult;
  heads: number[];
  patchSize: number;
  /** At most this many clips of the batch are kept. */
  maxClips?: number;
  /** Write here instead of the run's snapshots/step-NNNNNN (inspect mode); written via `<dir>.partial`. */
  outDir?: string;
  /** Options of the manifest's atomic write (fault-injection tests pass a file system that fails). */
  writeOptions?: AtomicWriteOptions;
}

function bytesOf(a: Float32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Rows of a [k, B, F, N] array that belong to clip b, as [k, F, N]. */
function clipSlice<T extends Float32Array | Uint8Array>(
  all: T,
  k: number,
  b: number,
  f: number,
  n: number,
  clip: number,
  make: (len: number) => T,
): T {
  const out = make(k * f * n);
  for (let o = 0; o < k; o++) out.set(all.subarray((o * b + clip) * f * n, ((o * b + clip) * f + f) * n), o * f * n);
  return out;
}

export async function writeSnapshot(input: SnapshotInput): Promise<string> {
  const { runDir, step, batch, tracker } = input;
  const paths = input.outDir ? { dir: input.outDir, tempDir: `${input.outDir}.partial` } : snapshotPaths(runDir, step);
  await rm(paths.tempDir, { recursive: true, force: true });
  await mkdir(paths.tempDir, { recursive: true });
  const { objects: k, batch: b, frames: f, patches: n } = tracker;
  const grid = Math.round(Math.sqrt(n));
  const G = batch.globalSize;
  const clips: SnapshotClip[] = [];
  const keep = Math.min(b, input.maxClips ?? 4);
  for (let c = 0; c < keep; c++) {
    const dirName = `clip-${String(c).padStart(2, '0')}`;
    await mkdir(join(paths.tempDir, dirName));
    const frames: string[] = [];
    for (let t = 0; t < f; t++) {
      const file = `${dirName}/frame-${String(t).padStart(2, '0')}.png`;
      const rgb = batch.globalRgb[c].subarray(t * G * G * 3, (t + 1) * G * G * 3);
      await writeFile(join(paths.tempDir, file), encodePng({ width: G, height: G, channels: 3, data: rgb }));
      frames.push(file);
    }
    const assignment = tracker.assignment.subarray(c * n * k, (c + 1) * n * k);
    const attention = clipSlice(tracker.attnMaps, k, b, f, n, c, (len) => new Float32Array(len));
    const masks = clipSlice(tracker.maskPatch, k, b, f, n, c, (len) => new Uint8Array(len));
    await writeFile(join(paths.tempDir, `${dirName}/assignment.f32`), bytesOf(assignment));
    await writeFile(join(paths.tempDir, `${dirName}/attention.f32`), bytesOf(attention));
    await writeFile(join(paths.tempDir, `${dirName}/masks.u8`), bytesOf(masks));
    clips.push({
      index: c,
      frameIndices: batch.clips[c].frameIndices,
      frames,
      assignment: { file: `${dirName}/assignment.f32`, dtype: 'float32', shape: [n, k] },
      attention: { file: `${dirName}/attention.f32`, dtype: 'float32', shape: [k, f, grid, grid] },
      masks: { file: `${dirName}/masks.u8`, dtype: 'uint8', shape: [k, f, grid, grid] },
    });
  }
  const manifest: SnapshotManifest = {
    formatVersion: RUN_DIR_FORMAT_VERSION,
    step,
    epoch: input.epoch,
    time: new Date().toISOString(),
    imageSize: G,
    patchSize: input.patchSize,
    grid,
    framesPerClip: f,
    heads: input.heads,
    clips,
  };
  await writeJsonAtomic(join(paths.tempDir, 'snapshot.json'), manifest, input.writeOptions);
  await rm(paths.dir, { recursive: true, force: true });
  await rename(paths.tempDir, paths.dir);
  return paths.dir;
}
