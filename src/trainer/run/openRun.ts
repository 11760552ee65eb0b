/**
 * Opening a run: which config and which folder (a new one, or the run of the checkpoint to resume), the folder's
 * config.json written once, and the writer of run.json, events.jsonl and trainer.log (RunWriter).
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { DoraConfig } from '../../core/config';
import { appendJsonLine, writeJsonAtomic } from '../../core/node/atomicWrite';
import { loadConfigFile } from '../../core/node/configFile';
import { repairJsonlTail } from '../../core/node/jsonl';
import { createRunDir, listCheckpoints } from '../../core/node/runDir';
import { runDirOfCheckpoint, runPaths, type RunPaths } from '../../core/node/runPaths';
import { RUN_DIR_FORMAT_VERSION, type MetricsRecord, type RunEvent, type RunInfo } from '../../core/runRecords';
import { loadRunConfig, TrainingError } from './runConfig';

export const DORA_STUDIO_VERSION = '0.1.0';

/** What opening a run needs from TrainOptions (train.ts). */
export interface RunLocation {
  /** A *.dora.json file. Optional when resuming: the run's own config.json is used then. */
  configPath?: string;
  /** Write into this run folder (created if missing). Default: a new folder under config.runtime.runsDir. */
  runDir?: string;
  /** Resume from this checkpoint sidecar (checkpoints/step-NNNNNN.json), or 'latest' of runDir. */
  resume?: string;
}

export interface OpenedRun {
  config: DoraConfig;
  runDir: string;
  /** The checkpoint sidecar to resume from, when resuming. */
  resumeSidecar?: string;
  /** sha256 of config.json (checkpoints record it; a resume with another config warns). */
  configSha: string;
  writer: RunWriter;
}

/** The run folder's files the trainer appends to and rewrites while it trains. */
export class RunWriter {
  /** The last completed step, stamped on every event. */
  lastStep = 0;

  constructor(
    readonly paths: RunPaths,
    readonly info: RunInfo,
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
    return writeJsonAtomic(this.paths.info, { ...this.info, heartbeat: new Date().toISOString() });
  }
}

export async function openRun(location: RunLocation): Promise<OpenedRun> {
  const { runDir: givenDir, resumeSidecar } = await resolveResume(location);
  const config = resumeSidecar ? await loadRunConfig(givenDir!) : await loadStartConfig(location.configPath);
  const runDir = givenDir ?? (await createRunDir(config.runtime.runsDir, config.name)).dir;
  const paths = runPaths(runDir);
  await mkdir(paths.checkpointsDir, { recursive: true });
  await mkdir(paths.snapshotsDir, { recursive: true });
  if (resumeSidecar) {
    await repairJsonlTail(paths.events);
    await repairJsonlTail(paths.metrics);
  } else {
    await writeJsonAtomic(paths.config, config);
  }
  const configSha = createHash('sha256')
    .update(await readFile(paths.config, 'utf8'))
    .digest('hex');
  const info = newRunInfo(runDir, config);
  if (resumeSidecar) await keepCreationTime(paths, info);
  const writer = new RunWriter(paths, info);
  await writer.writeInfo();
  return { config, runDir, resumeSidecar, configSha, writer };
}

/** The run folder and the checkpoint to resume from ('latest' → the newest complete one of the run folder). */
async function resolveResume(location: RunLocation): Promise<{ runDir?: string; resumeSidecar?: string }> {
  const runDir = location.runDir ? resolve(location.runDir) : undefined;
  const resume = location.resume;
  if (resume && resume !== 'latest') return { runDir: runDir ?? runDirOfCheckpoint(resume), resumeSidecar: resume };
  if (resume !== 'latest') return { runDir };
  if (!runDir)
    throw new TrainingError('--resume latest needs --run-dir', 'Pass the run folder to resume, e.g. --run-dir runs/20250101-120000-demo.');
  const list = await listCheckpoints(runDir);
  if (list.length === 0)
    throw new TrainingError(
      `${runDir}: no complete checkpoint to resume from`,
      'Start a new run instead, or pass --resume with the sidecar of a checkpoint.',
    );
  return { runDir, resumeSidecar: list[list.length - 1].sidecarFile };
}

async function loadStartConfig(configPath: string | undefined): Promise<DoraConfig> {
  if (!configPath) throw new TrainingError('no config file given', 'Pass a *.dora.json file (create one with `dora init <preset>`).');
  return loadConfigFile(resolve(configPath));
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
    hostname: hostname(),
    heartbeat: now,
    versions: { doraStudio: DORA_STUDIO_VERSION, node: process.version, tfjs: tf.version.tfjs },
  };
}

/** A resumed run keeps the creation time of its run.json. */
async function keepCreationTime(paths: RunPaths, info: RunInfo): Promise<void> {
  try {
    info.created = (JSON.parse(await readFile(paths.info, 'utf8')) as RunInfo).created;
  } catch {
    /* keep now */
  }
}
