// The Slurm launcher end to end on a REAL single-node Slurm cluster (munged + slurmctld + slurmd started in a temp
// folder by python/tests/slurm_cluster.py, stopped by PID at the end): `dora train --launcher slurm` submits a 2-task
// gloo job of the demo preset on the CPU; the status the Runs view shows (slurmStatusOf) goes queued → running →
// finished; Stop (the run manager's, i.e. scancel --signal=USR1) leaves a checkpoint; one local process continues that
// 2-process checkpoint; a rank killed with SIGKILL marks the run failed with that rank's last log lines.
// Needs root (CI runs as root) and Debian's slurm-wlm + munge (scripts/install-system-deps.sh).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readEvents, readRunStatus } from '../../src/core/node/runDir';
import { readSlurmJobs, slurmPaths } from '../../src/core/node/slurm';
import type { RunStatus } from '../../src/core/runRecords';
import type { EngineClient } from '../../src/host/engine/engineClient';
import { RunManager } from '../../src/host/runs/runManager';
import { slurmStatusOf } from '../../src/host/runs/slurmRuns';
import { generateSyntheticVideo } from '../../src/trainer/data/syntheticVideo';
import { CLI, repoRoot, writeConfig } from './helpers';

const work = mkdtempSync(join(tmpdir(), 'dora-slurm-'));
const clusterDir = join(work, 'cluster');
const CLUSTER = join(repoRoot, 'python', 'tests', 'slurm_cluster.py');
let env: NodeJS.ProcessEnv = process.env;
let video = '';

before(async () => {
  const started = spawnSync('python3', [CLUSTER, 'start', clusterDir], { encoding: 'utf8' });
  assert.equal(started.status, 0, `the Slurm test cluster did not start: ${started.stderr}`);
  env = { ...process.env, SLURM_CONF: JSON.parse(started.stdout).SLURM_CONF };
  process.env.SLURM_CONF = env.SLURM_CONF; // the host functions run Slurm's commands from this process
  // 8 s at 15 fps: 120 frames (the demo preset's clips span 32).
  mkdirSync(join(work, 'video'), { recursive: true });
  video = (await generateSyntheticVideo(join(work, 'video', 'tour'), { durationSeconds: 8, width: 160, height: 96, fps: 15, seed: 7 }))
    .video;
});

after(() => {
  spawnSync('python3', [CLUSTER, 'stop', clusterDir], { stdio: 'inherit' });
  if (process.env.DORA_KEEP_TEST_DIRS) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
});

function config(name: string, maxFrames: number, runtime: Record<string, unknown> = {}): string {
  return writeConfig(join(work, 'configs'), name, {
    preset: 'demo',
    name,
    data: { video, maxFrames, frameCache: { dir: join(work, 'frames') } },
    runtime: {
      engine: 'pytorch',
      launcher: 'slurm',
      device: 'cpu',
      distributed: { nproc: 2 },
      runsDir: join(work, 'runs'),
      logEvery: 1,
      snapshotEvery: 2,
      checkpointEvery: 1000,
      ...runtime,
    },
  });
}

function dora(args: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 300_000 });
  return { code: r.status ?? 1, out: `${r.stdout}\n${r.stderr}` };
}

function runDirOf(out: string): string {
  const m = /run folder: (.+)/.exec(out);
  assert.ok(m, `no run folder in:\n${out}`);
  return m[1].startsWith('/') ? m[1].trim() : join(repoRoot, m[1].trim());
}

async function status(runDir: string) {
  const [report, events] = await Promise.all([readRunStatus(runDir), readEvents(runDir)]);
  return (await slurmStatusOf(runDir, events.records, report))!;
}

