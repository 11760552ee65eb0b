// Keeping the decoder ahead of training: a FrameSource that decodes (the compact JPEG cache) decodes the frames of the
// next batches in worker threads while the current step trains; a source without prefetch (raw RGB24) needs no wait.
import type { FrameSource } from './reader';

/**
 * Keeps the decode of the next `depth` batches running while a step trains: `ready(k)` waits for batch k's frames
 * (usually long decoded) and queues batches k+1 … k+depth.
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
