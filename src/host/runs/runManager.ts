// Starts training engines (through the engine client, src/host/engine), folds their messages into LiveRunState, and
// stops them: `stop` message, then SIGTERM after a grace period, then SIGKILL (EngineProcess). No vscode import, so the
// whole lifecycle is tested with a fake engine.

import { appendFile } from 'node:fs/promises';
import { readRunLockState, RunLockedError } from '../../core/node/runLock';
import type { EngineName } from '../../core/config';
import { PROTOCOL_VERSION, type StartMessage, type TrainerMessage } from '../../core/messages';
import type { PythonRequirements } from '../../core/node/pythonEngine';
import { createRunDir, readRunInfo, removeUnstartedRunDir } from '../../core/node/runDir';
import { runDirOfCheckpoint, runPaths } from '../../core/node/runPaths';
import type { EngineClient, TrainEngine } from '../engine/engineClient';
import type { EngineHandle } from '../engine/stagedEngine';
import { hasSlurmJobs } from '../../core/node/slurm';
import { Emitter } from '../shared/emitter';
import { stopSlurmRun } from './slurmRuns';
import { applyExit, applyTrainerMessage, initialLiveRun, type LiveRunState } from './liveRun';
import { proveTrainer } from './trainerProcess';

/** What starting a run needs: the engine's start message (one definition, src/core/messages.ts) minus what the
 *  manager fills in itself (the run folder), plus where and under which name to create that folder. */
export type StartRunOptions = Omit<StartMessage, 'type' | 'configPath' | 'runDir'> & {
  configPath?: string;
  /** Where to create the run folder (ignored when resuming). */
  runsDir?: string;
  /** Name used in the run id (config name or file base name). */
  name: string;
  /** The engine that trains (default tfjs). */
  engine?: EngineName;
  /** What the PyTorch engine's interpreter must offer (the device asked for, and where that came from). */
  requirements?: PythonRequirements;
};

export interface RunManagerOptions {
  engines: EngineClient;
  /** Time the engine gets to finish its step and checkpoint after `stop`, before SIGTERM. */
  stopGraceMs?: number;
  /** Time after SIGTERM before SIGKILL. */
  killGraceMs?: number;
}

export interface LogLine {
  runDir: string;
  stream: 'stdout' | 'stderr' | 'host';
  text: string;
}

interface ManagedRun {
  engine: EngineHandle;
  /** This manager created the run folder (a new run, not a resume). */
  created: boolean;
  state: LiveRunState;
  exited: Promise<void>;
}

export const KILLED_REASON = 'killed by DoRA Studio after the stop timeout';

/** What Stop did: asked our engine, signalled a proven trainer, found nothing running, or refused to signal (and why). */
export type StopResult = 'stopping' | 'signalled' | 'cancelled' | 'not-running' | { refused: string };

export class RunManager {
  private readonly runs = new Map<string, ManagedRun>();
  private readonly changed = new Emitter<LiveRunState>();
  private readonly messages = new Emitter<{ runDir: string; message: TrainerMessage }>();
  private readonly logs = new Emitter<LogLine>();
  readonly onDidChangeRun = this.changed.event;
  readonly onMessage = this.messages.event;
  readonly onLog = this.logs.event;

  constructor(private readonly options: RunManagerOptions) {}

  /**
   * Checks the engine (a PyTorch run: its interpreter, torch, packages and device; PythonEngineError otherwise, before
   * anything exists), creates the run folder (so the tree shows it at once), starts the engine and sends `start`.
   */
  async start(request: StartRunOptions): Promise<{ runDir: string; pid: number | undefined }> {
    const trainEngine = await this.options.engines.trainEngine(request.engine ?? 'tfjs', request.requirements);
    const created = !request.resumeCheckpoint;
    const runDir = created ? await this.newRunDir(request) : await this.resumableRunDir(request.resumeCheckpoint!);
    const start = startMessage(request, runDir);
    const engine = this.options.engines.train(
      start,
      {
        cwd: runDir, // exists for sure (a config's folder may not); the engine resolves paths against the config file
        onMessage: (message) => this.onEngineMessage(runDir, message),
        onLog: (stream, text) => this.logs.fire({ runDir, stream, text }),
      },
      trainEngine,
    );
    const run: ManagedRun = {
      engine,
      created,
      state: { ...initialLiveRun(runDir, request.name, true), pid: engine.pid, engine: engineOf(trainEngine) },
      exited: Promise.resolve(),
    };
    this.runs.set(runDir, run);
    run.exited = this.followExit(run);
    this.log(runDir, `started engine ${trainEngine.name} pid ${engine.pid ?? '?'}: ${JSON.stringify(start)}`);
    this.changed.fire(run.state);
    return { runDir, pid: engine.pid };
  }

