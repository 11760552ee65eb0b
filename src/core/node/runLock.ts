// The run-folder lock (docs/run-directory.md, "run.lock"): one trainer per run folder, whichever engine or front door
// started it. `<run>/run.lock` is created with O_CREAT|O_EXCL and holds who owns it; it is removed when the owner exits.
// A lock whose owner is provably gone is stale and taken over; a live one refuses with
// "run R is being trained by pid P on host H since T".
//   - same host: stale when the pid is gone or its start time (processIdentity.ts) differs from the recorded one;
//   - another host: live unless run.json's heartbeat is older than STALE_HEARTBEAT_MS (or in the future).
// Taking over a stale lock happens under a short-lived guard file (run.lock.takeover, also O_EXCL), so two processes
// that both find the same stale lock cannot both remove it and then each believe they own the folder.

import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { isNotFound } from './jsonl';
import { localProcessProbe, matchProcess, ownProcessStart, type ProcessProbe } from './processIdentity';
import { STALE_HEARTBEAT_MS } from '../runRecords';

export const RUN_LOCK_FILE = 'run.lock';
const TAKEOVER_FILE = 'run.lock.takeover';
/** A takeover guard older than this belongs to a process that died inside the few milliseconds of a takeover. */
const TAKEOVER_GUARD_STALE_MS = 30_000;
/** Heartbeats this far in the future are treated as stale (clock skew between hosts is smaller than this). */
export const FUTURE_HEARTBEAT_TOLERANCE_MS = 2 * 60_000;

export type RunLockEngine = 'tfjs' | 'pytorch';

export interface RunLockRecord {
  formatVersion: 1;
  pid: number;
  /** Field 22 of /proc/<pid>/stat (Linux), else null. */
  processStart: string | null;
  hostname: string;
  engine: RunLockEngine;
  /** What holds the lock: train, resume, … */
  command: string;
  /** ISO time the lock was taken. */
  since: string;
}

export function isRunLockRecord(v: unknown): v is RunLockRecord {
  const r = v as Partial<RunLockRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    r.formatVersion === 1 &&
    Number.isInteger(r.pid) &&
    (r.pid as number) > 0 &&
    (r.processStart === null || (typeof r.processStart === 'string' && /^\d+$/.test(r.processStart))) &&
    typeof r.hostname === 'string' &&
    (r.engine === 'tfjs' || r.engine === 'pytorch') &&
    typeof r.command === 'string' &&
    typeof r.since === 'string'
  );
}

export function runLockPath(runDir: string): string {
  return path.join(runDir, RUN_LOCK_FILE);
}

export class RunLockedError extends Error {
  override readonly name = 'RunLockedError';
  readonly fix: string;
  constructor(
    readonly runDir: string,
    readonly lock: RunLockRecord,
  ) {
    super(`run ${path.basename(runDir)} is being trained by pid ${lock.pid} on host ${lock.hostname} since ${lock.since}`);
    this.fix =
      `Wait for it to finish, or stop it (DoRA: Stop Run, or Ctrl-C where it was started). If pid ${lock.pid} on ${lock.hostname} ` +
      `is not a DoRA trainer any more, delete ${runLockPath(runDir)}.`;
  }
}

export interface LockProbe extends ProcessProbe {
  hostname: string;
  now: number;
}

export function localLockProbe(): LockProbe {
  return { ...localProcessProbe, hostname: os.hostname(), now: Date.now() };
}

export type LockVerdict = { live: true; reason: string } | { live: false; reason: string };

/**
 * Whether a lock's owner still holds it. `heartbeat` is run.json's heartbeat (only used for locks of other hosts,
 * whose processes cannot be checked from here).
 */
export function judgeRunLock(lock: RunLockRecord, probe: LockProbe, heartbeat: string | undefined): LockVerdict {
  if (lock.hostname === probe.hostname) {
    const match = matchProcess(lock.pid, lock.processStart, probe);
    if (match === 'gone') return { live: false, reason: `its owner, pid ${lock.pid}, is gone` };
    if (match === 'different')
      return { live: false, reason: `pid ${lock.pid} is now another process (start time differs from the lock's ${lock.processStart})` };
    return { live: true, reason: match === 'same' ? `pid ${lock.pid} is alive` : `pid ${lock.pid} is alive (start time not comparable)` };
  }
  const time = heartbeat === undefined ? NaN : Date.parse(heartbeat);
  if (Number.isNaN(time)) return { live: false, reason: `it is held on host ${lock.hostname} and run.json has no valid heartbeat` };
  const age = probe.now - time;
  if (age < -FUTURE_HEARTBEAT_TOLERANCE_MS) return { live: false, reason: `run.json's heartbeat ${heartbeat} is in the future` };
  if (age > STALE_HEARTBEAT_MS)
    return { live: false, reason: `no heartbeat from host ${lock.hostname} for ${Math.round(age / 60_000)} min` };
  return { live: true, reason: `host ${lock.hostname} wrote a heartbeat ${Math.max(0, Math.round(age / 1000))} s ago` };
}

export type RunLockState =
  | { state: 'free' }
  | { state: 'live'; lock: RunLockRecord; reason: string }
  | { state: 'stale'; lock: RunLockRecord | undefined; reason: string };

async function readHeartbeat(runDir: string): Promise<string | undefined> {
  try {
    const info = JSON.parse(await readFile(path.join(runDir, 'run.json'), 'utf8')) as { heartbeat?: unknown };
    return typeof info.heartbeat === 'string' ? info.heartbeat : undefined;
  } catch {
    return undefined;
  }
}

