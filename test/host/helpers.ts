// Shared helpers of the host unit tests: a temp copy of the fixture run, and a liveness probe that
// treats every pid as dead (the fixture's trainer is long gone).
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { LivenessProbe } from '../../src/core/runRecords';

export const FIXTURE_RUNS = path.resolve(__dirname, '..', 'fixtures', 'runs');
export const FIXTURE_RUN_ID = '20261126-114909-demo';
export const FIXTURE_RUN_DIR = path.join(FIXTURE_RUNS, 'demo-run');

/** A fresh temp folder holding `runs/<FIXTURE_RUN_ID>` (a copy of the fixture). */
export function copyFixture(): { root: string; runsDir: string; runDir: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'dora-host-test-'));
  const runsDir = path.join(root, 'runs');
  const runDir = path.join(runsDir, FIXTURE_RUN_ID);
  cpSync(FIXTURE_RUN_DIR, runDir, { recursive: true });
  mkdirSync(path.join(runDir, 'checkpoints'), { recursive: true }); // git does not keep empty folders
  return { root, runsDir, runDir };
}

export const deadProbe: LivenessProbe = { now: Date.parse('2026-11-26T12:00:00Z'), hostname: 'vm', isPidAlive: () => false };