  /**
   * Asks the engine to stop (it finishes the step and writes a checkpoint), then escalates.
   * Also stops runs this window did not start (e.g. after a reload) through their pid on this host, but only a process
   * proven to be the trainer (pid + start time from run.lock or run.json: trainerProcess.ts) is ever signalled, and only
   * a Slurm job that runs the run's own batch script is signalled or cancelled (slurmRuns.ts).
   */
  async stop(runDir: string): Promise<StopResult> {
    // A Slurm run: its job is asked to checkpoint (SIGUSR1), then cancelled after the grace period (slurmRuns.ts).
    if (await hasSlurmJobs(runDir)) {
      const slurm = await stopSlurmRun(runDir, { graceMs: this.options.stopGraceMs ?? 120_000, log: (t) => this.log(runDir, t) });
      if (slurm.result === 'refused') return { refused: slurm.reason ?? 'the Slurm job is not proven to be this run' };
      if (slurm.result !== 'not-running') {
        void slurm.done.then(() => this.log(runDir, 'the Slurm job has ended'));
        return slurm.result === 'cancelled' ? 'cancelled' : 'signalled';
      }
    }
    const run = this.runs.get(runDir);
    if (run && run.engine.isRunning()) {
      run.engine.stop({
        graceMs: this.options.stopGraceMs ?? 60_000,
        killGraceMs: this.options.killGraceMs ?? 10_000,
        onEscalate: (signal) => signal === 'SIGKILL' && void appendKilledEvent(runDir, run.state.step),
      });
      return 'stopping';
    }
    // Not ours: an engine started before a reload or from the CLI. SIGTERM makes it checkpoint and exit.
    const proof = await proveTrainer(runDir);
    if (proof.kind === 'proven') {
      process.kill(proof.pid, 'SIGTERM');
      this.log(runDir, `sent SIGTERM to trainer pid ${proof.pid} (started outside this window; identity from ${proof.source})`);
      return 'signalled';
    }
    if (proof.kind === 'unproven') {
      this.log(runDir, `did not signal pid ${proof.pid}: ${proof.reason}`);
      return { refused: `did not signal pid ${proof.pid}: ${proof.reason}` };
    }
    return 'not-running';
  }

  get(runDir: string): LiveRunState | undefined {
    return this.runs.get(runDir)?.state;
  }

  /** Live states of the runs this window started (finished ones included until they are forgotten). */
  states(): LiveRunState[] {
    return [...this.runs.values()].map((r) => r.state);
  }

  isAttached(runDir: string): boolean {
    return this.runs.get(runDir)?.state.attached === true;
  }

  /** Resolves when the engine of `runDir` has exited (at once when there is none). */
  whenExited(runDir: string): Promise<void> {
    return this.runs.get(runDir)?.exited ?? Promise.resolve();
  }

  childPid(runDir: string): number | undefined {
    return this.runs.get(runDir)?.engine.pid;
  }

  /** On deactivate: ask every engine to stop; they also stop on their own when the channel closes. */
  async dispose(): Promise<void> {
    for (const [runDir, run] of this.runs) {
      if (run.engine.isRunning() && run.engine.send({ type: 'stop' }))
        this.log(runDir, 'window closing: asked the engine to checkpoint and stop');
    }
    this.changed.dispose();
    this.messages.dispose();
    this.logs.dispose();
  }

  /** The run folder of a checkpoint to resume, refused while an engine (this window's, or any holding run.lock) writes it. */
  private async resumableRunDir(resumeCheckpoint: string): Promise<string> {
    const runDir = runDirOfCheckpoint(resumeCheckpoint);
    if (this.runs.get(runDir)?.engine.isRunning()) {
      throw new Error(`${runDir}: this run is still training in this window. Stop it (DoRA: Stop Run) before resuming from a checkpoint.`);
    }
    // Another trainer (the CLI, another window, another host, either engine) holds the run: refuse, as the engine would.
    const lock = await readRunLockState(runDir);
    if (lock.state === 'live') {
      const locked = new RunLockedError(runDir, lock.lock);
      throw new Error(`${locked.message}. ${locked.fix}`);
    }
    const info = await readRunInfo(runDir);
    const proof = await proveTrainer(runDir);
    if (proof.kind === 'proven' && (info?.statusHint === 'running' || info?.statusHint === 'starting')) {
      throw new Error(`${runDir}: trainer process ${proof.pid} is still writing this run. Stop it first (DoRA: Stop Run), then resume.`);
    }
    return runDir;
  }

