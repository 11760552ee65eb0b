import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { appendJsonLine, nodeFs, writeFileAtomic, writeJsonAtomic, type AtomicWriteFs } from '../../../src/core/node/atomicWrite';

const tempDir = () => mkdtemp(path.join(tmpdir(), 'dora-atomic-'));

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
}

/** Real fs whose writes put half the bytes on disk and then fail with ENOSPC, like a disk filling up. */
const diskFillsUp: AtomicWriteFs = {
  ...nodeFs,
  async open(file, flags, mode) {
    const handle = await fsp.open(file, flags, mode);
    return {
      async write(buffer, offset, length, position) {
        await handle.write(buffer, offset, Math.floor(length / 2), position);
        throw enospc();
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  },
};

test('ENOSPC during the write keeps the old file and removes the temp file', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'run.json');
  await writeFile(file, '{"old":true}\n');
  await assert.rejects(writeFileAtomic(file, JSON.stringify({ big: 'x'.repeat(100_000) }), { fs: diskFillsUp }), { code: 'ENOSPC' });
  assert.equal(await readFile(file, 'utf8'), '{"old":true}\n');
  assert.deepEqual(await readdir(dir), ['run.json']);
});

test('a failing rename also cleans up, and a new file is not created', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'config.json');
  const failingRename: AtomicWriteFs = {
    ...nodeFs,
    rename: async () => Promise.reject(Object.assign(new Error('EXDEV'), { code: 'EXDEV' })),
  };
  await assert.rejects(writeFileAtomic(file, 'data', { fs: failingRename }), { code: 'EXDEV' });
  assert.deepEqual(await readdir(dir), []);
});

test('writes replace the content and leave no temp files', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'a.json');
  await writeJsonAtomic(file, { a: 1 });
  await writeJsonAtomic(file, { a: 2 });
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { a: 2 });
  assert.deepEqual(await readdir(dir), ['a.json']);
});

test('appendJsonLine appends whole lines', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'events.jsonl');
  await appendJsonLine(file, { type: 'started', text: 'line\nbreak' });
  await appendJsonLine(file, { type: 'finished' });
  const content = await readFile(file, 'utf8');
  assert.equal(content, '{"type":"started","text":"line\\nbreak"}\n{"type":"finished"}\n');
  await assert.rejects(appendJsonLine(file, undefined), TypeError);
});

/** Whether `text` is one complete version written by fixtures/atomicWriter.ts. */
function isWholeVersion(text: string): boolean {
  try {
    const value = JSON.parse(text) as { version: number; length: number; payload: string };
    const fill = String.fromCharCode(97 + (value.version % 26));
    return value.payload.length === value.length && value.payload === fill.repeat(value.length);
  } catch {
    return false;
  }
}

test('the completeness check itself detects torn and mixed content', () => {
  const whole = JSON.stringify({ version: 3, length: 5, payload: 'ddddd' });
  assert.ok(isWholeVersion(whole));
  assert.ok(!isWholeVersion(whole.slice(0, whole.length - 3)));
  assert.ok(!isWholeVersion(''));
  assert.ok(!isWholeVersion(JSON.stringify({ version: 3, length: 5, payload: 'dddee' })));
});

test('a concurrent reader never sees a half-written file', { timeout: 120_000 }, async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'run.json');
  await writeFileAtomic(file, JSON.stringify({ version: 0, length: 1, payload: 'a' }));
  const writes = 300;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'atomicWriter.ts'), file, String(writes), String(256 * 1024)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let exitCode: number | null | undefined;
  child.on('exit', (code) => (exitCode = code));

  const versionsSeen = new Set<number>();
  let reads = 0;
  while (exitCode === undefined) {
    const text = await readFile(file, 'utf8');
    reads++;
    assert.ok(isWholeVersion(text), `read ${reads} saw a partial file (${text.length} bytes)`);
    versionsSeen.add((JSON.parse(text) as { version: number }).version);
  }
  assert.equal(exitCode, 0, stderr);
  // The reads must really have overlapped the writes, or the test proves nothing.
  assert.ok(versionsSeen.size >= 5, `only ${versionsSeen.size} versions seen in ${reads} reads`);
  assert.ok(isWholeVersion(await readFile(file, 'utf8')));
  assert.deepEqual(await readdir(dir), ['run.json']);
});
