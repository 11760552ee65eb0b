// Starts trainer child processes (dist/trainer.js, forked with the IPC contract of core/messages.ts),
// folds their messages into LiveRunState, and stops them: `stop` message, then SIGTERM after a grace
// period, then SIGKILL. No vscode import, so the whole lifecycle is tested with a fake trainer.

import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import * as os from 'node:os';
import { describeInvalidMessage, isTrainerMessage, PROTOCOL_VERSION, type StartMessage, type TrainerMessage } from '../../core/messages';
import { createRunDir, isPidAlive, readRunInfo } from '../../core/node/runDir';
import { runPaths, runDirOfCheckpoint } from '../../core/node/runPaths';
import { Emitter } from './emitter';
import { applyExit, applyTrainerMessage, initialLiveRun, type LiveRunState } from './liveRun';

/** The start message plus fields newer trainers understand; older ones ignore unknown fields. */
export type StartRequest = StartMessage & {
  /** From the `dora.snapshotInterval` setting (0 = the config's runtime.snapshotEvery). */
  snapshotEvery?: number;
};

/** What starting a run needs: the trainer's start message (one definition, src/core/messages.ts) minus what the
 *  manager fills in itself (the run folder), plus where and under which name to create that folder. */
export type StartRunOptions = Omit<StartMessage, 'type' | 'configPath' | 'runDir'> & {
  configPath?: string;
  /** Where to create the run folder (ignored when resuming). */
  runsDir?: string;
  /** Name used in the run id (config name or file base name). */
  name: string;
};

export interface RunManagerOptions {
  /** Absolute path of dist/trainer.js. */
  trainerPath: string;
  /** Time the trainer gets to finish its step and checkpoint after `stop`, before SIGTERM. */
  stopGraceMs?: number;
  /** Time after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  /** Replaces child_process.fork (tests). */
  forkProcess?: (modulePath: string, args: string[], options: ForkOptions) => ChildProcess;
  env?: NodeJS.ProcessEnv;
}

export interface LogLine {
  runDir: string;
  stream: 'stdout' | 'stderr' | 'host';
  text: string;
}

interface ManagedRun {
  child: ChildProcess;
  state: LiveRunState;
  stderrTail: string;
  exited: Promise<void>;
  stopping?: { timers: ReturnType<typeof setTimeout>[] };
}

export const KILLED_REASON = 'killed by DoRA Studio after the stop timeout';

export class RunManager {
  private readonly runs = new Map<string, ManagedRun>();
  private readonly changed = new Emitter<LiveRunState>();
  private readonly messages = new Emitter<{ runDir: string; message: TrainerMessage }>();
  private readonly logs = new Emitter<LogLine>();
  readonly onDidChangeRun = this.changed.event;
  readonly onMessage = this.messages.event;
  readonly onLog = this.logs.event;

  constructor(private readonly options: RunManagerOptions) {}

