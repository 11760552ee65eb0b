// Random access to a compact cache: any frame is one positioned read of its JPEG (frames.idx gives chunk, offset,
// length) and one decode, independent of every other frame. prefetch() decodes in worker threads (decodePool.ts)
// into a bounded store of decoded frames; a frame that is not there is decoded on the calling thread.
// Every JPEG is CRC-checked; a mismatch is reported to damaged.json (the next build re-builds the chunk) and
// thrown as CompactCacheCorruptError.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameSource } from '../frameCache/reader';
import { FrameCacheError } from '../frameCache/errors';
import { DecodePool, FrameDecodeError, type DecodeJob } from './decodePool';
import {
  chunkPath,
  CompactCacheCorruptError,
  decodeRecord,
  jpegCrc,
  looksLikeWholeJpeg,
  LUMA_FILE,
  readMeta,
  reportDamagedChunk,
  type CompactCacheMeta,
} from './format';
import { decodeJpegInto, initJpegDecoder } from './jpegDecoder';
import { readFully, readIndexBytes } from './records';

export interface OpenCompactCacheOptions {
  /** Decode worker threads (default: half the cores, 1–4). 0: decode on the calling thread only. */
  workers?: number;
  /** Bound of the decoded-frame store (default 768 MB). */
  maxDecodedBytes?: number;
}

export interface CompactFrameSource extends FrameSource {
  readonly kind: 'jpeg';
  readonly dir: string;
  /** All frames are cached (else the frames finished so far are readable). */
  readonly complete: boolean;
  readonly meta: CompactCacheMeta;
  readonly frameBytes: number;
  /** The stored JPEG of a frame, CRC-checked. */
  readJpeg(frame: number): Buffer;
}

export async function openCompactCache(dir: string, options: OpenCompactCacheOptions = {}): Promise<CompactFrameSource> {
  const meta = readMeta(dir);
  if (!meta) {
    throw new FrameCacheError(
      'NO_CACHE',
      `No compact frame cache in "${dir}" (missing or outdated index.json). Fix: build it with "dora cache".`,
    );
  }
  await initJpegDecoder();
  return new CompactReader(dir, meta, options);
}

class CompactReader implements CompactFrameSource {
  readonly kind = 'jpeg' as const;
  readonly frameCount: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly complete: boolean;
  readonly sourcePath: string;
  readonly frameBytes: number;
  private readonly records: Buffer;
  private readonly fds = new Map<number, number>();
  private readonly decoded = new Map<number, Uint8Array>();
  private readonly inflight = new Map<number, Promise<void>>();
  private readonly failed = new Map<number, Error>();
  private readonly maxDecoded: number;
  private readonly workers: number;
  private pool: DecodePool | null = null;
  private closed = false;

  constructor(
    readonly dir: string,
    readonly meta: CompactCacheMeta,
    options: OpenCompactCacheOptions,
  ) {
    this.frameCount = meta.completedFrames;
    this.width = meta.width;
    this.height = meta.height;
    this.fps = meta.fps;
    this.complete = meta.complete;
    this.sourcePath = meta.source.path;
    this.frameBytes = meta.width * meta.height * 3;
    this.records = this.frameCount > 0 ? readIndexBytes(dir, 0, this.frameCount) : Buffer.alloc(0);
    this.maxDecoded = Math.max(16, Math.floor((options.maxDecodedBytes ?? 768 * 1024 * 1024) / this.frameBytes));
    this.workers = options.workers ?? -1;
  }

  private check(frame: number): void {
    if (this.closed) throw new Error(`Frame cache ${this.dir} is closed`);
    if (!Number.isInteger(frame) || frame < 0 || frame >= this.frameCount)
      throw new RangeError(`Frame ${frame} is outside the cache of "${this.sourcePath}" (0..${this.frameCount - 1})`);
  }

  private corrupt(frame: number, chunk: number, cause: string): CompactCacheCorruptError {
    reportDamagedChunk(this.dir, chunk);
    return new CompactCacheCorruptError(this.dir, frame, chunk, cause);
  }

