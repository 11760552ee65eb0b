// A Slurm run in the Runs view and Stop, with Slurm's commands replaced: a queued run is listed before the engine
// wrote anything, Stop cancels a queued job and asks a running one for a checkpoint before cancelling it, and a
// launch that sbatch refuses (or cannot run) names Slurm's message and leaves no run folder.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { submitSlurmRun } from '../../../src/core/node/slurm';
import { DEFAULT_SLURM_SETTINGS } from '../../../src/core/slurmScript';
import { normaliseSlurmState, type SlurmJobInfo } from '../../../src/core/slurmState';
import type { EngineClient } from '../../../src/host/engine/engineClient';
import { listRunFolders } from '../../../src/host/runs/runIndex';
import { launchRun, LaunchError } from '../../../src/host/runs/launchRun';
import { RunManager } from '../../../src/host/runs/runManager';
import { runNode } from '../../../src/host/runs/runTree';
import { slurmStatusOf, stopSlurmRun } from '../../../src/host/runs/slurmRuns';
import { deadProbe } from '../helpers';

/** Slurm's answer for job 41; `command`: the batch script it runs (by default the one submittedRun wrote). */
const info = (slurmState: string, reason?: string, command = scriptOf41): SlurmJobInfo => ({
  jobId: '41',
  state: normaliseSlurmState(slurmState),
  slurmState,
  ...(reason ? { reason } : {}),
  command,
});
let scriptOf41 = '';

