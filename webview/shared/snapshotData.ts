// Loads one clip of a snapshot (or inspection) payload: the PNG frames as ImageBitmaps and the raw
// little-endian arrays as typed views, with their shapes checked against the manifest, because a
// wrong-sized array would otherwise draw garbage instead of failing visibly.

import type { BinaryArrayRef, SnapshotManifest } from '../../src/core/runRecords';
import type { SnapshotPayload } from '../../src/core/webviewMessages';

export interface ClipData {
  /** Position of the clip in manifest.clips. */
  position: number;
  /** Source-video frame numbers. */
  frameIndices: number[];
  frames: ImageBitmap[];
  /** [N, k] */
  assignment: Float32Array;
  /** [k, F, grid, grid] */
  attention: Float32Array;
  /** [k, F, grid, grid], 0/1 */
  masks: Uint8Array;
  objects: number;
  frameCount: number;
  grid: number;
  patchSize: number;
  imageSize: number;
  /** Teacher head used as each object's query. */
  heads: number[];
}

const cache = new Map<string, Promise<unknown>>();
const CACHE_LIMIT = 256;

export function cached<T>(uri: string, load: () => Promise<T>): Promise<T> {
  const hit = cache.get(uri);
  if (hit) return hit as Promise<T>;
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  const promise = load();
  cache.set(uri, promise);
  promise.catch(() => cache.delete(uri)); // let a later attempt retry
  return promise;
}

function uriFor(payload: SnapshotPayload, file: string): string {
  const uri = payload.uris[file];
  if (!uri) throw new Error(`no URI for ${file} in the snapshot payload`);
  return uri;
}

export async function fetchBytes(uri: string): Promise<ArrayBuffer> {
  const response = await fetch(uri);
  if (!response.ok) throw new Error(`${response.status} ${response.statusText} for ${uri}`);
  return response.arrayBuffer();
}

async function loadArray(
  payload: SnapshotPayload,
  ref: BinaryArrayRef,
  expectedShape: number[],
  name: string,
): Promise<Float32Array | Uint8Array> {
  if (ref.shape.length !== expectedShape.length || ref.shape.some((n, i) => n !== expectedShape[i])) {
    throw new Error(`${name}: shape [${ref.shape}] does not match [${expectedShape}] from the manifest`);
  }
  const buffer = await cached(uriFor(payload, ref.file), () => fetchBytes(uriFor(payload, ref.file)));
  const count = expectedShape.reduce((a, b) => a * b, 1);
  const bytesPer = ref.dtype === 'float32' ? 4 : 1;
  if (buffer.byteLength !== count * bytesPer) throw new Error(`${name}: ${buffer.byteLength} bytes, expected ${count * bytesPer}`);
  return ref.dtype === 'float32' ? new Float32Array(buffer) : new Uint8Array(buffer);
}

/** Decodes a PNG without tainting canvases: fetched bytes → ImageBitmap; falls back to <img> decoding. */
export function loadFrame(uri: string): Promise<ImageBitmap> {
  return cached(uri, async () => {
    try {
      return await createImageBitmap(await (await fetch(uri)).blob());
    } catch {
      const image = new Image();
      image.src = uri;
      await image.decode();
      return createImageBitmap(image);
    }
  });
}

export function clipCount(manifest: SnapshotManifest): number {
  return manifest.clips.length;
}

export async function loadClip(payload: SnapshotPayload, position: number): Promise<ClipData> {
  const { manifest } = payload;
  const clip = manifest.clips[position];
  if (!clip) throw new Error(`the snapshot has no clip ${position}`);
  const grid = manifest.grid;
  const objects = clip.assignment.shape[1] ?? manifest.heads.length;
  const frameCount = clip.frames.length;
  const [assignment, attention, masks, frames] = await Promise.all([
    loadArray(payload, clip.assignment, [grid * grid, objects], 'assignment'),
    loadArray(payload, clip.attention, [objects, frameCount, grid, grid], 'attention'),
    loadArray(payload, clip.masks, [objects, frameCount, grid, grid], 'masks'),
    Promise.all(clip.frames.map((file) => loadFrame(uriFor(payload, file)))),
  ]);
  return {
    position,
    frameIndices: clip.frameIndices,
    frames,
    assignment: assignment as Float32Array,
    attention: attention as Float32Array,
    masks: masks as Uint8Array,
    objects,
    frameCount,
    grid,
    patchSize: manifest.patchSize,
    imageSize: manifest.imageSize,
    heads: manifest.heads,
  };
}

/** Value of the assignment M*[patch, object]. */
export function assignmentAt(clip: ClipData, patch: number, object: number): number {
  return clip.assignment[patch * clip.objects + object];
}

/** Offset of the [grid, grid] slice for (object, frame) in attention/masks. */
export function sliceOffset(clip: ClipData, object: number, frame: number): number {
  return (object * clip.frameCount + frame) * clip.grid * clip.grid;
}
