// The pure Slurm/torchrun parts: the batch script, the settings' checks, Slurm's answers and the run status they give.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '../../src/core/config';
import type { RunEvent, RunStatusReport } from '../../src/core/runRecords';
import {
  buildSbatchScript,
  DEFAULT_SLURM_SETTINGS,
  sbatchPath,
  shellQuote,
  slurmSettingsProblems,
  torchrunArgs,
  type SbatchScriptOptions,
} from '../../src/core/slurmScript';
import { normaliseSlurmState, parseScontrolJob, slurmRunStatus, type SlurmJobView } from '../../src/core/slurmState';
import { parseSbatchParsable } from '../../src/core/node/slurm';

const base: SbatchScriptOptions = {
  runDir: '/scratch/runs/20260101-000000-venice',
  runId: '20260101-000000-venice',
  runName: 'venice',
  pythonPath: '/opt/dora/python',
  python: '/usr/bin/python3',
  trainArgs: ['--run-dir', '/scratch/runs/20260101-000000-venice', '--frame-cache', '/scratch/frames/venice-abc'],
  nodes: 2,
  tasksPerNode: 8,
  gpusPerNode: 8,
  settings: {
    ...DEFAULT_SLURM_SETTINGS,
    partition: 'gpu_p2',
    time: '100:00:00',
    account: 'ofq@v100',
    extraSbatch: ['#SBATCH --qos=qos_gpu-t4'],
  },
  submitHost: 'login1',
  time: '2026-01-01T00:00:00.000Z',
};

test('the batch script: one task per GPU via srun, the settings as #SBATCH lines, job-end after srun', () => {
  const script = buildSbatchScript(base);
  const lines = script.split('\n');
  for (const line of [
    '#SBATCH --nodes=2',
    '#SBATCH --ntasks-per-node=8',
    '#SBATCH --gres=gpu:8',
    '#SBATCH --partition=gpu_p2',
    '#SBATCH --account=ofq@v100',
    '#SBATCH --time=100:00:00',
    '#SBATCH --qos=qos_gpu-t4',
    '#SBATCH --signal=USR1@120',
    '#SBATCH --output=/scratch/runs/20260101-000000-venice/logs/slurm-%j.out',
    'PY="${DORA_PYTHON:-/usr/bin/python3}"',
  ])
    assert.ok(lines.includes(line), `missing: ${line}\n${script}`);
  const srun = lines.find((l) => l.startsWith('srun '))!;
  assert.match(
    srun,
    /^srun --kill-on-bad-exit=1 --ntasks-per-node=8 "\$PY" -m dora_studio train --run-dir \/scratch\/runs\/\S+ --frame-cache/,
  );
  const sbatchLines = lines.filter((l) => l.startsWith('#SBATCH'));
  assert.equal(lines.indexOf(sbatchLines.at(-1)!) < lines.indexOf(srun), true);
  assert.ok(
    lines.indexOf('"$PY" -m dora_studio job-end --run-dir "$RUN_DIR" --job-id "$SLURM_JOB_ID" --exit-code "$rc"') > lines.indexOf(srun),
  );
  // #SBATCH lines must all come before the first command (sbatch stops reading them there).
  const firstCommand = lines.findIndex((l) => l !== '' && !l.startsWith('#'));
  assert.ok(lines.lastIndexOf(sbatchLines.at(-1)!) < firstCommand);
});

test('CPU jobs ask for no GPU; a setup line runs before the engine and its python3 is used', () => {
  const script = buildSbatchScript({ ...base, gpusPerNode: 0, settings: { ...DEFAULT_SLURM_SETTINGS, setup: 'module load pytorch/2.3' } });
  assert.ok(!script.includes('--gres'));
  assert.ok(!script.includes('--partition'));
  const lines = script.split('\n');
  assert.ok(lines.indexOf('module load pytorch/2.3') < lines.findIndex((l) => l.startsWith('srun ')));
  assert.ok(lines.includes('PY="${DORA_PYTHON:-python3}"'));
});

