/**
 * Opening a run: which config (with `--set` overrides) and which folder (a new one, or the run of the checkpoint to
 * resume), checked before anything is written (a bad config or a missing video creates no run folder); then the run
 * folder's lock (run.lock: one trainer per folder, released by runTraining when the run ends) and the writer of
 * run.json, events.jsonl and trainer.log (RunWriter). The first writes into the folder are `writeRunStart`'s, made by
 * runTraining inside its failure handling, so that a full disk at start-up is recorded like any other failure.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import type { DoraConfig } from '../../core/config';
import type { ConfigChange } from '../../core/configOverrides';
import { appendJsonLine, writeJsonAtomic, type AtomicWriteFs, type AtomicWriteOptions } from '../../core/node/atomicWrite';
import { repairJsonlTail } from '../../core/node/jsonl';
import { ownProcessStart } from '../../core/node/processIdentity';
import { createRunDir, listCheckpoints } from '../../core/node/runDir';
import type { RunLockHandle } from '../../core/node/runLock';
import type { UnsafeRunPathError } from '../../core/node/runPathSafety';
import { parseStepLabel, runDirOfCheckpoint, runPaths, type RunPaths } from '../../core/node/runPaths';
import { RUN_DIR_FORMAT_VERSION, type MetricsRecord, type RunEvent, type RunInfo } from '../../core/runRecords';
import { diskCause, diskFix } from './fixAdvice';
import { loadRunConfigWith, readConfigFile, resolveWithOverrides, TrainingError, type ResolvedTrainingConfig } from './runConfig';
import { claimRunFolder, cleanLeftovers, preflightTraining, readRunBaseline, removeHollowRunDir, type RunBaseline } from './runStart';

export const DORA_STUDIO_VERSION = '0.1.0';

/** What opening a run needs from TrainOptions (train.ts). */
export interface RunLocation {
  /** A *.dora.json file. Optional when resuming: the run's own config.json is used then. */
  configPath?: string;
  /** Write into this run folder (created if missing). Default: a new folder under config.runtime.runsDir. */
  runDir?: string;
  /** Resume from this checkpoint sidecar (checkpoints/step-NNNNNN.json), or 'latest' of runDir. */
  resume?: string;
  /**
   * Config overrides `key=value` (`dora train --set training.lr=1e-4`, repeatable; the extension's resume with a
   * changed .dora.json). Applied to the .dora.json, or on resume to the run's config.json (which is then rewritten).
   */
  overrides?: readonly string[];
  /** Checked before the run folder is created (with the video). */
  ffmpegPath?: string;
  /** File-system seam of the atomic writes (config.json, run.json, checkpoints, snapshot manifests): fault-injection tests. */
  writeFs?: AtomicWriteFs;
}

export interface OpenedRun {
  config: DoraConfig;
  /** What the `--set` overrides changed (empty without overrides). */
  configChanges: ConfigChange[];
  runDir: string;
  /** The checkpoint sidecar to resume from, when resuming. */
  resumeSidecar?: string;
  /** sha256 of config.json (checkpoints record it; a resume with another config warns); set by writeRunStart. */
  configSha: string;
  writer: RunWriter;
  /** This process's hold on the folder; runTraining releases it when the run ends. */
  lock: RunLockHandle;
  /** A resumed run as it was before (a failed resume restores it); step 0 and no info for a new run. */
  baseline: RunBaseline;
  /** The folder was created by this start (a start that cannot even record its failure removes it). */
  createdHere: boolean;
  /** True once `started`/`resumed` is recorded: from then on a failure is the run's; before, the run is left as it was. */
  recorded: boolean;
}

/** The run folder's files the trainer appends to and rewrites while it trains. */
export class RunWriter {
  /** The last completed step, stamped on every event. */
  lastStep = 0;
  /** The step of the newest complete checkpoint (-1: none), for the wording of failures. */
  lastCheckpointStep = -1;

  constructor(
    readonly paths: RunPaths,
    readonly info: RunInfo,
    readonly writeOptions: AtomicWriteOptions = {},
  ) {}

  async log(line: string): Promise<void> {
    await appendFile(this.paths.log, `${new Date().toISOString()} ${line}\n`);
  }

  async event(e: Record<string, unknown> & { type: RunEvent['type'] }): Promise<void> {
    await appendJsonLine(this.paths.events, { ...e, time: new Date().toISOString(), step: this.lastStep });
  }

  async metrics(record: MetricsRecord): Promise<void> {
    await appendJsonLine(this.paths.metrics, record);
  }

  /** run.json with a fresh heartbeat. */
  writeInfo(): Promise<void> {
    return writeJsonAtomic(this.paths.info, { ...this.info, heartbeat: new Date().toISOString() }, this.writeOptions);
  }
}

