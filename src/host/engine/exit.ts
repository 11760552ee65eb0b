// How an engine process ended, in words: one classification for every request (train, evaluate, inspect, …).
// Pure, so the wording is unit-tested.

import type { FinishReason } from '../../core/messages';
import type { EngineExit } from './engineProcess';

/** `was killed by SIGKILL` / `exited with code 3` / `could not be started: …`. */
export function describeExit(exit: EngineExit): string {
  if (exit.startError !== undefined) return `could not be started: ${exit.startError}`;
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/** The last `lines` non-empty lines the engine wrote to stderr. */
export function stderrLines(exit: EngineExit, lines: number): string[] {
  return exit.stderrTail.trim().split('\n').filter(Boolean).slice(-lines);
}

export interface RequestEnd {
  reason: FinishReason;
  /** Why it failed (the engine's own error when it sent one, else the exit and its last stderr line). */
  error?: string;
}

/**
 * The outcome of a request from what the engine said and how it exited. The engine's `finished` is trusted; without
 * one, a cancelled request is `stopped`, a clean exit `completed` and anything else `failed`. A request that needed
 * answers (`complete` false) and exited without them is not completed.
 */
export function classifyRequestEnd(
  exit: EngineExit,
  seen: { finished?: FinishReason; error?: string; cancelled: boolean; complete: boolean },
): RequestEnd {
  let reason: FinishReason = seen.finished ?? (seen.cancelled ? 'stopped' : exit.code === 0 ? 'completed' : 'failed');
  if (reason === 'completed' && !seen.complete) reason = seen.cancelled ? 'stopped' : 'failed';
  if (reason !== 'failed') return { reason };
  if (seen.error) return { reason, error: seen.error };
  const last = stderrLines(exit, 1)[0];
  return { reason, error: `the engine ${describeExit(exit)}${last ? `: ${last}` : ''}` };
}
