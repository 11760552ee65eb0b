// Readers for append-only JSON Lines files that another process may be writing right now.
// The rule: only text up to the last '\n' is complete. A torn last line (a write in progress, or a
// crash mid-append) is left for later; a malformed complete line is skipped and counted. Readers never throw on content.

import { open, readFile, stat, truncate } from 'node:fs/promises';

export type Guard<T> = (value: unknown) => value is T;

export interface JsonlParseResult<T> {
  records: T[];
  /** 1-based numbers of complete lines that were not JSON or failed the guard. */
  invalidLines: number[];
  /** True when the text ends in an unterminated line, which was ignored. */
  tornTail: boolean;
}

const acceptAny = (value: unknown): value is never => value !== undefined;

export function parseJsonl<T>(text: string, guard: Guard<T> = acceptAny as Guard<T>, firstLineNumber = 1): JsonlParseResult<T> {
  const lastNewline = text.lastIndexOf('\n');
  const complete = lastNewline < 0 ? '' : text.slice(0, lastNewline);
  const tornTail = lastNewline < text.length - 1;
  const records: T[] = [];
  const invalidLines: number[] = [];
  if (lastNewline < 0) return { records, invalidLines, tornTail };
  complete.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      const value: unknown = JSON.parse(line);
      if (guard(value)) records.push(value);
      else invalidLines.push(firstLineNumber + index);
    } catch {
      invalidLines.push(firstLineNumber + index);
    }
  });
  return { records, invalidLines, tornTail };
}

/** Whole-file read; a missing file reads as empty. */
export async function readJsonl<T>(file: string, guard?: Guard<T>): Promise<JsonlParseResult<T>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return { records: [], invalidLines: [], tornTail: false };
    throw error;
  }
  return parseJsonl(text, guard);
}

export interface JsonlChunk<T> {
  records: T[];
  invalidLines: number[];
  /** Byte offset to pass to the next call: just after the last complete line read. */
  nextOffset: number;
  /** Line number of the first line at nextOffset (for invalidLines of the next call). */
  nextLine: number;
  /** True when the file shrank below `offset` (rewritten or truncated), so reading restarted at 0. */
  reset: boolean;
}

/**
 * Reads the complete lines added since `offset` (a byte offset from a previous call, 0 at first).
 * For live tails: cost is proportional to what was appended, not to the file size.
 */
export async function readJsonlFrom<T>(file: string, offset: number, guard?: Guard<T>, lineNumber = 1): Promise<JsonlChunk<T>> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if (isNotFound(error)) return { records: [], invalidLines: [], nextOffset: 0, nextLine: 1, reset: offset > 0 };
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const reset = size < offset;
    const start = reset ? 0 : offset;
    const firstLine = reset ? 1 : lineNumber;
    const buffer = Buffer.alloc(size - start);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    // Cut at the last newline byte, so a multi-byte character is never split.
    const end = buffer.subarray(0, filled).lastIndexOf(0x0a) + 1;
    const text = buffer.subarray(0, end).toString('utf8');
    const parsed = parseJsonl(text, guard, firstLine);
    const linesRead = end === 0 ? 0 : text.split('\n').length - 1;
    return { records: parsed.records, invalidLines: parsed.invalidLines, nextOffset: start + end, nextLine: firstLine + linesRead, reset };
  } finally {
    await handle.close();
  }
}

/** Stateful tail of one JSONL file: each poll() returns the records appended since the last one. */
export class JsonlFollower<T> {
  private offset = 0;
  private line = 1;
  constructor(
    readonly file: string,
    private readonly guard?: Guard<T>,
  ) {}

  async poll(): Promise<JsonlChunk<T>> {
    const chunk = await readJsonlFrom(this.file, this.offset, this.guard, this.line);
    this.offset = chunk.nextOffset;
    this.line = chunk.nextLine;
    return chunk;
  }
}

/**
 * Drops a torn last line left by a crash, so that the next append starts on a fresh line.
 * Call it before appending to a file a previous process may have been writing. Returns the bytes removed.
 */
export async function repairJsonlTail(file: string): Promise<number> {
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch (error) {
    if (isNotFound(error)) return 0;
    throw error;
  }
  if (content.length === 0 || content[content.length - 1] === 0x0a) return 0;
  const keep = content.lastIndexOf(0x0a) + 1;
  await truncate(file, keep);
  return content.length - keep;
}

export function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}

/** Size of a file in bytes, or 0 when it does not exist. */
export async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if (isNotFound(error)) return 0;
    throw error;
  }
}
