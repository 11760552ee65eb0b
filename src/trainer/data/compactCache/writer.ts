// Appends encoded frames to a compact cache and commits them: chunk bytes, index records and luminance are
// fsync'ed first, then index.json is replaced atomically with the new completedFrames. What an interrupted
// build wrote after its last commit is cut off by open() the next time.
import { closeSync, existsSync, fdatasyncSync, ftruncateSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { chunkFileName, chunkPath, encodeRecord, RECORDS_FILE, jpegCrc, LUMA_FILE, RECORD_BYTES, writeMetaAtomically } from './format';
import type { CompactCacheMeta, FrameRecord } from './format';
import { readRecords } from './records';

/** Test hook: called before each chunk write with its size; throwing simulates a failing disk. */
export type BeforeWrite = (bytes: number) => void;

export class CompactWriter {
  private chunkFd = -1;
  private chunk = -1;
  private chunkEnd = 0;
  private readonly indexFd: number;
  private readonly lumaFd: number;
  private pendingRecords: Buffer[] = [];
  private pendingLuma: number[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly dir: string,
    readonly meta: CompactCacheMeta,
    private readonly beforeWrite?: BeforeWrite,
  ) {
    this.indexFd = openOrCreate(join(dir, RECORDS_FILE));
    this.lumaFd = openOrCreate(join(dir, LUMA_FILE));
    const done = meta.completedFrames;
    ftruncateSync(this.indexFd, done * RECORD_BYTES);
    ftruncateSync(this.lumaFd, done * 4);
    const last = done > 0 ? readRecords(dir, done - 1, 1)[0] : null;
    removeOrphanChunks(dir, meta, last?.chunk ?? -1);
    if (last && last.offset + last.length < meta.chunkTargetBytes) this.openChunk(last.chunk, last.offset + last.length);
  }

  /** Frames appended but not yet committed. */
  get uncommitted(): number {
    return this.pendingLuma.length;
  }

  append(jpeg: Buffer, luma: number): void {
    if (this.chunkFd < 0 || (this.chunkEnd > 0 && this.chunkEnd + jpeg.length > this.meta.chunkTargetBytes)) {
      this.openChunk(this.meta.nextChunk++, 0);
    }
    this.beforeWrite?.(jpeg.length);
    writeFully(this.chunkFd, jpeg, this.chunkEnd);
    const record: FrameRecord = { chunk: this.chunk, offset: this.chunkEnd, length: jpeg.length, crc: jpegCrc(jpeg) };
    const bytes = Buffer.allocUnsafe(RECORD_BYTES);
    encodeRecord(record, bytes);
    this.pendingRecords.push(bytes);
    this.pendingLuma.push(luma);
    this.pendingBytes += jpeg.length;
    this.chunkEnd += jpeg.length;
  }

  /** Makes the appended frames durable and visible to readers (index.json last). */
  commit(complete: boolean): void {
    const done = this.meta.completedFrames;
    if (this.chunkFd >= 0) fdatasyncSync(this.chunkFd);
    if (this.pendingRecords.length > 0) {
      writeFully(this.indexFd, Buffer.concat(this.pendingRecords), done * RECORD_BYTES);
      writeFully(this.lumaFd, Buffer.from(new Float32Array(this.pendingLuma).buffer), done * 4);
      fdatasyncSync(this.indexFd);
      fdatasyncSync(this.lumaFd);
    }
    this.meta.completedFrames += this.pendingLuma.length;
    this.meta.jpegBytes += this.pendingBytes;
    this.meta.complete = complete;
    if (complete) this.meta.expectedFrames = this.meta.completedFrames;
    this.meta.updatedAt = new Date().toISOString();
    writeMetaAtomically(this.dir, this.meta);
    this.pendingRecords = [];
    this.pendingLuma = [];
    this.pendingBytes = 0;
  }

  /** Forgets uncommitted frames (after a failed write); the next open() truncates their bytes. */
  discardUncommitted(): void {
    this.pendingRecords = [];
    this.pendingLuma = [];
    this.pendingBytes = 0;
  }

  close(): void {
    if (this.chunkFd >= 0) closeSync(this.chunkFd);
    this.chunkFd = -1;
    closeSync(this.indexFd);
    closeSync(this.lumaFd);
  }

  private openChunk(chunk: number, validBytes: number): void {
    if (this.chunkFd >= 0) {
      fdatasyncSync(this.chunkFd);
      closeSync(this.chunkFd);
    }
    this.chunkFd = openOrCreate(chunkPath(this.dir, chunk));
    ftruncateSync(this.chunkFd, validBytes);
    this.chunk = chunk;
    this.chunkEnd = validBytes;
  }
}

function openOrCreate(path: string): number {
  return openSync(path, existsSync(path) ? 'r+' : 'w+');
}

export function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    const n = writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (n <= 0) throw new Error('write made no progress');
    done += n;
  }
}

/** Chunk files an interrupted build created after its last commit (numbers ≥ nextChunk, other than `keep`). */
function removeOrphanChunks(dir: string, meta: CompactCacheMeta, keep: number): void {
  for (const name of readdirSync(dir)) {
    const m = /^chunk-(\d+)\.mjpeg$/.exec(name);
    if (!m) continue;
    const n = Number(m[1]);
    if (n >= meta.nextChunk && n !== keep) rmSync(join(dir, name), { force: true });
  }
}

/** Size of a chunk file, or -1 when it is missing. */
export function chunkSize(dir: string, chunk: number): number {
  try {
    return statSync(join(dir, chunkFileName(chunk))).size;
  } catch {
    return -1;
  }
}