/** The lock of a run folder and whether it is live. A lock file that is not a valid record counts as stale. */
export async function readRunLockState(runDir: string, probe: LockProbe = localLockProbe()): Promise<RunLockState> {
  let text: string;
  try {
    text = await readFile(runLockPath(runDir), 'utf8');
  } catch (error) {
    if (isNotFound(error)) return { state: 'free' };
    throw error;
  }
  let lock: unknown;
  try {
    lock = JSON.parse(text);
  } catch {
    lock = undefined;
  }
  if (!isRunLockRecord(lock)) return { state: 'stale', lock: undefined, reason: `${RUN_LOCK_FILE} is not a valid lock record` };
  const verdict = judgeRunLock(lock, probe, lock.hostname === probe.hostname ? undefined : await readHeartbeat(runDir));
  return verdict.live ? { state: 'live', lock, reason: verdict.reason } : { state: 'stale', lock, reason: verdict.reason };
}

export interface RunLockHandle {
  readonly record: RunLockRecord;
  /** Set when a stale lock was taken over: whose it was and why it was stale (the trainer logs this). */
  readonly tookOver?: { lock: RunLockRecord | undefined; reason: string };
  /** Removes the lock if it is still ours. */
  release(): Promise<void>;
}

export interface AcquireRunLockOptions {
  engine: RunLockEngine;
  command: string;
  probe?: () => LockProbe;
  /** Tests: the pid and start time to record (default: this process). */
  pid?: number;
  processStart?: string | null;
}

/**
 * Creates `file` with `text` if it does not exist, atomically: the text is written to a temp file first and then
 * hard-linked into place (link fails if the name exists), so no other process ever reads a lock file that is still
 * empty. Where hard links are not supported (some network file systems), O_EXCL create + write; readers then give a
 * young invalid lock a moment before calling it stale (see acquireRunLock).
 */
async function createExclusive(file: string, text: string): Promise<boolean> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(temp, text, { flag: 'wx', mode: 0o644 });
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    return createWithOpen(file, text);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function createWithOpen(file: string, text: string): Promise<boolean> {
  try {
    const handle = await open(file, 'wx', 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EEXIST') return false;
    throw error;
  }
}

/** An invalid lock this young may be one being written without hard links: wait for it rather than take it over. */
const YOUNG_INVALID_LOCK_MS = 2_000;

async function isYoung(file: string): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs < YOUNG_INVALID_LOCK_MS;
}

function sameOwner(text: string, record: RunLockRecord): boolean {
  try {
    const lock = JSON.parse(text) as Partial<RunLockRecord>;
    return lock.pid === record.pid && lock.processStart === record.processStart && lock.since === record.since;
  } catch {
    return false;
  }
}

/** Removes a takeover guard left by a process that died during a takeover. */
async function clearDeadGuard(guard: string): Promise<void> {
  const info = await stat(guard).catch(() => undefined);
  if (info && Date.now() - info.mtimeMs > TAKEOVER_GUARD_STALE_MS) await unlink(guard).catch(() => undefined);
}

/**
 * Takes the run folder's lock or throws RunLockedError. A stale lock is taken over (the handle says whose it was).
 * The lock is also removed when the process exits normally (an exit handler), so only a killed process leaves one.
 */
export async function acquireRunLock(runDir: string, options: AcquireRunLockOptions): Promise<RunLockHandle> {
  const probe = options.probe ?? localLockProbe;
  const record: RunLockRecord = {
    formatVersion: 1,
    pid: options.pid ?? process.pid,
    processStart: options.processStart !== undefined ? options.processStart : ownProcessStart(),
    hostname: probe().hostname,
    engine: options.engine,
    command: options.command,
    since: new Date().toISOString(),
  };
  const file = runLockPath(runDir);
  const guard = path.join(runDir, TAKEOVER_FILE);
  const text = `${JSON.stringify(record)}\n`;
  let tookOver: RunLockHandle['tookOver'];
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await createExclusive(file, text)) return lockHandle(file, record, tookOver);
    const found = await readRunLockState(runDir, probe());
    if (found.state === 'live') throw new RunLockedError(runDir, found.lock);
    if (found.state === 'free') continue; // released meanwhile
    if (found.lock === undefined && (await isYoung(file))) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    if (!(await createExclusive(guard, String(record.pid)))) {
      await clearDeadGuard(guard);
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    try {
      // Judge again under the guard: another process may have taken the folder over in the meantime.
      const again = await readRunLockState(runDir, probe());
      if (again.state === 'live') throw new RunLockedError(runDir, again.lock);
      if (again.state === 'stale') {
        await unlink(file).catch((error) => {
          if (!isNotFound(error)) throw error;
        });
        tookOver = { lock: again.lock, reason: again.reason };
      }
      if (await createExclusive(file, text)) return lockHandle(file, record, tookOver);
    } finally {
      await unlink(guard).catch(() => undefined);
    }
  }
  throw new Error(`${file}: could not take the run lock (it keeps changing hands)`);
}

function lockHandle(file: string, record: RunLockRecord, tookOver: RunLockHandle['tookOver']): RunLockHandle {
  const releaseSync = () => {
    try {
      if (sameOwner(readFileSync(file, 'utf8'), record)) unlinkSync(file);
    } catch {
      // already gone
    }
  };
  process.once('exit', releaseSync);
  return {
    record,
    tookOver,
    async release() {
      process.off('exit', releaseSync);
      try {
        if (sameOwner(await readFile(file, 'utf8'), record)) await unlink(file);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },
  };
}
