// A small pool of worker threads that decode cached JPEG frames off the training thread. Each request carries the
// positions of its frames in the chunk files; the worker reads, CRC-checks and decodes them and transfers back one
// RGB24 buffer. Requests go to the least busy worker.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface DecodeJob {
  frame: number;
  chunk: number;
  path: string;
  offset: number;
  length: number;
  crc: number;
}

export interface DecodeRequest {
  id: number;
  width: number;
  height: number;
  jobs: DecodeJob[];
}

export interface DecodeReply {
  id: number;
  buffer?: ArrayBuffer;
  error?: { frame: number; chunk: number; message: string };
}

/** A failed frame of a request: which frame, which chunk, why. */
export class FrameDecodeError extends Error {
  constructor(
    readonly frame: number,
    readonly chunk: number,
    readonly reason: string,
  ) {
    super(`frame ${frame}: ${reason}`);
    this.name = 'FrameDecodeError';
  }
}

interface Pending {
  resolve: (pixels: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  busy: number;
  ready: Promise<void>;
}

/** Default worker count: half the cores (the other half trains), at least 1, at most 4. */
export function defaultDecodeWorkers(): number {
  return Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
}

/** The bundled worker (dist/decodeWorker.js) or, under tsx (tests), the TypeScript source. */
function spawnDecodeWorker(): Worker {
  const bundled = join(__dirname, 'decodeWorker.js');
  if (existsSync(bundled)) return new Worker(bundled);
  const source = join(__dirname, 'decodeWorker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true });
}

export class DecodePool {
  private readonly workers: PoolWorker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(readonly size: number = defaultDecodeWorkers()) {
    for (let i = 0; i < size; i++) this.workers.push(this.start());
  }

  private start(): PoolWorker {
    const worker = spawnDecodeWorker();
    worker.unref(); // an idle pool never keeps the process alive
    let markReady: () => void = () => {};
    const entry: PoolWorker = { worker, busy: 0, ready: new Promise<void>((r) => (markReady = r)) };
    worker.on('message', (reply: DecodeReply) => {
      if (reply.id === -1) return markReady();
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (--entry.busy === 0) worker.unref();
      if (!pending) return;
      if (reply.buffer) pending.resolve(new Uint8Array(reply.buffer));
      else pending.reject(new FrameDecodeError(reply.error!.frame, reply.error!.chunk, reply.error!.message));
    });
    worker.on('error', (err) => this.failAll(err));
    return entry;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Decodes the jobs into one buffer of jobs.length frames, in order. */
  async decode(jobs: DecodeJob[], width: number, height: number): Promise<Uint8Array> {
    if (this.closed) throw new Error('the decode pool is closed');
    const target = this.workers.reduce((best, w) => (w.busy < best.busy ? w : best));
    if (target.busy++ === 0) target.worker.ref(); // a pending decode keeps the process alive
    await target.ready;
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      target.worker.postMessage({ id, width, height, jobs } satisfies DecodeRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('the decode pool was closed'));
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
