// Finds corrupt chunks (missing or short files, broken SOI/EOI, CRC mismatches, chunks readers reported) and
// re-builds each from the video into a NEW chunk file: its JPEGs are fsync'ed before the index points at them,
// and the old file is deleted last, so a kill at any point leaves a cache that the next build repairs again.
import { closeSync, fdatasyncSync, fstatSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FfmpegTools } from '../ffmpeg/tools';
import { VideoError } from '../ffmpeg/videoError';
import { FrameCacheError } from '../frameCache/errors';
import type { HwAccel } from './encoder';
import {
  chunkFileName,
  chunkPath,
  clearDamagedChunks,
  decodeRecord,
  encodeRecord,
  RECORDS_FILE,
  jpegCrc,
  looksLikeWholeJpeg,
  LUMA_FILE,
  readDamagedChunks,
  RECORD_BYTES,
  writeMetaAtomically,
  type CompactCacheMeta,
  type FrameRecord,
} from './format';
import { readFully, readIndexBytes } from './records';
import { startEncoderAt } from './source';
import { writeFully } from './writer';

export interface RepairOptions {
  tools: FfmpegTools;
  hwaccel: HwAccel;
  verify: 'quick' | 'full';
  signal?: AbortSignal;
  log?: (line: string) => void;
  onProgress?: (framesDone: number, framesTotal: number) => void;
}

interface ChunkSpan {
  chunk: number;
  first: number;
  last: number;
}

/** Chunks of the committed frames, in frame order. */
function chunkSpans(records: Buffer, frames: number): ChunkSpan[] {
  const spans: ChunkSpan[] = [];
  for (let f = 0; f < frames; f++) {
    const chunk = records.readUInt32LE(f * RECORD_BYTES);
    const span = spans.at(-1);
    if (span && span.chunk === chunk) span.last = f;
    else spans.push({ chunk, first: f, last: f });
  }
  return spans;
}

