// Which process, if any, is provably the trainer of a run folder on this host: the only process Stop may signal when
// this window did not start it. The proof is a pid AND its start time (src/core/node/processIdentity.ts), taken from the
// run's lock (run.lock, written by every trainer while it runs), else from run.json (processStart). A bare pid, a pid
// now used by another process, or a heartbeat that claims to come from the future proves nothing. No vscode import.

import * as os from 'node:os';
import { localProcessProbe, matchProcess, type ProcessProbe } from '../../core/node/processIdentity';
import { readRunInfo } from '../../core/node/runDir';
import { readRunLockState, type LockProbe } from '../../core/node/runLock';
import { runPaths } from '../../core/node/runPaths';

export type TrainerProof =
  | { kind: 'proven'; pid: number; source: 'run.lock' | 'run.json' }
  /** Something claims to train this run but cannot be proven to be a trainer: never signalled. */
  | { kind: 'unproven'; pid: number; reason: string }
  | { kind: 'none' };

export async function proveTrainer(
  runDir: string,
  probe: ProcessProbe & { hostname: string } = { ...localProcessProbe, hostname: os.hostname() },
): Promise<TrainerProof> {
  const lockProbe: LockProbe = { ...probe, now: Date.now() };
  const lock = await readRunLockState(runDir, lockProbe);
  if (lock.state === 'live') {
    if (lock.lock.hostname !== probe.hostname)
      return {
        kind: 'unproven',
        pid: lock.lock.pid,
        reason: `it is trained on host ${lock.lock.hostname} (pid ${lock.lock.pid}); stop it there`,
      };
    const match = matchProcess(lock.lock.pid, lock.lock.processStart, probe);
    if (match === 'same') return { kind: 'proven', pid: lock.lock.pid, source: 'run.lock' };
    return {
      kind: 'unproven',
      pid: lock.lock.pid,
      reason:
        `pid ${lock.lock.pid} in ${runPaths(runDir).dir}/run.lock has no start time to check on this platform, ` +
        'so it cannot be proven to be the trainer',
    };
  }
  const info = await readRunInfo(runDir);
  if (!info || info.hostname !== probe.hostname) return { kind: 'none' };
  const match = matchProcess(info.pid, info.processStart, probe);
  if (match === 'same') return { kind: 'proven', pid: info.pid, source: 'run.json' };
  if (match === 'gone') return { kind: 'none' };
  return {
    kind: 'unproven',
    pid: info.pid,
    reason:
      match === 'different'
        ? `pid ${info.pid} of run.json now belongs to another process (its start time differs)`
        : `run.json records pid ${info.pid} without a process start time, so it cannot be proven to be the trainer`,
  };
}
