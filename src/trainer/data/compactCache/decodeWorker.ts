// Worker thread of the decode pool: reads JPEG bytes straight from the chunk files (positioned reads), checks
// each frame's CRC, and decodes into one transferable buffer per request, so the training thread only gets pixels.
import { closeSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { jpegCrc, looksLikeWholeJpeg } from './format';
import { decodeJpegInto, initJpegDecoder } from './jpegDecoder';
import { readFully } from './records';
import type { DecodeReply, DecodeRequest } from './decodePool';

const fds = new Map<string, number>();

function fdFor(path: string): number {
  let fd = fds.get(path);
  if (fd === undefined) {
    if (fds.size >= 64) {
      for (const open of fds.values()) closeSync(open);
      fds.clear();
    }
    fd = openSync(path, 'r');
    fds.set(path, fd);
  }
  return fd;
}

function handle(request: DecodeRequest): DecodeReply {
  const frameBytes = request.width * request.height * 3;
  const out = new Uint8Array(request.jobs.length * frameBytes);
  for (let i = 0; i < request.jobs.length; i++) {
    const job = request.jobs[i];
    let jpeg: Buffer;
    try {
      jpeg = Buffer.allocUnsafe(job.length);
      if (readFully(fdFor(job.path), jpeg, job.offset) !== job.length) throw new Error('the chunk file is shorter than the index says');
      if (!looksLikeWholeJpeg(jpeg) || jpegCrc(jpeg) !== job.crc) throw new Error('CRC mismatch');
      decodeJpegInto(jpeg, request.width, request.height, out, i * frameBytes);
    } catch (err) {
      return { id: request.id, error: { frame: job.frame, chunk: job.chunk, message: (err as Error).message } };
    }
  }
  return { id: request.id, buffer: out.buffer as ArrayBuffer };
}

void initJpegDecoder().then(() => {
  parentPort!.on('message', (request: DecodeRequest) => {
    const reply = handle(request);
    parentPort!.postMessage(reply, reply.buffer ? [reply.buffer] : []);
  });
  parentPort!.postMessage({ id: -1 } satisfies DecodeReply);
});