/** Why a chunk is unusable, or null. 'quick' checks the file size and SOI/EOI of every frame; 'full' adds the CRC. */
export function checkChunk(dir: string, records: Buffer, span: ChunkSpan, mode: 'quick' | 'full'): string | null {
  let fd: number;
  try {
    fd = openSync(chunkPath(dir, span.chunk), 'r');
  } catch {
    return 'the file is missing';
  }
  try {
    const size = fstatSync(fd).size;
    const whole = mode === 'full' ? Buffer.allocUnsafe(size) : null;
    if (whole && readFully(fd, whole, 0) !== size) return 'the file could not be read';
    const ends = Buffer.alloc(4);
    for (let f = span.first; f <= span.last; f++) {
      const r = decodeRecord(records, f);
      if (r.offset + r.length > size || r.length < 4) return `the file ends before frame ${f}`;
      if (whole) {
        const jpeg = whole.subarray(r.offset, r.offset + r.length);
        if (!looksLikeWholeJpeg(jpeg)) return `frame ${f} is not a whole JPEG`;
        if (jpegCrc(jpeg) !== r.crc) return `frame ${f} fails its CRC check`;
      } else {
        readFully(fd, ends.subarray(0, 2), r.offset);
        readFully(fd, ends.subarray(2, 4), r.offset + r.length - 2);
        if (ends[0] !== 0xff || ends[1] !== 0xd8 || ends[2] !== 0xff || ends[3] !== 0xd9) return `frame ${f} is not a whole JPEG`;
      }
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Damaged chunks with the reason, ascending. */
export function findDamagedChunks(dir: string, meta: CompactCacheMeta, mode: 'quick' | 'full'): Map<number, string> {
  const frames = meta.completedFrames;
  const damaged = new Map<number, string>();
  if (frames === 0) return damaged;
  const records = readIndexBytes(dir, 0, frames);
  const reported = new Set(readDamagedChunks(dir));
  for (const span of chunkSpans(records, frames)) {
    const reason = reported.has(span.chunk) ? 'a reader found a CRC mismatch' : checkChunk(dir, records, span, mode);
    if (reason) damaged.set(span.chunk, reason);
  }
  return damaged;
}

/** Re-builds every damaged chunk; returns their numbers. */
export async function repairCompactCache(dir: string, meta: CompactCacheMeta, options: RepairOptions): Promise<number[]> {
  if (meta.completedFrames === 0) return [];
  const damaged = findDamagedChunks(dir, meta, options.verify);
  if (damaged.size === 0) {
    clearDamagedChunks(dir);
    return [];
  }
  const records = readIndexBytes(dir, 0, meta.completedFrames);
  const spans = chunkSpans(records, meta.completedFrames).filter((s) => damaged.has(s.chunk));
  const total = spans.reduce((n, s) => n + s.last - s.first + 1, 0);
  let done = 0;
  for (const span of spans) {
    options.log?.(`frame cache: re-building ${chunkFileName(span.chunk)} (frames ${span.first}–${span.last}): ${damaged.get(span.chunk)}`);
    const trusted = (f: number) => f < meta.completedFrames && !damaged.has(records.readUInt32LE(f * RECORD_BYTES));
    await rebuildSpan(dir, meta, span, trusted, options, (n) => options.onProgress?.(done + n, total));
    done += span.last - span.first + 1;
  }
  clearDamagedChunks(dir);
  return spans.map((s) => s.chunk);
}

async function rebuildSpan(
  dir: string,
  meta: CompactCacheMeta,
  span: ChunkSpan,
  trusted: (frame: number) => boolean,
  options: RepairOptions,
  onFrames: (n: number) => void,
): Promise<void> {
  const count = span.last - span.first + 1;
  const chunk = meta.nextChunk;
  const started = await startEncoderAt(
    {
      ...meta.probe,
      tools: options.tools,
      videoPath: meta.source.path,
      width: meta.width,
      height: meta.height,
      quality: meta.settings.quality,
      hwaccel: options.hwaccel,
      signal: options.signal,
      cacheDir: dir,
      trustedFrames: trusted,
    },
    span.first,
  );
  const records = Buffer.alloc(count * RECORD_BYTES);
  const luma = new Float32Array(count);
  const fd = openSync(chunkPath(dir, chunk), 'w');
  let n = 0;
  let offset = 0;
  try {
    for await (const frame of started.frames) {
      if (options.signal?.aborted)
        throw new FrameCacheError('CANCELLED', `Re-building ${chunkFileName(span.chunk)} in ${dir} was cancelled.`);
      writeFully(fd, frame.jpeg, offset);
      const record: FrameRecord = { chunk, offset, length: frame.jpeg.length, crc: jpegCrc(frame.jpeg) };
      encodeRecord(record, records, n * RECORD_BYTES);
      luma[n] = frame.luma;
      offset += frame.jpeg.length;
      onFrames(++n);
      if (n === count) break;
    }
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (n !== count) {
    rmSync(chunkPath(dir, chunk), { force: true });
    throw new VideoError('FFMPEG_FAILED', `Re-building frames ${span.first}–${span.last} of ${dir}: ffmpeg returned only ${n} frames.`);
  }
  commitSpan(dir, meta, span, records, luma, chunk);
}

function commitSpan(dir: string, meta: CompactCacheMeta, span: ChunkSpan, records: Buffer, luma: Float32Array, chunk: number): void {
  const old = readIndexBytes(dir, span.first, span.last - span.first + 1);
  const oldBytes = sumLengths(old);
  for (const [file, bytes, position] of [
    [RECORDS_FILE, records, span.first * RECORD_BYTES],
    [LUMA_FILE, Buffer.from(luma.buffer), span.first * 4],
  ] as const) {
    const fd = openSync(join(dir, file), 'r+');
    try {
      writeFully(fd, bytes, position);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  meta.nextChunk = chunk + 1;
  meta.jpegBytes += sumLengths(records) - oldBytes;
  meta.updatedAt = new Date().toISOString();
  writeMetaAtomically(dir, meta);
  rmSync(chunkPath(dir, span.chunk), { force: true });
}

function sumLengths(records: Buffer): number {
  let sum = 0;
  for (let i = 0; i < records.length; i += RECORD_BYTES) sum += records.readUInt32LE(i + 8);
  return sum;
}
