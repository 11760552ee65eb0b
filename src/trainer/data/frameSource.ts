// The small reader interface the training data path uses, whichever cache holds the frames: the raw RGB24 cache
// (frameCache.ts) or the compact JPEG cache (compactCache/). Frame indices are decode-order frame numbers of the
// video in both, and both give height × width × 3 RGB24 pixels, row-major.

export interface FrameSource {
  /** 'rgb24' for the raw cache (absent on its older objects), 'jpeg' for the compact one. */
  readonly kind?: 'rgb24' | 'jpeg';
  readonly dir: string;
  /** Frames readable now: all when `complete`, else those finished so far. */
  readonly frameCount: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly complete: boolean;
  readonly sourcePath: string;
  readFrame(frame: number): Uint8Array;
  /** Copies one frame into `target` at byte `offset`. */
  readFrameInto(frame: number, target: Uint8Array, offset?: number): void;
  /** Frames stacked in one buffer, in the order given. */
  readFrames(indices: readonly number[]): Uint8Array;
  /** Mean luminance (0..255) per frame. */
  luminance(): Float32Array;
  /** Starts decoding these frames off the calling thread (sources that decode). */
  prefetch?(frames: readonly number[]): void;
  /** Resolves when these frames can be read without decoding on the calling thread. */
  ready?(frames: readonly number[]): Promise<void>;
  close(): void;
}

/**
 * Keeps the decode of the next `depth` batches running while a step trains: `ready(k)` waits for batch k's frames
 * (usually long decoded) and queues batches k+1 … k+depth. A source without prefetch (raw frames) needs no wait.
 */
export class BatchPrefetcher {
  private queued = -1;

  constructor(
    private readonly source: FrameSource,
    /** Frame indices of global batch k, or null past the end. */
    private readonly framesOf: (k: number) => readonly number[] | null,
    private readonly depth = 2,
  ) {}

  async ready(k: number): Promise<void> {
    if (!this.source.ready || !this.source.prefetch) return;
    const frames = this.framesOf(k);
    const wait = frames ? this.source.ready(frames) : Promise.resolve();
    for (let next = Math.max(k + 1, this.queued + 1); next <= k + this.depth; next++) {
      const ahead = this.framesOf(next);
      if (!ahead) break;
      this.source.prefetch(ahead);
      this.queued = next;
    }
    await wait;
  }
}