/** Polls the Runs view's status until `until` says stop; returns every distinct status seen, in order. */
async function watch(runDir: string, until: (s: RunStatus, step: number) => boolean, timeoutMs = 180_000): Promise<RunStatus[]> {
  const seen: RunStatus[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status(runDir);
    if (seen[seen.length - 1] !== s.status.status) seen.push(s.status.status);
    const step = Math.max(s.status.step, ...metricSteps(runDir), 0);
    if (until(s.status.status, step)) return seen;
    if (Date.now() > deadline) {
      const queue = spawnSync('squeue', ['-a', '-l'], { env, encoding: 'utf8' }).stdout;
      const node = spawnSync('sinfo', ['-N', '-l'], { env, encoding: 'utf8' }).stdout;
      assert.fail(`timed out; statuses seen: ${seen.join(' → ')}; last reason: ${s.status.reason}\n${queue}\n${node}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Resolves once the batch script recorded the end of the run's current job (slurm/end-<job>.json). */
async function jobEnded(runDir: string, timeoutMs = 60_000): Promise<{ exitCode: number }> {
  const job = (await readSlurmJobs(runDir))!.jobs.at(-1)!;
  const file = slurmPaths(runDir).end(job.jobId);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    assert.ok(Date.now() < deadline, `no ${file} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return JSON.parse(readFileSync(file, 'utf8')) as { exitCode: number };
}

function metricSteps(runDir: string): number[] {
  const file = join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { step: number }).step);
}

test('a 2-task Slurm job of the demo preset: queued → running → finished, rank 0 writes the run folder', async () => {
  // Fill the node first, so the run really waits in the queue.
  const blocker = execFileSync('sbatch', ['--parsable', '--ntasks=4', '--wrap', 'sleep 300', '-o', '/dev/null'], {
    env,
    encoding: 'utf8',
  }).trim();
  let runDir = '';
  try {
    const submitted = dora(['train', config('queued', 60), '--nproc', '2']);
    assert.equal(submitted.code, 0, submitted.out);
    assert.match(submitted.out, /launch: Slurm job \d+ \(1 node\(s\) × 2 task\(s\) = 2 process\(es\)\)/);
    runDir = runDirOf(submitted.out);
    // Queued, with the scheduler's reason once it has looked at the job.
    let first = await status(runDir);
    for (let i = 0; i < 40 && !/\(\w+\)$/.test(first.status.reason ?? ''); i++) {
      await new Promise((r) => setTimeout(r, 250));
      first = await status(runDir);
    }
    assert.equal(first.status.status, 'queued', first.status.reason);
    assert.match(first.status.reason ?? '', /PENDING \((Resources|Priority)\)/);
  } finally {
    execFileSync('scancel', [blocker], { env });
  }
  const seen = await watch(runDir, (s) => s === 'finished' || s === 'failed');
  assert.deepEqual(
    seen.filter((s) => s !== 'starting'),
    ['queued', 'running', 'finished'],
    `statuses: ${seen.join(' → ')}`,
  );
  assert.deepEqual(metricSteps(runDir), [1, 2, 3, 4, 5, 6, 7]); // 28 clip starts / (2 tasks × 2 clips)
  const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(info.worldSize, 2);
  assert.equal(info.launcher, 'slurm');
  assert.deepEqual(
    readdirSync(join(runDir, 'logs'))
      .filter((n) => n.startsWith('rank-'))
      .sort(),
    ['rank-0.log', 'rank-1.log'],
  );
  assert.ok(readdirSync(join(runDir, 'snapshots')).length > 0, 'rank 0 wrote snapshots (tracker on)');
  assert.equal((await jobEnded(runDir)).exitCode, 0);
});

let stoppedRun = '';

test('Stop asks the job for a checkpoint (SIGUSR1), then one local process continues the 2-process checkpoint', async () => {
  const submitted = dora(['train', config('stopped', 84)]); // 52 clip starts / 4 = 13 steps
  assert.equal(submitted.code, 0, submitted.out);
  const runDir = (stoppedRun = runDirOf(submitted.out));
  await watch(runDir, (s, step) => s === 'running' && step >= 2);
  const manager = new RunManager({ engines: {} as EngineClient, stopGraceMs: 120_000 });
  assert.equal(await manager.stop(runDir), 'signalled');
  await watch(runDir, (s) => s === 'stopped' || s === 'failed');
  const stopped = await status(runDir);
  assert.equal(stopped.status.status, 'stopped', stopped.status.reason);
  assert.match(stopped.status.reason ?? '', /SIGUSR1/);
  const last = Math.max(...metricSteps(runDir));
  assert.ok(last < 13, `stopped early (at ${last})`);
  assert.ok(existsSync(join(runDir, 'checkpoints', `step-${String(last).padStart(6, '0')}.json`)), 'a checkpoint of the last step');
  // One process, 2 clips per step (the job had 2 × 2): the same point of the epoch is step 2·last.
  const resumed = dora(['train', '--resume', 'latest', '--run-dir', runDir, '--launcher', 'local', '--max-steps', String(2 * last + 2)]);
  assert.equal(resumed.code, 0, resumed.out);
  const events = (await readEvents(runDir)).records;
  const back = events.filter((e) => e.type === 'resumed').pop() as unknown as Record<string, number>;
  assert.equal(back.worldSize, 1);
  assert.equal(back.checkpointWorldSize, 2);
  assert.equal(back.step, 2 * last);
  assert.deepEqual(metricSteps(runDir).slice(-2), [2 * last + 1, 2 * last + 2]);
  assert.equal((await status(runDir)).status.status, 'stopped'); // --max-steps: the local engine's own records decide
});

test('a rank killed with SIGKILL: the run is failed with that rank and its last lines; the lock is gone', async () => {
  assert.ok(stoppedRun, 'needs the run of the previous test');
  const submitted = dora(['train', '--resume', 'latest', '--run-dir', stoppedRun, '--launcher', 'slurm']);
  assert.equal(submitted.code, 0, submitted.out);
  // The job (2 × 2 clips) continues the 1-process checkpoint at half its step number: wait for its first new record.
  const records = metricSteps(stoppedRun).length;
  await watch(stoppedRun, (s) => s === 'running' && metricSteps(stoppedRun).length > records);
  const rankLog = readFileSync(join(stoppedRun, 'logs', 'rank-1.log'), 'utf8');
  const pid = Number([...rankLog.matchAll(/process 1 of 2 \(pid (\d+)/g)].pop()![1]);
  process.kill(pid, 'SIGKILL');
  await watch(stoppedRun, (s) => s === 'failed' || s === 'finished');
  // Rank 0 may write "lost contact" first; the batch script then names the rank srun saw die.
  assert.notEqual((await jobEnded(stoppedRun)).exitCode, 0);
  const failed = await status(stoppedRun);
  assert.equal(failed.status.status, 'failed');
  assert.match(failed.status.reason ?? '', /rank 1 on \S+: Killed; last lines of logs\/rank-1\.log/);
  assert.ok(!existsSync(join(stoppedRun, 'run.lock')), 'job-end removed the dead rank 0 lock');
});
