// Proving that a pid is the process we think it is, before signalling it (docs/run-directory.md, "run.lock").
// A pid alone proves nothing: it can be reused by an unrelated process after the trainer died, or be written into a
// crafted run.json. On Linux the kernel's start time of a process (field 22 of /proc/<pid>/stat, clock ticks since
// boot) never changes while it lives and differs for a later process with the same pid, so (pid, processStart) names one
// process. Elsewhere the start time is null and nothing is ever proven: callers refuse to signal.

import { readFileSync } from 'node:fs';

/** Whether a process with this pid exists (signal 0 delivers nothing; EPERM means it exists under another user). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false; // 0 and negatives address process groups
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

/**
 * Field 22 (starttime) of a /proc/<pid>/stat line, as a decimal string. The second field (the command name) is in
 * parentheses and may itself contain spaces and parentheses, so fields are counted after the LAST ')'.
 */
export function parseProcStatStartTime(stat: string): string | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/); // fields[0] is field 3 (state)
  const start = fields[22 - 3];
  return start !== undefined && /^\d+$/.test(start) ? start : null;
}

/** The start time of a live process (Linux), else null (process gone, /proc unreadable, or another platform). */
export function processStartOf(pid: number): string | null {
  if (process.platform !== 'linux' || !Number.isInteger(pid) || pid <= 0) return null;
  try {
    return parseProcStatStartTime(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** This process's own start time, recorded in run.json and run.lock. */
export function ownProcessStart(): string | null {
  return processStartOf(process.pid);
}

/**
 * What a recorded (pid, processStart) pair says about the process now on this host:
 * - `same`: alive and started at the recorded time: it is the recorded process;
 * - `gone`: no process with this pid;
 * - `different`: a process with this pid lives but started at another time (pid reused);
 * - `unproven`: alive, but there is no start time to compare (not Linux, or none recorded).
 */
export type ProcessMatch = 'same' | 'gone' | 'different' | 'unproven';

export interface ProcessProbe {
  isPidAlive: (pid: number) => boolean;
  processStartOf: (pid: number) => string | null;
}

export const localProcessProbe: ProcessProbe = { isPidAlive, processStartOf };

export function matchProcess(pid: number, recordedStart: string | null | undefined, probe: ProcessProbe = localProcessProbe): ProcessMatch {
  if (!probe.isPidAlive(pid)) return 'gone';
  const actual = probe.processStartOf(pid);
  // Nothing to compare (a platform without /proc, /proc hidden, or no start time recorded): neither proven nor disproven.
  if (actual === null || recordedStart === null || recordedStart === undefined) return 'unproven';
  return actual === recordedStart ? 'same' : 'different';
}
