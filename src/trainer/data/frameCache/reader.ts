// Read access to a built (or partially built) frame cache: any frame is one positioned read.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { FrameCacheError } from './errors';
import { chunkPath, INDEX_FILE, LUMA_FILE, readIndex, type FrameCacheIndex } from './layout';

/**
 * What training, evaluation and inspection read from a decoded video, whatever stores it: any cache format implements
 * this (frames are RGB24, height × width × 3, row-major; indices are decode-order frame numbers): the raw RGB24 cache
 * below and the compact JPEG cache (../compactCache/reader.ts).
 */
export interface FrameSource {
  /** Frames readable now (a partially built cache: those finished so far). */
  readonly frameCount: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** The video the frames come from, for messages. */
  readonly sourcePath: string;
  /** One RGB24 frame, height × width × 3, row-major. */
  readFrame(frame: number): Uint8Array;
  /** Copies one frame into `target` at byte `offset` (no allocation). */
  readFrameInto(frame: number, target: Uint8Array, offset?: number): void;
  /** Frames stacked in one buffer: indices.length × height × width × 3, in the order given. */
  readFrames(indices: readonly number[]): Uint8Array;
  /** Mean luminance (0..255) per frame (blank-tail detection). */
  luminance(): Float32Array;
  /** Starts decoding these frames off the calling thread (formats that decode, e.g. the compact JPEG cache). */
  prefetch?(frames: readonly number[]): void;
  /** Resolves when these frames can be read without decoding on the calling thread. */
  ready?(frames: readonly number[]): Promise<void>;
  close(): void;
}

/** The RGB24 chunk-file cache (layout.ts) as a FrameSource, plus what its builder and tests look at. */
export interface FrameCache extends FrameSource {
  readonly dir: string;
  readonly index: FrameCacheIndex;
  readonly frameBytes: number;
  readonly complete: boolean;
}

export function openFrameCache(dir: string): FrameCache {
  const index = readIndex(dir);
  if (!index) {
    throw new FrameCacheError(
      'NO_CACHE',
      `No frame cache in "${dir}" (missing or outdated ${INDEX_FILE}). Fix: build it with buildFrameCache().`,
    );
  }
  const { frameBytes, framesPerChunk } = index;
  const frameCount = index.completedFrames;
  const chunkFds = new Map<number, number>();
  let closed = false;

  const fdFor = (chunk: number) => {
    if (closed) throw new Error(`Frame cache ${dir} is closed`);
    let fd = chunkFds.get(chunk);
    if (fd === undefined) {
      fd = openSync(chunkPath(dir, chunk), 'r');
      chunkFds.set(chunk, fd);
    }
    return fd;
  };

  const readFrameInto = (frame: number, target: Uint8Array, offset = 0) => {
    if (!Number.isInteger(frame) || frame < 0 || frame >= frameCount) {
      throw new RangeError(`Frame ${frame} is outside the cache of "${index.source.path}" (0..${frameCount - 1})`);
    }
    const fd = fdFor(Math.floor(frame / framesPerChunk));
    const position = (frame % framesPerChunk) * frameBytes;
    let done = 0;
    while (done < frameBytes) {
      const n = readSync(fd, target, offset + done, frameBytes - done, position + done);
      if (n === 0)
        throw new FrameCacheError('TRUNCATED', `Frame cache ${dir} is truncated at frame ${frame}. Fix: delete the folder to rebuild it.`);
      done += n;
    }
  };

  return {
    dir,
    index,
    frameCount,
    frameBytes,
    width: index.width,
    height: index.height,
    fps: index.fps,
    complete: index.complete,
    sourcePath: index.source.path,
    readFrame(frame) {
      const out = new Uint8Array(frameBytes);
      readFrameInto(frame, out);
      return out;
    },
    readFrameInto,
    readFrames(indices) {
      const out = new Uint8Array(indices.length * frameBytes);
      indices.forEach((frame, k) => readFrameInto(frame, out, k * frameBytes));
      return out;
    },
    luminance() {
      const bytes = readFileSync(join(dir, LUMA_FILE)).subarray(0, frameCount * 4);
      const copy = new Uint8Array(bytes); // aligned copy for the Float32Array view
      return new Float32Array(copy.buffer, 0, frameCount);
    },
    close() {
      closed = true;
      for (const fd of chunkFds.values()) closeSync(fd);
      chunkFds.clear();
    },
  };
}
