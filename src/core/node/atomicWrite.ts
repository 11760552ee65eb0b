// Crash-safe file writes. A reader sees either the old file or the new one, never a mix:
// write a temp file in the same folder (rename is only atomic within one file system), fsync it,
// then rename over the target. On any error (ENOSPC, EIO, …) the temp file is removed and the old file is untouched.
// JSONL records are appended as whole lines with one append call, so a crash can at worst leave a torn
// last line, which the readers in jsonl.ts skip.

import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/** The subset of node:fs/promises used here; tests inject failures through it. */
export interface AtomicWriteFs {
  open(file: string, flags: string, mode?: number): Promise<WritableHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
}
export interface WritableHandle {
  write(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export const nodeFs: AtomicWriteFs = {
  open: (file, flags, mode) => fsp.open(file, flags, mode),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (file) => fsp.unlink(file),
};

export interface AtomicWriteOptions {
  fs?: AtomicWriteFs;
  /** File mode of a newly created file. Default 0o644. */
  mode?: number;
  /** fsync the data before the rename (default true). Turn off only for scratch files. */
  fsync?: boolean;
}

/** Temp files start with '.' and end with '.tmp' so listings and watchers can ignore them. */
export function isTempFileName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

async function writeAll(handle: WritableHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, null);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    offset += bytesWritten;
  }
}

/** Atomically replaces `file` with `data`. The folder must exist. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const fs = options.fs ?? nodeFs;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const temp = tempPathFor(file);
  let handle: WritableHandle | undefined;
  try {
    handle = await fs.open(temp, 'wx', options.mode ?? 0o644);
    await writeAll(handle, bytes);
    if (options.fsync !== false) await handle.sync();
    const closing = handle;
    handle = undefined;
    await closing.close();
    await fs.rename(temp, file);
  } catch (error) {
    if (handle) await handle.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined); // may not exist if open failed
    throw error;
  }
  if (options.fsync !== false) await syncDirectory(path.dirname(file));
}

/** Makes the rename itself durable. Best effort: not every platform can fsync a folder (Windows cannot). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Durability of the folder entry is a bonus; atomicity does not depend on it.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export async function writeJsonAtomic(file: string, value: unknown, options?: AtomicWriteOptions): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', options);
}

/**
 * Appends one record as one line with a single append call (O_APPEND), so concurrent appenders
 * never interleave inside a line. Throws if the record would contain a newline (it cannot: JSON escapes them).
 */
export async function appendJsonLine(file: string, record: unknown): Promise<void> {
  const line = JSON.stringify(record);
  if (line === undefined) throw new TypeError('record is not JSON-serialisable');
  await fsp.appendFile(file, line + '\n', 'utf8');
}