  readJpeg(frame: number): Buffer {
    this.check(frame);
    const r = decodeRecord(this.records, frame);
    let fd = this.fds.get(r.chunk);
    if (fd === undefined) {
      try {
        fd = openSync(chunkPath(this.dir, r.chunk), 'r');
      } catch {
        throw this.corrupt(frame, r.chunk, 'its chunk file is missing');
      }
      this.fds.set(r.chunk, fd);
    }
    const bytes = Buffer.allocUnsafe(r.length);
    if (readFully(fd, bytes, r.offset) !== r.length) throw this.corrupt(frame, r.chunk, 'the chunk file is truncated');
    if (!looksLikeWholeJpeg(bytes) || jpegCrc(bytes) !== r.crc) throw this.corrupt(frame, r.chunk, 'CRC mismatch');
    return bytes;
  }

  readFrameInto(frame: number, target: Uint8Array, offset = 0): void {
    this.check(frame);
    const failure = this.failed.get(frame);
    if (failure) throw failure;
    const hit = this.decoded.get(frame);
    if (hit) {
      target.set(hit, offset);
      return;
    }
    try {
      decodeJpegInto(this.readJpeg(frame), this.width, this.height, target, offset);
    } catch (err) {
      if (err instanceof CompactCacheCorruptError) throw err;
      throw this.corrupt(frame, decodeRecord(this.records, frame).chunk, (err as Error).message);
    }
  }

  readFrame(frame: number): Uint8Array {
    const out = new Uint8Array(this.frameBytes);
    this.readFrameInto(frame, out);
    return out;
  }

  readFrames(indices: readonly number[]): Uint8Array {
    const out = new Uint8Array(indices.length * this.frameBytes);
    indices.forEach((frame, k) => this.readFrameInto(frame, out, k * this.frameBytes));
    return out;
  }

  prefetch(frames: readonly number[]): void {
    const todo = [...new Set(frames)].filter((f) => !this.decoded.has(f) && !this.inflight.has(f) && !this.failed.has(f));
    if (todo.length === 0 || this.closed || this.workers === 0) return;
    todo.forEach((f) => this.check(f));
    this.pool ??= new DecodePool(this.workers >= 0 ? Math.max(1, this.workers) : undefined);
    const pieces = Math.min(this.pool.size, todo.length);
    for (let p = 0; p < pieces; p++) {
      const part = todo.filter((_, i) => i % pieces === p);
      const done = this.decodePart(part);
      for (const f of part) this.inflight.set(f, done);
    }
  }

  private async decodePart(frames: number[]): Promise<void> {
    const jobs: DecodeJob[] = frames.map((frame) => {
      const r = decodeRecord(this.records, frame);
      return { frame, chunk: r.chunk, path: chunkPath(this.dir, r.chunk), offset: r.offset, length: r.length, crc: r.crc };
    });
    try {
      const pixels = await this.pool!.decode(jobs, this.width, this.height);
      frames.forEach((f, i) => this.store(f, pixels.subarray(i * this.frameBytes, (i + 1) * this.frameBytes)));
    } catch (err) {
      const failure = err instanceof FrameDecodeError ? this.corrupt(err.frame, err.chunk, err.reason) : (err as Error);
      for (const f of frames) this.failed.set(f, failure);
    } finally {
      for (const f of frames) this.inflight.delete(f);
    }
  }

  private store(frame: number, pixels: Uint8Array): void {
    this.decoded.set(frame, pixels);
    while (this.decoded.size > this.maxDecoded) this.decoded.delete(this.decoded.keys().next().value as number);
  }

  async ready(frames: readonly number[]): Promise<void> {
    if (this.workers === 0) return;
    this.prefetch(frames);
    await Promise.all(frames.map((f) => this.inflight.get(f)));
    for (const f of frames) {
      const failure = this.failed.get(f);
      if (failure) throw failure;
    }
  }

  luminance(): Float32Array {
    const bytes = readFileSync(join(this.dir, LUMA_FILE)).subarray(0, this.frameCount * 4);
    const copy = new Uint8Array(bytes);
    return new Float32Array(copy.buffer, 0, Math.floor(copy.length / 4));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    this.decoded.clear();
    void this.pool?.close();
  }
}
