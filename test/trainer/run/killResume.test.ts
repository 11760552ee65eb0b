// `dora train` on a real video (vtest.avi, from Debian's opencv-doc) with the cpu-small preset: the process is
// killed with SIGKILL mid-run, resumed with --resume latest, and must end exactly where an uninterrupted run ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testVideosOrSkip } from '../data/helpers';
import { CLI, readJsonl, runCli, writeConfig } from '../helpers';

const { videos, skip } = testVideosOrSkip();

function cpuSmallConfig(video: string): Record<string, unknown> {
  // The cpu-small preset as shipped; only the intervals are shortened so a checkpoint lands early.
  return {
    preset: 'cpu-small',
    name: 'vtest',
    data: { video },
    runtime: { logEvery: 1, snapshotEvery: 2, checkpointEvery: 2, runsDir: 'runs' },
  };
}

function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (predicate()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error('timed out'));
      }
    }, 100);
  });
}

test(
  'cpu-small on vtest.avi: kill -9 after a checkpoint, --resume latest, same losses and weights as an uninterrupted run',
  { skip, timeout: 900_000 },
  async () => {
    const work = mkdtempSync(join(tmpdir(), 'dora-kill-'));
    const cacheDir = join(work, 'cache');
    const config = writeConfig(work, 'vtest', cpuSmallConfig(videos!.vtest));
    const steps = 4;

    const reference = runCli(
      ['train', config, '--max-steps', String(steps), '--cache-dir', cacheDir, '--run-dir', join(work, 'runs', 'reference')],
      600_000,
    );
    assert.equal(reference.code, 0, reference.out);

    const runDir = join(work, 'runs', 'killed');
    const child = spawn(
      process.execPath,
      [CLI, 'train', config, '--max-steps', String(steps), '--cache-dir', cacheDir, '--run-dir', runDir],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const checkpointSidecar = join(runDir, 'checkpoints', 'step-000002.json');
    await waitFor(() => existsSync(checkpointSidecar), 600_000);
    child.kill('SIGKILL');
    assert.equal(await exited, null, 'the trainer should have been killed, not have exited by itself');
    assert.ok(!existsSync(join(runDir, 'checkpoints', 'step-000004.json')), 'killed too late to test a resume');

    const resumed = runCli(
      ['train', '--resume', 'latest', '--run-dir', runDir, '--max-steps', String(steps), '--cache-dir', cacheDir],
      600_000,
    );
    assert.equal(resumed.code, 0, resumed.out);

    const lossesOf = (dir: string) => readJsonl(join(dir, 'metrics.jsonl')).map((r) => [r.step as number, r.loss as number]);
    const expected = lossesOf(join(work, 'runs', 'reference'));
    assert.equal(expected.length, steps);
    assert.deepEqual(lossesOf(runDir), expected, 'the resumed run logs every step once, with the uninterrupted losses');
    const weights = (dir: string) => readFileSync(join(dir, 'checkpoints', 'step-000004.safetensors'));
    assert.ok(weights(runDir).equals(weights(join(work, 'runs', 'reference'))), 'final weights differ');
    const events = readJsonl(join(runDir, 'events.jsonl')).map((e) => e.type);
    assert.ok(events.includes('resumed'));
    assert.ok(readdirSync(join(runDir, 'snapshots')).length >= 2);
  },
);