  /** Creates the run folder (so the tree shows it at once), forks the trainer and sends `start`. */
  async start(request: StartRunOptions): Promise<{ runDir: string; pid: number | undefined }> {
    let runDir: string;
    if (request.resumeCheckpoint) {
      runDir = runDirOfCheckpoint(request.resumeCheckpoint);
      const previous = this.runs.get(runDir);
      if (previous && previous.child.exitCode === null && previous.child.signalCode === null) {
        throw new Error(
          `${runDir}: this run is still training in this window. Stop it (DoRA: Stop Run) before resuming from a checkpoint.`,
        );
      }
      const info = await readRunInfo(runDir);
      if (
        info &&
        info.hostname === os.hostname() &&
        isPidAlive(info.pid) &&
        (info.statusHint === 'running' || info.statusHint === 'starting')
      ) {
        throw new Error(`${runDir}: trainer process ${info.pid} is still writing this run. Stop it first (DoRA: Stop Run), then resume.`);
      }
    } else {
      if (!request.runsDir) throw new Error('start: no runs folder given');
      runDir = (await createRunDir(request.runsDir, request.name)).dir;
    }
    const fork_ = this.options.forkProcess ?? fork;
    const child = fork_(this.options.trainerPath, [], {
      execArgv: [], // not the extension host's flags (inspector ports, --max-old-space-size …)
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      cwd: runDir, // exists for sure (a config's folder may not); the trainer resolves paths against the config file
      env: { ...(this.options.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' },
      serialization: 'json',
    });
    const run: ManagedRun = {
      child,
      state: { ...initialLiveRun(runDir, request.name, true), pid: child.pid },
      stderrTail: '',
      exited: Promise.resolve(),
    };
    this.runs.set(runDir, run);
    run.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.clearStopTimers(run);
        this.update(run, applyExit(run.state, { code, signal, stderrTail: run.stderrTail }));
        resolve();
      });
      // `on`, not `once`: a later IPC write error (EPIPE) must not become an unhandled 'error' event.
      child.on('error', (error) => {
        // fork itself failed (e.g. trainer.js missing): no exit event follows when the process never started
        if (child.pid === undefined && !run.state.finished) {
          this.update(
            run,
            applyExit(
              {
                ...run.state,
                lastError: {
                  message: `Could not start the trainer ${this.options.trainerPath}: ${error.message}`,
                  fix: 'Reinstall DoRA Studio, or run `npm run build` in a development checkout.',
                },
              },
              { code: null, signal: null },
            ),
          );
          resolve();
        }
      });
    });
    this.pipeLines(run, child.stdout, 'stdout');
    this.pipeLines(run, child.stderr, 'stderr');
    child.on('message', (raw: unknown) => this.onChildMessage(run, raw));
    const start: StartRequest = {
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
    };
    if (child.pid !== undefined && child.connected)
      child.send(start, (error) => error && this.log(runDir, `could not send start to the trainer: ${error.message}`));
    this.log(runDir, `started trainer pid ${child.pid ?? '?'}: ${JSON.stringify(start)}`);
    this.changed.fire(run.state);
    return { runDir, pid: child.pid };
  }

  /**
   * Asks the trainer to stop (it finishes the step and writes a checkpoint), then escalates.
   * Also stops runs this window did not start (e.g. after a reload) through their pid on this host.
   */
  async stop(runDir: string): Promise<'stopping' | 'signalled' | 'not-running'> {
    const run = this.runs.get(runDir);
    if (run && run.child.exitCode === null && run.child.signalCode === null) {
      if (run.stopping) return 'stopping';
      const grace = this.options.stopGraceMs ?? 60_000;
      const killGrace = this.options.killGraceMs ?? 10_000;
      if (run.child.connected) run.child.send({ type: 'stop' }, (error) => error && run.child.kill('SIGTERM'));
      else run.child.kill('SIGTERM');
      this.log(
        runDir,
        `stop requested; SIGTERM in ${Math.round(grace / 1000)} s and SIGKILL ${Math.round(killGrace / 1000)} s later if the trainer has not exited`,
      );
      const timers: ReturnType<typeof setTimeout>[] = [];
      timers.push(
        setTimeout(() => {
          this.log(runDir, 'the trainer did not stop in time: sending SIGTERM');
          run.child.kill('SIGTERM');
          timers.push(
            setTimeout(() => {
              this.log(runDir, 'the trainer ignored SIGTERM: sending SIGKILL');
              run.child.kill('SIGKILL');
              void appendKilledEvent(runDir, run.state.step);
            }, killGrace),
          );
        }, grace),
      );
      run.stopping = { timers };
      return 'stopping';
    }
    // Not ours: a trainer started before a reload or from the CLI. SIGTERM makes it checkpoint and exit.
    const info = await readRunInfo(runDir);
    if (info && info.hostname === os.hostname() && isPidAlive(info.pid)) {
      process.kill(info.pid, 'SIGTERM');
      this.log(runDir, `sent SIGTERM to trainer pid ${info.pid} (started outside this window)`);
      return 'signalled';
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

  /** Resolves when the trainer of `runDir` has exited (at once when there is none). */
  whenExited(runDir: string): Promise<void> {
    return this.runs.get(runDir)?.exited ?? Promise.resolve();
  }

  childPid(runDir: string): number | undefined {
    return this.runs.get(runDir)?.child.pid;
  }

  /** On deactivate: ask every trainer to stop; the children also stop on their own when the IPC channel closes. */
  async dispose(): Promise<void> {
    for (const [runDir, run] of this.runs) {
      if (run.child.exitCode === null && run.child.connected) {
        try {
          run.child.send({ type: 'stop' });
        } catch {
          // channel already closed
        }
        this.log(runDir, 'window closing: asked the trainer to checkpoint and stop');
      }
      this.clearStopTimers(run);
    }
    this.changed.dispose();
    this.messages.dispose();
    this.logs.dispose();
  }

  private onChildMessage(run: ManagedRun, raw: unknown): void {
    if (!isTrainerMessage(raw)) {
      this.log(
        run.state.runDir,
        `ignored a malformed message from the trainer (${describeInvalidMessage(raw)}): ${JSON.stringify(raw).slice(0, 200)}`,
      );
      return;
    }
    if (raw.type === 'ready' && raw.protocol !== PROTOCOL_VERSION) {
      this.log(
        run.state.runDir,
        `the trainer speaks protocol ${raw.protocol}, this extension ${PROTOCOL_VERSION}; updates may be incomplete`,
      );
    }
    if (raw.type === 'warning' || raw.type === 'error')
      this.log(run.state.runDir, `${raw.type}: ${raw.message}${raw.fix ? ` (fix: ${raw.fix})` : ''}`);
    if (raw.type === 'finished')
      this.log(run.state.runDir, `finished (${raw.reason}) at step ${raw.step}${raw.message ? `: ${raw.message}` : ''}`);
    this.update(run, applyTrainerMessage(run.state, raw));
    this.messages.fire({ runDir: run.state.runDir, message: raw });
  }

  private update(run: ManagedRun, next: LiveRunState): void {
    run.state = next;
    this.changed.fire(next);
  }

  private pipeLines(run: ManagedRun, stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return;
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.logs.fire({ runDir: run.state.runDir, stream: name, text: line });
      if (name === 'stderr') run.stderrTail = (run.stderrTail + chunk).slice(-4000);
    });
    stream.on('end', () => {
      if (pending) this.logs.fire({ runDir: run.state.runDir, stream: name, text: pending });
    });
  }

  private clearStopTimers(run: ManagedRun): void {
    for (const timer of run.stopping?.timers ?? []) clearTimeout(timer);
  }

  private log(runDir: string, text: string): void {
    this.logs.fire({ runDir, stream: 'host', text });
  }
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
