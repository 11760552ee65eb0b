// On-disk layout of the compact (JPEG) frame cache. Both engines read it: the Python reader
// (python/dora_studio/data/compact_cache.py) follows this file and docs/frame-cache.md.
//
//   <cacheRoot>/<video-name>-j<hash>/
//     index.json          metadata ("format": "jpeg") + completedFrames + complete; replaced atomically (temp file +
//                         fsync + rename). The raw RGB24 cache has an index.json too, with "format": "rgb24": readers
//                         (../frameCache/layout.ts, python/dora_studio/data/frame_cache.py) dispatch on that field.
//     frames.idx          16 bytes per frame, little-endian uint32: chunk, offset, length, crc32 (of the JPEG bytes)
//     chunk-00000.mjpeg   JPEG files back to back, as ffmpeg's mjpeg encoder wrote them (ffplay can play a chunk)
//     luma.f32            mean luminance per frame (float32 LE, 0..255), for blank-tail detection
//     damaged.json        chunks a reader found corrupt (a CRC mismatch); the next build re-builds them
//     build.lock          present while a builder runs (holds its pid)
// Records and luminance past index.json's completedFrames are garbage from an interrupted build: readers ignore
// them and the builder truncates them. Chunk, record and luminance bytes are fsync'ed before index.json says so.
import { crc32 } from 'node:zlib';
import { closeSync, fdatasyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VideoProbe } from '../ffmpeg/probe';

/** Bump when the layout changes: it is part of the cache key, so older caches are not used. */
export const COMPACT_CACHE_VERSION = 1;
export const COMPACT_CACHE_KIND = 'dora-compact-frames';
export const META_FILE = 'index.json';
export const RECORDS_FILE = 'frames.idx';
export const LUMA_FILE = 'luma.f32';
export const DAMAGED_FILE = 'damaged.json';
export const LOCK_FILE = 'build.lock';
export const RECORD_BYTES = 16;
/** ffmpeg's mjpeg quantiser scale (2 = best … 31 = worst); 3 measured ≥ 10× smaller than RGB24 on the test clips. */
export const DEFAULT_JPEG_QUALITY = 3;
export const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

export interface SourceIdentity {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface CompactCacheMeta {
  kind: typeof COMPACT_CACHE_KIND;
  version: number;
  format: 'jpeg';
  source: SourceIdentity;
  settings: { shortSide: number; quality: number; chroma: '420'; scaleFilter: string };
  width: number;
  height: number;
  fps: number;
  /** Frame count reported by the probe; the real count once `complete`. */
  expectedFrames: number;
  completedFrames: number;
  complete: boolean;
  /** Chunk files are never reused: a re-built chunk gets the next number. */
  nextChunk: number;
  chunkTargetBytes: number;
  /** Sum of the JPEG lengths of the completed frames. */
  jpegBytes: number;
  probe: VideoProbe;
  /** `ffmpeg -version` first line: JPEG bytes are only reproducible with the same encoder. */
  encoder: string;
  createdAt: string;
  updatedAt: string;
}

export interface FrameRecord {
  chunk: number;
  offset: number;
  length: number;
  crc: number;
}

export function chunkFileName(chunk: number): string {
  return `chunk-${String(chunk).padStart(5, '0')}.mjpeg`;
}

export function chunkPath(dir: string, chunk: number): string {
  return join(dir, chunkFileName(chunk));
}

export function jpegCrc(bytes: Uint8Array): number {
  return crc32(bytes) >>> 0;
}

export function encodeRecord(record: FrameRecord, target: Buffer, offset = 0): void {
  target.writeUInt32LE(record.chunk, offset);
  target.writeUInt32LE(record.offset, offset + 4);
  target.writeUInt32LE(record.length, offset + 8);
  target.writeUInt32LE(record.crc >>> 0, offset + 12);
}

export function decodeRecord(source: Uint8Array, frame: number): FrameRecord {
  const view = new DataView(source.buffer, source.byteOffset + frame * RECORD_BYTES, RECORD_BYTES);
  return {
    chunk: view.getUint32(0, true),
    offset: view.getUint32(4, true),
    length: view.getUint32(8, true),
    crc: view.getUint32(12, true),
  };
}

/** SOI at the start, EOI at the end: the cheap structural check of one JPEG. */
export function looksLikeWholeJpeg(bytes: Uint8Array): boolean {
  const n = bytes.length;
  return n >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[n - 2] === 0xff && bytes[n - 1] === 0xd9;
}

/** index.json of a compact cache of this layout version, or null (absent, unreadable or another layout). */
export function readMeta(dir: string): CompactCacheMeta | null {
  try {
    const meta = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as CompactCacheMeta;
    return meta.kind === COMPACT_CACHE_KIND && meta.version === COMPACT_CACHE_VERSION ? meta : null;
  } catch {
    return null;
  }
}

/** Temp file + fdatasync + rename: a reader sees the old or the new index.json, never a mix. */
export function writeMetaAtomically(dir: string, meta: CompactCacheMeta): void {
  const target = join(dir, META_FILE);
  const tmp = join(dir, `.${META_FILE}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, JSON.stringify(meta, null, 1));
    const fd = openSync(tmp, 'r+');
    try {
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Chunks that readers reported corrupt (damaged.json), ascending. */
export function readDamagedChunks(dir: string): number[] {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, DAMAGED_FILE), 'utf8')) as { chunks?: unknown };
    const chunks = Array.isArray(parsed.chunks) ? parsed.chunks : [];
    return [...new Set(chunks.filter((c): c is number => Number.isInteger(c) && c >= 0))].sort((a, b) => a - b);
  } catch {
    return [];
  }
}

/** Records a corrupt chunk for the next build; best effort (a read-only cache folder only loses the hint). */
export function reportDamagedChunk(dir: string, chunk: number): void {
  try {
    const chunks = [...new Set([...readDamagedChunks(dir), chunk])];
    const tmp = join(dir, `.${DAMAGED_FILE}.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify({ chunks }));
    renameSync(tmp, join(dir, DAMAGED_FILE));
  } catch {
    /* the reader's error message still names the chunk */
  }
}

export function clearDamagedChunks(dir: string): void {
  rmSync(join(dir, DAMAGED_FILE), { force: true });
}

/** Thrown by readers and the verifier: names the cache, the frame, the chunk and the fix. */
export class CompactCacheCorruptError extends Error {
  constructor(
    readonly dir: string,
    readonly frame: number,
    readonly chunk: number,
    cause: string,
  ) {
    super(
      `Frame ${frame} of the frame cache in "${dir}" is corrupt (${cause}; chunk ${chunkFileName(chunk)}). ` +
        'Fix: run "DoRA: Build Frame Cache" (CLI: dora cache <config>) or start the run again: the chunk is re-built from the video.',
    );
    this.name = 'CompactCacheCorruptError';
  }
}
