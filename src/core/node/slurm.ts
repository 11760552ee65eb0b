// Slurm for a run folder (docs/launchers.md): write and submit the batch script, record the job in `<run>/slurm/`,
// ask Slurm for its state, signal or cancel it. Used by the CLI (`dora train --launcher slurm`) and by the extension
// (Start Run → Slurm, the runs tree, Stop), so both see and do the same. Every Slurm command runs with a timeout and
// without a shell; a missing command is reported as such (a run folder opened on a machine without Slurm still shows
// what its files say).

import { execFile } from 'node:child_process';
import { mkdir, open, readFile, realpath, rmdir, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from './atomicWrite';
import { readRunInfo } from './runDir';
import { isSafelyInside } from './runPathSafety';
import { buildSbatchScript, type SbatchScriptOptions } from '../slurmScript';
import {
  isSlurmJobEnd,
  isSlurmJobId,
  isSlurmJobsFile,
  parseScontrolJob,
  SBATCH_SCRIPT_NAME,
  type SlurmJobEnd,
  type SlurmJobInfo,
  type SlurmJobRecord,
  type SlurmJobsFile,
  type SlurmJobView,
} from '../slurmState';

export const SLURM_DIR = 'slurm';

export function slurmPaths(runDir: string) {
  const dir = path.join(runDir, SLURM_DIR);
  return {
    dir,
    jobs: path.join(dir, 'jobs.json'),
    script: (n: number) => path.join(dir, `job-${n}.sbatch`),
    end: (jobId: string) => path.join(dir, `end-${jobId}.json`),
    output: (jobId: string) => path.join(runDir, 'logs', `slurm-${jobId}.out`),
  };
}

/** A Slurm command that could not be run or that refused; `message` is for the user, `fix` how to get on. */
export class SlurmError extends Error {
  constructor(
    message: string,
    readonly fix: string,
    readonly missing = false,
  ) {
    super(message);
    this.name = 'SlurmError';
  }
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a Slurm client command (no shell); throws SlurmError with `missing` when it is not installed here. */
export function slurmCommand(command: string, args: string[], timeoutMs = 30_000, env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, env: env ?? process.env, maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(
          new SlurmError(
            `${command} not found: Slurm's commands are not installed on this machine (or not on PATH)`,
            "Run this on the cluster's login node (in VS Code: Remote-SSH to it), or install the Slurm client " +
              '(Debian: apt-get install slurm-client) configured for the cluster',
            true,
          ),
        );
        return;
      }
      if (error && error.killed) {
        reject(
          new SlurmError(
            `${command} ${args.join(' ')} did not answer within ${timeoutMs / 1000} s`,
            'Check that slurmctld is reachable (sinfo)',
          ),
        );
        return;
      }
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export async function readSlurmJobs(runDir: string): Promise<SlurmJobsFile | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(slurmPaths(runDir).jobs, 'utf8'));
    return isSlurmJobsFile(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export async function readSlurmJobEnd(runDir: string, jobId: string): Promise<SlurmJobEnd | undefined> {
  if (!isSlurmJobId(jobId)) return undefined;
  try {
    const value: unknown = JSON.parse(await readFile(slurmPaths(runDir).end(jobId), 'utf8'));
    return isSlurmJobEnd(value) && value.jobId === jobId ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The last `lines` lines of a file (reads at most its last 64 KiB); '' when unreadable. */
export async function tailFile(file: string, lines = 12): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8').replace(/\n$/, '').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  } finally {
    await handle?.close();
  }
}

/** Slurm's answer for one job: info, undefined (Slurm does not know it, any more), or 'no-slurm'. */
export async function queryJob(jobId: string, env?: NodeJS.ProcessEnv): Promise<SlurmJobInfo | undefined | 'no-slurm'> {
  if (!isSlurmJobId(jobId)) return undefined;
  try {
    const r = await slurmCommand('scontrol', ['show', 'job', '-o', jobId], 15_000, env);
    return r.code === 0 ? parseScontrolJob(r.stdout) : undefined;
  } catch (error) {
    if (error instanceof SlurmError) return 'no-slurm';
    throw error;
  }
}

export interface JobViewOptions {
  env?: NodeJS.ProcessEnv;
  /** True when the job's end is already settled in the run's files: Slurm is not asked (it may have forgotten the job). */
  settled?: (record: SlurmJobRecord, end: SlurmJobEnd | undefined) => boolean;
  query?: typeof queryJob;
}

/** Everything known of a run's current Slurm job, or undefined when the run was not launched by Slurm. */
export async function readSlurmJobView(runDir: string, o: JobViewOptions = {}): Promise<SlurmJobView | undefined> {
  const jobs = await readSlurmJobs(runDir);
  const record = jobs?.jobs[jobs.jobs.length - 1];
  if (!record) return undefined;
  const end = await readSlurmJobEnd(runDir, record.jobId);
  const settled = o.settled?.(record, end) ?? false;
  const answer = settled ? undefined : await (o.query ?? queryJob)(record.jobId, o.env);
  const info = answer === 'no-slurm' ? undefined : answer;
  const over = end !== undefined || (info !== undefined && info.state !== 'queued' && info.state !== 'running');
  const outputTail = over ? await tailFile(slurmPaths(runDir).output(record.jobId)) : undefined;
  const launcher = ((await readRunInfo(runDir)) as { launcher?: unknown } | undefined)?.launcher;
  return {
    record,
    info,
    slurmAvailable: settled || answer !== 'no-slurm',
    end,
    ...(outputTail ? { outputTail } : {}),
    ...(typeof launcher === 'string' ? { engineLauncher: launcher } : {}),
  };
}

export interface SubmitOptions extends Omit<SbatchScriptOptions, 'submitHost' | 'time'> {
  resume: string | null;
  partition: string | null;
  env?: NodeJS.ProcessEnv;
}

/** `sbatch --parsable`'s answer: `123` or `123;cluster`. */
export function parseSbatchParsable(stdout: string): string | undefined {
  const id = stdout.trim().split('\n').pop()?.split(';')[0].trim();
  return isSlurmJobId(id) ? id : undefined;
}

/**
 * Writes `slurm/job-N.sbatch`, submits it and records the job in `slurm/jobs.json` (the run appears at once, queued).
 * A missing sbatch or a rejected job throws SlurmError with Slurm's own message; nothing is recorded then.
 */
export async function submitSlurmRun(o: SubmitOptions): Promise<SlurmJobRecord> {
  const paths = slurmPaths(o.runDir);
  const previous = (await readSlurmJobs(o.runDir))?.jobs ?? [];
  const n = previous.length + 1;
  const submitted = new Date().toISOString();
  const script = buildSbatchScript({ ...o, submitHost: hostname(), time: submitted });
  await mkdir(paths.dir, { recursive: true });
  await mkdir(path.join(o.runDir, 'logs'), { recursive: true });
  await writeFileAtomic(paths.script(n), script);
  const r = await slurmCommand('sbatch', ['--parsable', paths.script(n)], 60_000, o.env).catch(async (error: unknown) => {
    await unwrite(o.runDir, paths.script(n));
    throw error;
  });
  const jobId = r.code === 0 ? parseSbatchParsable(r.stdout) : undefined;
  if (!jobId) {
    await unwrite(o.runDir, paths.script(n));
    const said = (r.stderr || r.stdout).trim() || `exit status ${r.code}`;
    throw new SlurmError(
      `sbatch rejected the job of ${o.runDir}: ${said}`,
      'Fix the Slurm settings (runtime.slurm: partition, account, time, gpusPerNode, extraSbatch) for this cluster; ' +
        `the script is ${paths.script(n)}`,
    );
  }
  const record: SlurmJobRecord = {
    jobId,
    submitted,
    script: path.basename(paths.script(n)),
    resume: o.resume,
    nodes: o.nodes,
    tasksPerNode: o.tasksPerNode,
    gpusPerNode: o.gpusPerNode,
    partition: o.partition,
    submitHost: hostname(),
  };
  await writeJsonAtomic(paths.jobs, { formatVersion: 1, jobs: [...previous, record] } satisfies SlurmJobsFile);
  return record;
}

/** Takes back a refused submission: its script, and slurm/ and logs/ when nothing else is in them. */
async function unwrite(runDir: string, script: string): Promise<void> {
  await unlink(script).catch(() => undefined);
  for (const dir of [slurmPaths(runDir).dir, path.join(runDir, 'logs')]) await rmdir(dir).catch(() => undefined); // only when empty
}

/** `scancel [--signal=SIG] <job>`: with a signal, only the job's tasks get it (the engine checkpoints on SIGUSR1). */
export async function cancelJob(jobId: string, signal?: 'USR1', env?: NodeJS.ProcessEnv): Promise<void> {
  if (!isSlurmJobId(jobId)) throw new SlurmError(`${jobId}: not a Slurm job id`, 'Use the job id recorded in slurm/jobs.json');
  const r = await slurmCommand('scancel', [...(signal ? [`--signal=${signal}`] : []), jobId], 30_000, env);
  if (r.code !== 0) throw new SlurmError(`scancel ${jobId}: ${(r.stderr || r.stdout).trim()}`, 'Check the job with squeue');
}

/**
 * Why the job a run folder's slurm/jobs.json names cannot be proven to be that run's own (undefined: it is). The folder
 * is untrusted input (docs/run-directory.md): Stop signals or cancels a job only when Slurm says it runs this run's
 * batch script, a plain `slurm/job-N.sbatch` inside the folder (symlinks resolved), so a crafted jobs.json cannot make
 * Stop cancel another job of the user.
 */
export async function slurmJobProblem(runDir: string, record: SlurmJobRecord, info: SlurmJobInfo): Promise<string | undefined> {
  const script = path.join(SLURM_DIR, record.script);
  if (!SBATCH_SCRIPT_NAME.test(record.script) || !isSafelyInside(runDir, script))
    return `slurm/jobs.json names ${JSON.stringify(record.script)} as the script of job ${record.jobId}: not a batch script of this run`;
  if (!info.command || info.command === '(null)')
    return `Slurm does not say which script job ${record.jobId} runs, so it cannot be proven to be this run's job`;
  const real = (file: string) => realpath(file).catch(() => path.resolve(file));
  const [ours, theirs] = await Promise.all([real(path.join(runDir, script)), real(info.command)]);
  return ours === theirs ? undefined : `Slurm job ${record.jobId} runs ${info.command}, not this run's ${path.join(runDir, script)}`;
}

/** Whether a run folder was launched through Slurm (has slurm/jobs.json). */
export async function hasSlurmJobs(runDir: string): Promise<boolean> {
  try {
    await readFile(slurmPaths(runDir).jobs);
    return true;
  } catch {
    return false; // missing or unreadable: not a run this machine can follow through Slurm
  }
}