  private async newRunDir(request: StartRunOptions): Promise<string> {
    if (!request.runsDir) throw new Error('start: no runs folder given');
    return (await createRunDir(request.runsDir, request.name)).dir;
  }

  private async followExit(run: ManagedRun): Promise<void> {
    const exit = await run.engine.exited;
    if (exit.startError !== undefined) {
      const pytorch = run.state.engine?.name === 'pytorch';
      run.state = {
        ...run.state,
        lastError: {
          message: `Could not start the ${pytorch ? 'PyTorch ' : ''}engine: ${exit.startError}`,
          fix: pytorch
            ? 'Check the dora.pythonPath setting (a Python with PyTorch ≥ 1.13).'
            : 'Reinstall DoRA Studio, or run `npm run build` in a development checkout.',
        },
      };
    }
    // A run that never began (its engine could not be prepared or started) leaves no folder behind.
    if (run.created && (await removeUnstartedRunDir(run.state.runDir)))
      this.log(run.state.runDir, 'removed the run folder: the run never started');
    this.update(run, applyExit(run.state, exit));
  }

  private onEngineMessage(runDir: string, message: TrainerMessage): void {
    const run = this.runs.get(runDir);
    if (!run) return;
    if (message.type === 'ready' && message.protocol !== PROTOCOL_VERSION)
      this.log(runDir, `the engine speaks protocol ${message.protocol}, this extension ${PROTOCOL_VERSION}; updates may be incomplete`);
    if (message.type === 'warning' || message.type === 'error')
      this.log(runDir, `${message.type}: ${message.message}${message.fix ? ` (fix: ${message.fix})` : ''}`);
    if (message.type === 'finished')
      this.log(runDir, `finished (${message.reason}) at step ${message.step}${message.message ? `: ${message.message}` : ''}`);
    this.update(run, applyTrainerMessage(run.state, message));
    this.messages.fire({ runDir, message });
  }

  private update(run: ManagedRun, next: LiveRunState): void {
    run.state = next;
    this.changed.fire(next);
  }

  private log(runDir: string, text: string): void {
    this.logs.fire({ runDir, stream: 'host', text });
  }
}

/** The `start` message for a run folder: only the fields that are set. */
function startMessage(request: StartRunOptions, runDir: string): StartMessage {
  return {
    type: 'start',
    // Required by the contract; a resumed run uses its own config.json, so '' is fine then.
    configPath: request.configPath ?? '',
    runDir,
    ...(request.resumeCheckpoint ? { resumeCheckpoint: request.resumeCheckpoint } : {}),
    ...(request.backend ? { backend: request.backend } : {}),
    ...(request.ffmpegPath ? { ffmpegPath: request.ffmpegPath } : {}),
    ...(request.cacheRoot ? { cacheRoot: request.cacheRoot } : {}),
    ...(request.maxSteps !== undefined ? { maxSteps: request.maxSteps } : {}),
    ...(request.snapshotEvery ? { snapshotEvery: request.snapshotEvery } : {}),
    ...(request.overrides?.length ? { overrides: request.overrides } : {}),
    ...(request.device ? { device: request.device } : {}),
    ...(request.precision ? { precision: request.precision } : {}),
  };
}

function engineOf(engine: TrainEngine): LiveRunState['engine'] {
  return engine.name === 'pytorch' ? { name: 'pytorch', python: engine.interpreter.python } : { name: 'tfjs' };
}

/** The one write the extension makes to events.jsonl (docs/run-directory.md, "Ownership"). */
export async function appendKilledEvent(runDir: string, step: number): Promise<void> {
  const event = {
    type: 'failed',
    reason: KILLED_REASON,
    fix: 'Resume from the last checkpoint; if the trainer hangs again, check trainer.log.',
    time: new Date().toISOString(),
    step,
  };
  // The leading newline ends a line the killed trainer may have torn; readers skip blank lines.
  await appendFile(runPaths(runDir).events, `\n${JSON.stringify(event)}\n`).catch(() => undefined);
}