/** A folder of fake Slurm commands (sbatch/scancel answering as told), first on PATH while `fn` runs. */
async function withFakeSlurm<T>(scripts: Record<string, string>, fn: (calls: string) => Promise<T>): Promise<T> {
  const bin = mkdtempSync(join(tmpdir(), 'fake-slurm-'));
  const calls = join(bin, 'calls.log');
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> ${calls}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved}`;
  try {
    return await fn(calls);
  } finally {
    process.env.PATH = saved;
  }
}

async function submittedRun(root: string): Promise<string> {
  const runDir = join(root, 'runs', '20260101-000000-venice');
  mkdirSync(runDir, { recursive: true });
  scriptOf41 = join(runDir, 'slurm', 'job-1.sbatch');
  writeFileSync(join(runDir, 'config.json'), '{}');
  await withFakeSlurm({ sbatch: 'echo 41' }, () =>
    submitSlurmRun({
      runDir,
      runId: 'x',
      runName: 'venice',
      pythonPath: '/p',
      python: 'python3',
      trainArgs: ['--run-dir', runDir],
      nodes: 1,
      tasksPerNode: 2,
      gpusPerNode: 0,
      settings: DEFAULT_SLURM_SETTINGS,
      resume: null,
      partition: null,
    }),
  );
  return runDir;
}

test('a submitted run is in the Runs view at once, queued with its job and reason', async () => {
  const root = mkdtempSync(join(tmpdir(), 'slurm-runs-'));
  const runDir = await submittedRun(root);
  assert.ok(existsSync(join(runDir, 'slurm', 'job-1.sbatch')));
  const [listed] = await listRunFolders(join(root, 'runs'), deadProbe); // no run.json, no events yet
  assert.equal(listed.dir, runDir);
  const status = await slurmStatusOf(runDir, [], { status: 'starting', step: 0 }, async () => info('PENDING', 'Resources'));
  assert.equal(status?.status.status, 'queued');
  const node = runNode({ summary: { ...listed, status: status!.status, slurm: status!.slurm } });
  assert.equal(node.description, 'queued · Slurm job 41 · 0');
  assert.match(node.tooltip ?? '', /Slurm job 41: PENDING \(Resources\)/);
  assert.equal(node.icon.id, 'watch');
  assert.match(node.contextValue, /\bactive\b/, 'Stop applies to a queued run');
});

test('Stop: a queued job is cancelled; a running one gets SIGUSR1, then scancel if it is still there after the grace', async () => {
  const root = mkdtempSync(join(tmpdir(), 'slurm-stop-'));
  const runDir = await submittedRun(root);
  const cancels: string[] = [];
  const cancel = async (job: string, signal?: 'USR1') => void cancels.push(signal ? `${signal} ${job}` : job);
  const log = () => undefined;
  const queued = await stopSlurmRun(runDir, { graceMs: 1000, log, cancel, query: async () => info('PENDING') });
  assert.equal(queued.result, 'cancelled');
  assert.deepEqual(cancels, ['41']);
  cancels.length = 0;
  const running = await stopSlurmRun(runDir, { graceMs: 300, pollMs: 50, log, cancel, query: async () => info('RUNNING') });
  assert.equal(running.result, 'stopping');
  await running.done;
  assert.deepEqual(cancels, ['USR1 41', '41'], 'still running after the grace period: cancelled');
  cancels.length = 0;
  let polls = 0;
  const ends = await stopSlurmRun(runDir, {
    graceMs: 5000,
    pollMs: 20,
    log,
    cancel,
    query: async () => (polls++ < 2 ? info('RUNNING') : info('COMPLETED')),
  });
  await ends.done;
  assert.deepEqual(cancels, ['USR1 41'], 'the job ended by itself (checkpoint written): no scancel');
  const gone = await stopSlurmRun(runDir, { graceMs: 1000, log, cancel, query: async () => undefined });
  assert.equal(gone.result, 'not-running');
});

test("Stop never signals a job that is not the run's own: another script, a script outside the folder, a link", async () => {
  const root = mkdtempSync(join(tmpdir(), 'slurm-crafted-'));
  const runDir = await submittedRun(root);
  const cancels: string[] = [];
  const cancel = async (job: string, signal?: 'USR1') => void cancels.push(signal ? `${signal} ${job}` : job);
  const stop = (command: string | undefined) =>
    stopSlurmRun(runDir, { graceMs: 100, log: () => undefined, cancel, query: async () => ({ ...info('RUNNING'), command }) });
  // A crafted jobs.json naming job 41 of the user, which runs another script.
  const other = await stop('/home/me/other-project/train.sbatch');
  assert.equal(other.result, 'refused');
  assert.match(other.reason ?? '', /runs \/home\/me\/other-project\/train\.sbatch, not this run's .*job-1\.sbatch/);
  assert.equal((await stop(undefined)).result, 'refused', 'Slurm does not say which script: not proven');
  // The run's own script name made a link to the other job's script.
  const outside = join(root, 'victim.sbatch');
  writeFileSync(outside, '#!/bin/sh\n');
  rmSync(scriptOf41);
  symlinkSync(outside, scriptOf41);
  const linked = await stop(outside);
  assert.equal(linked.result, 'refused');
  assert.match(linked.reason ?? '', /not a batch script of this run/);
  // A record naming a script outside slurm/.
  const jobsFile = join(runDir, 'slurm', 'jobs.json');
  const jobs = JSON.parse(readFileSync(jobsFile, 'utf8'));
  jobs.jobs[0].script = '../../victim.sbatch';
  writeFileSync(jobsFile, JSON.stringify(jobs));
  assert.equal((await stop(outside)).result, 'refused');
  assert.deepEqual(cancels, [], 'nothing was signalled or cancelled');
  // The manager reports the refusal (the command shows it) instead of signalling anything.
  const manager = new RunManager({ engines: {} as EngineClient });
  await withFakeSlurm({ scontrol: `echo "JobId=41 JobState=RUNNING Command=${outside} WorkDir=/"`, scancel: 'exit 0' }, async (calls) => {
    const result = await manager.stop(runDir);
    assert.ok(typeof result === 'object' && /not a batch script of this run/.test(result.refused), JSON.stringify(result));
    assert.doesNotMatch(readFileSync(calls, 'utf8'), /scancel/);
  });
});

const preparingEngines = (frameCacheDir: string) =>
  ({
    pythonPackageDir: '/opt/dora/python',
    prepareRun: async (r: { runDir: string }) => {
      writeFileSync(
        join(r.runDir, 'config.json'),
        JSON.stringify({ name: 'venice', runtime: { device: 'cpu', distributed: { nproc: 2, nodes: 1 }, slurm: DEFAULT_SLURM_SETTINGS } }),
      );
      return { reason: 'completed', prepared: { type: 'run-prepared', runDir: r.runDir, frameCacheDir, frameCount: 100 } };
    },
  }) as unknown as EngineClient;

const interpreter = {
  python: '/usr/bin/python3',
  source: 'search',
  pythonVersion: '3.11.2',
  torchVersion: '2.3.0',
  cuda: null,
  cudaAvailable: false,
  mpsAvailable: false,
};

test('a job sbatch rejects: its message, the fix, and no run folder left behind', async () => {
  const runsDir = join(mkdtempSync(join(tmpdir(), 'slurm-reject-')), 'runs');
  const rejected = await withFakeSlurm({ sbatch: 'echo "sbatch: error: invalid partition specified: gpu" >&2; exit 1' }, () =>
    launchRun(preparingEngines('/f'), {
      launcher: 'slurm',
      configPath: '/c.dora.json',
      runsDir,
      name: 'venice',
      interpreter,
      log: () => undefined,
    }).then(
      () => undefined,
      (e: Error) => e,
    ),
  );
  assert.ok(rejected instanceof LaunchError);
  assert.match(rejected.message, /sbatch rejected the job of .*: sbatch: error: invalid partition specified: gpu/);
  assert.match(rejected.fix, /runtime\.slurm/);
  assert.deepEqual(readdirSync(runsDir), [], 'the unstarted run folder was removed');
});

test('no sbatch on this machine: said so, with where to run it', async () => {
  const runsDir = join(mkdtempSync(join(tmpdir(), 'slurm-missing-')), 'runs');
  const saved = process.env.PATH;
  process.env.PATH = mkdtempSync(join(tmpdir(), 'empty-path-'));
  try {
    await assert.rejects(
      launchRun(preparingEngines('/f'), {
        launcher: 'slurm',
        configPath: '/c.dora.json',
        runsDir,
        name: 'venice',
        interpreter,
        log: () => undefined,
      }),
      (e: LaunchError) => /sbatch not found/.test(e.message) && /login node.*Remote-SSH/.test(e.fix),
    );
  } finally {
    process.env.PATH = saved;
  }
});

test('torchrun of torch 1.13 on Python 3.11 is refused before anything is made', async () => {
  const runsDir = join(mkdtempSync(join(tmpdir(), 'torchrun-')), 'runs');
  await assert.rejects(
    launchRun(preparingEngines('/f'), {
      launcher: 'torchrun',
      configPath: '/c.dora.json',
      runsDir,
      name: 'venice',
      interpreter: { ...interpreter, torchVersion: '1.13.0a0' },
      log: () => undefined,
    }),
    (e: LaunchError) => /torchrun of torch 1\.13\.0a0 does not run on Python 3\.11\.2/.test(e.message) && /torch ≥ 2\.0/.test(e.fix),
  );
  assert.ok(!existsSync(runsDir));
});