test('paths are quoted for the shell and for #SBATCH lines; characters sbatch misreads are refused', () => {
  assert.equal(shellQuote('/a/b-c_1.json'), '/a/b-c_1.json');
  assert.equal(shellQuote("/my runs/it's"), `'/my runs/it'\\''s'`);
  assert.equal(sbatchPath('/my runs/x', '/logs/slurm-%j.out'), '"/my runs/x/logs/slurm-%j.out"');
  assert.throws(() => sbatchPath('/runs/100%'), /may not contain/);
  const spaced = buildSbatchScript({ ...base, runDir: '/my runs/r', trainArgs: ['--run-dir', '/my runs/r'] });
  assert.match(spaced, /^#SBATCH --chdir="\/my runs\/r"$/m);
  assert.match(spaced, /train --run-dir '\/my runs\/r'$/m);
});

test('the Slurm settings are checked field by field, and in a config', () => {
  const problems = slurmSettingsProblems({ ...DEFAULT_SLURM_SETTINGS, time: '2 days', partition: 'gpu;rm', extraSbatch: ['--qos=x'] });
  assert.deepEqual(
    problems.map((p) => p.field),
    ['runtime.slurm.time', 'runtime.slurm.partition', 'runtime.slurm.extraSbatch[0]'],
  );
  for (const good of ['30', '30:00', '12:00:00', '1-12', '1-12:30', '1-12:30:00'])
    assert.deepEqual(slurmSettingsProblems({ ...DEFAULT_SLURM_SETTINGS, time: good }), [], good);
  const config = (runtime: Record<string, unknown>) => validateConfig({ data: { video: 'v.mp4' }, runtime }, 'f.dora.json');
  assert.deepEqual(config({ engine: 'pytorch', launcher: 'slurm', slurm: { time: '1-00:00:00', setup: 'module load x' } }), []);
  const tfjs = config({ launcher: 'slurm' });
  assert.equal(tfjs[0].path, '$.runtime.launcher');
  assert.match(tfjs[0].fix, /runtime\.engine to "pytorch"/);
  const badLine = config({ engine: 'pytorch', slurm: { extraSbatch: ['--mem=10G'] } });
  assert.equal(badLine[0].path, '$.runtime.slurm.extraSbatch[0]');
  assert.match(config({ engine: 'pytorch', slurm: { gpusPerNode: -1 } })[0].message, /integer >= 0 or null/);
});

test('torchrun: standalone on one node, c10d rendezvous on several (underscore flags every torchrun knows)', () => {
  const one = torchrunArgs({ python: 'python', trainArgs: ['--run-dir', '/r'], nprocPerNode: 8, nodes: 1, rdzvId: 'r' });
  assert.deepEqual(one, [
    '-m',
    'torch.distributed.run',
    '--standalone',
    '--nnodes',
    '1',
    '--nproc_per_node',
    '8',
    '-m',
    'dora_studio',
    'train',
    '--run-dir',
    '/r',
  ]);
  const two = torchrunArgs({ python: 'python', trainArgs: [], nprocPerNode: 4, nodes: 2, rdzvEndpoint: 'n1:29400', rdzvId: 'run-7' });
  assert.deepEqual(two.slice(2, 10), ['--nnodes', '2', '--rdzv_backend', 'c10d', '--rdzv_endpoint', 'n1:29400', '--rdzv_id', 'run-7']);
});

test("Slurm's answers: scontrol show job -o, sbatch --parsable, the state words", () => {
  const pending = parseScontrolJob(
    'JobId=42 JobName=dora-x UserId=me(1) JobState=PENDING Reason=Resources Dependency=(null) ExitCode=0:0 NodeList=(null)',
  );
  assert.deepEqual(pending, { jobId: '42', state: 'queued', slurmState: 'PENDING', reason: 'Resources', exitCode: '0:0' });
  const failed = parseScontrolJob('JobId=43 JobState=NODE_FAIL Reason=NodeDown ExitCode=0:9 NodeList=gpu[01-02]');
  assert.equal(failed?.state, 'failed');
  assert.equal(failed?.nodeList, 'gpu[01-02]');
  assert.equal(parseScontrolJob('slurm_load_jobs error: Invalid job id specified'), undefined);
  // The batch script (what proves a job is a run's own): a path may hold spaces; it ends at the next Key=.
  const running = parseScontrolJob(
    'JobId=44 JobState=RUNNING Command=/home/me/my runs/r1/slurm/job-1.sbatch WorkDir=/home/me StdErr=/x/slurm-44.out',
  );
  assert.equal(running?.command, '/home/me/my runs/r1/slurm/job-1.sbatch');
  assert.equal(parseScontrolJob('JobId=45 JobState=RUNNING Command=/r/slurm/job-2.sbatch')?.command, '/r/slurm/job-2.sbatch');
  assert.equal(parseSbatchParsable('1234\n'), '1234');
  assert.equal(parseSbatchParsable('1234;cluster2'), '1234');
  assert.equal(parseSbatchParsable('sbatch: error: Batch job submission failed'), undefined);
  const states: [string, string][] = [
    ['RUNNING', 'running'],
    ['COMPLETING', 'running'],
    ['COMPLETED', 'completed'],
    ['CANCELLED+', 'cancelled'],
    ['TIMEOUT', 'timeout'],
    ['OUT_OF_MEMORY', 'failed'],
    ['CONFIGURING', 'queued'],
  ];
  for (const [raw, want] of states) assert.equal(normaliseSlurmState(raw), want, raw);
});

const record = {
  jobId: '7',
  submitted: '2026-01-01T00:00:00.000Z',
  script: 'job-1.sbatch',
  resume: null,
  nodes: 1,
  tasksPerNode: 2,
  gpusPerNode: 0,
  partition: null,
  submitHost: 'login',
};
const view = (v: Partial<SlurmJobView>): SlurmJobView => ({ record, slurmAvailable: true, ...v });
const info = (slurmState: string, reason?: string) => ({
  jobId: '7',
  state: normaliseSlurmState(slurmState),
  slurmState,
  ...(reason ? { reason } : {}),
});
const at = (type: RunEvent['type'], time: string, extra: Record<string, unknown> = {}) => ({ type, time, step: 0, ...extra }) as RunEvent;
const starting: RunStatusReport = { status: 'starting', step: 0 };

test('the run status of a Slurm run: queued, starting, running, a job that ended without the engine', () => {
  assert.deepEqual(slurmRunStatus(starting, [], view({ info: info('PENDING', 'Priority') })), {
    status: 'queued',
    step: 0,
    reason: 'Slurm job 7 PENDING (Priority)',
  });
  assert.equal(slurmRunStatus(starting, [], view({ info: info('RUNNING') })).status, 'starting');
  const early = slurmRunStatus(starting, [], view({ info: info('FAILED'), outputTail: 'python3: command not found' }));
  assert.equal(early.status, 'failed');
  assert.match(early.reason!, /ended FAILED before the engine started; last lines of logs\/slurm-7\.out:\npython3: command not found/);
  // The engine wrote its start after the submission: its records decide, unless the job is gone without its end.
  const started = [at('started', '2026-01-01T00:01:00.000Z')];
  const running: RunStatusReport = { status: 'running', step: 3 };
  assert.deepEqual(slurmRunStatus(running, started, view({ info: info('RUNNING') })), running);
  const lost = slurmRunStatus(running, started, view({ info: info('NODE_FAIL') }));
  assert.equal(lost.status, 'failed');
  assert.match(lost.reason!, /NODE_FAIL without the trainer's final event/);
  // Events of an earlier job do not count for this one; a later local resume does.
  const old = [at('stopped', '2025-12-31T00:00:00.000Z', { reason: 'x' })];
  assert.equal(slurmRunStatus({ status: 'stopped', step: 3 }, old, view({ info: info('PENDING') })).status, 'queued');
  assert.deepEqual(slurmRunStatus(running, started, view({ info: info('COMPLETED'), engineLauncher: 'local' })), running);
  // Opened where Slurm's commands are missing: what the files say.
  const elsewhere = slurmRunStatus(starting, [], view({ slurmAvailable: false }));
  assert.equal(elsewhere.status, 'queued');
  assert.match(elsewhere.reason!, /no Slurm commands here/);
});
