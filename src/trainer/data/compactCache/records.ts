// Reading frames.idx and the JPEG bytes it points to.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { chunkPath, decodeRecord, RECORDS_FILE, RECORD_BYTES, type FrameRecord } from './format';

export function readFully(fd: number, target: Uint8Array, position: number): number {
  let done = 0;
  while (done < target.length) {
    const n = readSync(fd, target, done, target.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** `count` records from frame `start`; throws when frames.idx is shorter. */
export function readRecords(dir: string, start: number, count: number): FrameRecord[] {
  const bytes = readIndexBytes(dir, start, count);
  return Array.from({ length: count }, (_, i) => decodeRecord(bytes, i));
}

/** The raw records of frames [start, start+count) (16 bytes each). */
export function readIndexBytes(dir: string, start: number, count: number): Buffer {
  const bytes = Buffer.alloc(count * RECORD_BYTES);
  const fd = openSync(join(dir, RECORDS_FILE), 'r');
  try {
    const n = readFully(fd, bytes, start * RECORD_BYTES);
    if (n !== bytes.length) throw new Error(`${join(dir, RECORDS_FILE)} is truncated: frames ${start}..${start + count - 1} are missing`);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** The stored JPEG bytes of one record, or null when the chunk file is missing or too short. */
export function readJpegBytes(dir: string, record: FrameRecord): Buffer | null {
  let fd: number;
  try {
    fd = openSync(chunkPath(dir, record.chunk), 'r');
  } catch {
    return null;
  }
  try {
    const bytes = Buffer.allocUnsafe(record.length);
    return readFully(fd, bytes, record.offset) === record.length ? bytes : null;
  } finally {
    closeSync(fd);
  }
}