/** Checks the config, the video and ffmpeg, then creates (or takes) the run folder and its lock. Writes nothing else. */
export async function openRun(location: RunLocation): Promise<OpenedRun> {
  const { runDir: givenDir, resumeSidecar } = await resolveResume(location);
  let resolved: ResolvedTrainingConfig;
  try {
    resolved = await resolveRunConfig(location, givenDir, resumeSidecar);
    preflightTraining(resolved.config, location);
  } catch (error) {
    if (givenDir && !resumeSidecar) await removeHollowRunDir(givenDir); // a folder the extension made for this start
    throw error;
  }
  const { config, changes } = resolved;
  const runDir = givenDir ?? (await createRunDir(config.runtime.runsDir, config.name)).dir;
  if (givenDir) await mkdir(runDir, { recursive: true });
  const lock = await claimRunFolder(runDir, resumeSidecar ? 'resume' : 'train'); // refuses a run another trainer holds
  try {
    const baseline: RunBaseline = resumeSidecar ? await readRunBaseline(runDir) : { step: 0 };
    const info = newRunInfo(runDir, config);
    if (baseline.info) info.created = baseline.info.created; // a resumed run keeps its creation time
    const writer = new RunWriter(runPaths(runDir), info, location.writeFs ? { fs: location.writeFs } : {});
    writer.lastStep = baseline.step;
    if (resumeSidecar) writer.lastCheckpointStep = parseStepLabel(basename(resumeSidecar)) ?? -1;
    const createdHere = !givenDir;
    return { config, configChanges: changes, runDir, resumeSidecar, configSha: '', writer, lock, baseline, createdHere, recorded: false };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

function resolveRunConfig(location: RunLocation, runDir: string | undefined, resumeSidecar: string | undefined) {
  const overrides = location.overrides ?? [];
  if (resumeSidecar) return loadRunConfigWith(runDir!, overrides);
  return loadStartConfig(location.configPath, overrides);
}

/**
 * The first writes of a run, holding its lock: what dead writers left is removed, the folders made, the JSONL tails
 * repaired (resume), config.json written (a new run, or a resume whose overrides changed it) and run.json. A disk error
 * becomes a TrainingError that names the file, the cause and the fix. Sets run.configSha; returns what was cleaned up.
 */
export async function writeRunStart(run: OpenedRun): Promise<string[]> {
  const { paths, writeOptions } = run.writer;
  const write = startupWrite(run);
  const leftovers = await cleanLeftovers(run.runDir);
  await write(paths.checkpointsDir, () => mkdir(paths.checkpointsDir, { recursive: true }));
  await write(paths.snapshotsDir, () => mkdir(paths.snapshotsDir, { recursive: true }));
  if (run.resumeSidecar) {
    await write(paths.events, () => repairJsonlTail(paths.events));
    await write(paths.metrics, () => repairJsonlTail(paths.metrics));
  }
  // On resume with overrides config.json is rewritten, so the run's record says what it trains with.
  if (!run.resumeSidecar || run.configChanges.length > 0)
    await write(paths.config, () => writeJsonAtomic(paths.config, run.config, writeOptions));
  run.configSha = createHash('sha256')
    .update(await readFile(paths.config, 'utf8'))
    .digest('hex');
  await write(paths.info, () => run.writer.writeInfo());
  return leftovers;
}

/** A write of the start-up: a disk error becomes a message that names the file, the cause and the fix. */
function startupWrite(run: OpenedRun) {
  return async <T>(file: string, write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } catch (e) {
      const cause = diskCause(e);
      if (!cause) throw e;
      throw new TrainingError(
        `could not write ${file} while ${run.resumeSidecar ? 'resuming' : 'starting'} the run: ${cause} (${(e as Error).message}); ` +
          'nothing partial was left behind',
        diskFix(run.runDir, run.writer.lastCheckpointStep, e),
      );
    }
  };
}

/** The run folder and the checkpoint to resume from ('latest' → the newest complete one of the run folder). */
async function resolveResume(location: RunLocation): Promise<{ runDir?: string; resumeSidecar?: string }> {
  const runDir = location.runDir ? resolve(location.runDir) : undefined;
  const resume = location.resume;
  if (resume && resume !== 'latest') return { runDir: runDir ?? runDirOfCheckpoint(resume), resumeSidecar: resume };
  if (resume !== 'latest') return { runDir };
  if (!runDir)
    throw new TrainingError('--resume latest needs --run-dir', 'Pass the run folder to resume, e.g. --run-dir runs/20250101-120000-demo.');
  const refused: UnsafeRunPathError[] = [];
  const list = await listCheckpoints(runDir, (e) => refused.push(e));
  if (list.length === 0 && refused.length > 0) throw refused[refused.length - 1];
  if (list.length === 0)
    throw new TrainingError(
      `${runDir}: no complete checkpoint to resume from`,
      'Start a new run instead, or pass --resume with the sidecar of a checkpoint.',
    );
  return { runDir, resumeSidecar: list[list.length - 1].sidecarFile };
}

async function loadStartConfig(configPath: string | undefined, overrides: readonly string[]): Promise<ResolvedTrainingConfig> {
  if (!configPath) throw new TrainingError('no config file given', 'Pass a *.dora.json file (create one with `dora init <preset>`).');
  const file = resolve(configPath);
  return resolveWithOverrides(await readConfigFile(file), file, overrides, { resume: false });
}

function newRunInfo(runDir: string, config: DoraConfig): RunInfo {
  const now = new Date().toISOString();
  return {
    formatVersion: RUN_DIR_FORMAT_VERSION,
    id: runDir.split(/[\\/]/).pop()!,
    name: config.name,
    created: now,
    configFile: config.configFile,
    preset: config.preset,
    statusHint: 'starting',
    totalSteps: null,
    stepsPerEpoch: null,
    backend: null,
    pid: process.pid,
    processStart: ownProcessStart(),
    hostname: hostname(),
    heartbeat: now,
    versions: { doraStudio: DORA_STUDIO_VERSION, node: process.version, tfjs: tf.version.tfjs },
  };
}
