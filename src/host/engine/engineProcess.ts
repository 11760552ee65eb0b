// One engine child process, whatever its transport: the single place the extension host starts an engine, reads its
// messages and log, keeps its stderr tail, and stops it (stop message → SIGTERM → SIGKILL). Two transports speak the
// same messages (src/core/messages.ts):
//   ipc         Node `fork` of a module (the TF.js engine, dist/trainer.js), JSON over the IPC channel;
//   json-lines  a spawned executable (the PyTorch engine): host → engine JSON lines on its stdin, engine → host JSON
//               lines on fd 3 (env DORA_MESSAGE_FD=3); stdout and stderr are free-text log.
// No vscode import: tested with fake engines (test/host/engine).

import { fork, spawn, type ChildProcess, type ForkOptions, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { describeInvalidMessage, isTrainerMessage, type HostMessage, type TrainerMessage } from '../../core/messages';

export interface EngineLaunch {
  transport: 'ipc' | 'json-lines';
  /** ipc: the Node module to fork; json-lines: the executable to spawn. */
  command: string;
  args?: readonly string[];
  /** Extra environment of the engine (on top of the host's). */
  env?: Readonly<Record<string, string>>;
}

export type EngineLogStream = 'stdout' | 'stderr' | 'host';

export interface EngineProcessOptions {
  /** Working folder of the engine (it resolves paths against the files it is given, not against this). */
  cwd: string;
  /** Base environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  onMessage: (message: TrainerMessage) => void;
  onLog: (stream: EngineLogStream, text: string) => void;
  /** Replace child_process.fork / spawn (tests). */
  forkProcess?: (modulePath: string, args: readonly string[], options: ForkOptions) => ChildProcess;
  spawnProcess?: (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;
}

export interface EngineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last 4000 characters the engine wrote to stderr. */
  stderrTail: string;
  /** Set when the process could not be started at all (no exit code then). */
  startError?: string;
}

export interface StopTimeouts {
  /** Time the engine gets after `stop` (to finish its step and checkpoint) before SIGTERM. */
  graceMs: number;
  /** Time after SIGTERM before SIGKILL. */
  killGraceMs: number;
  /** Called when the host escalates (after logging it). */
  onEscalate?: (signal: 'SIGTERM' | 'SIGKILL') => void;
}

/** The file descriptor on which a json-lines engine writes its messages (also passed as DORA_MESSAGE_FD). */
export const MESSAGE_FD = 3;
const STDERR_TAIL_CHARS = 4000;

export class EngineProcess {
  readonly exited: Promise<EngineExit>;
  /** Undefined when the engine could not even be launched (see `exited`). */
  private readonly child: ChildProcess | undefined;
  private stderrTail = '';
  private stopTimers: ReturnType<typeof setTimeout>[] | undefined;

  constructor(
    readonly launch: EngineLaunch,
    private readonly options: EngineProcessOptions,
  ) {
    const problem = launchProblem(launch, options.cwd);
    if (problem !== undefined) {
      this.exited = Promise.resolve({ code: null, signal: null, stderrTail: '', startError: problem });
      return;
    }
    const child = this.start();
    this.child = child;
    this.exited = this.watchExit(child);
    this.pipeLog(child.stdout, 'stdout');
    this.pipeLog(child.stderr, 'stderr');
    if (launch.transport === 'ipc') child.on('message', (raw: unknown) => this.receive(raw));
    else forEachLine(child.stdio[MESSAGE_FD] as Readable | null | undefined, (line) => this.receiveLine(line));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Whether the process runs (started and not exited). */
  isRunning(): boolean {
    const child = this.child;
    return child?.pid !== undefined && child.exitCode === null && child.signalCode === null;
  }

  get stopping(): boolean {
    return this.stopTimers !== undefined;
  }

  /** Sends one message; false when the channel is closed. `onError` hears of a write that failed later. */
  send(message: HostMessage, onError?: (error: Error) => void): boolean {
    const child = this.child;
    if (child?.pid === undefined) return false;
    if (this.launch.transport === 'ipc') {
      if (!child.connected) return false;
      child.send(message, (error) => error && onError?.(error));
      return true;
    }
    const stdin = child.stdin;
    if (!stdin || stdin.destroyed || stdin.writableEnded) return false;
    stdin.write(`${JSON.stringify(message)}\n`, (error) => error && onError?.(error));
    return true;
  }

  /** Closes the host → engine channel (IPC disconnect or stdin EOF): the engine stops cleanly on its own. */
  closeInput(): void {
    if (this.launch.transport === 'ipc') {
      if (this.child?.connected) this.child.disconnect();
    } else this.child?.stdin?.end();
  }

  /**
   * Asks the engine to stop (`stop`: it finishes the step and checkpoints), then SIGTERM after `graceMs` and SIGKILL
   * `killGraceMs` later if it is still there. False when it is not running or a stop is already under way.
   */
  stop(timeouts: StopTimeouts): boolean {
    const child = this.child;
    if (!child || !this.isRunning() || this.stopTimers) return false;
    if (!this.send({ type: 'stop' }, () => child.kill('SIGTERM'))) child.kill('SIGTERM');
    const seconds = (ms: number) => Math.round(ms / 1000);
    this.log(
      `stop requested; SIGTERM in ${seconds(timeouts.graceMs)} s and SIGKILL ${seconds(timeouts.killGraceMs)} s later ` +
        `if the engine has not exited`,
    );
    const timers: ReturnType<typeof setTimeout>[] = [];
    timers.push(
      setTimeout(() => {
        this.log('the engine did not stop in time: sending SIGTERM');
        child.kill('SIGTERM');
        timeouts.onEscalate?.('SIGTERM');
        timers.push(
          setTimeout(() => {
            this.log('the engine ignored SIGTERM: sending SIGKILL');
            child.kill('SIGKILL');
            timeouts.onEscalate?.('SIGKILL');
          }, timeouts.killGraceMs),
        );
      }, timeouts.graceMs),
    );
    this.stopTimers = timers;
    return true;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.isRunning()) this.child?.kill(signal);
  }

  private start(): ChildProcess {
    const { launch, options } = this;
    const env = { ...(options.env ?? process.env), ...launch.env, ELECTRON_RUN_AS_NODE: '1' };
    if (launch.transport === 'ipc') {
      return (options.forkProcess ?? fork)(launch.command, [...(launch.args ?? [])], {
        execArgv: [], // not the extension host's flags (inspector ports, --max-old-space-size …)
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        cwd: options.cwd,
        env,
        serialization: 'json',
      });
    }
    return (options.spawnProcess ?? spawn)(launch.command, [...(launch.args ?? [])], {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      cwd: options.cwd,
      env: { ...env, DORA_MESSAGE_FD: String(MESSAGE_FD) },
    });
  }

  private watchExit(child: ChildProcess): Promise<EngineExit> {
    return new Promise<EngineExit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.clearStopTimers();
        resolve({ code, signal, stderrTail: this.stderrTail });
      });
      // `on`, not `once`: a later write error (EPIPE) must not become an unhandled 'error' event.
      child.on('error', (error) => {
        // The process never started (e.g. the executable is missing): no exit event follows.
        if (child.pid === undefined) resolve({ code: null, signal: null, stderrTail: this.stderrTail, startError: error.message });
        else this.log(`engine process error: ${error.message}`);
      });
      child.stdin?.on('error', () => undefined); // EPIPE after the engine exited: the exit tells the story
    });
  }

  private receiveLine(line: string): void {
    if (!line.trim()) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      this.log(`ignored a line on the engine's message channel that is not JSON: ${line.slice(0, 200)}`);
      return;
    }
    this.receive(raw);
  }

  private receive(raw: unknown): void {
    if (!isTrainerMessage(raw)) {
      this.log(`ignored a malformed message from the engine (${describeInvalidMessage(raw)}): ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    this.options.onMessage(raw);
  }

  private pipeLog(stream: Readable | null | undefined, name: 'stdout' | 'stderr'): void {
    forEachLine(
      stream,
      (line) => this.options.onLog(name, line),
      name === 'stderr' ? (chunk) => (this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS)) : undefined,
    );
  }

  private clearStopTimers(): void {
    for (const timer of this.stopTimers ?? []) clearTimeout(timer);
  }

  private log(text: string): void {
    this.options.onLog('host', text);
  }
}

/** Why an engine cannot be launched as described (checked first, so the error names the file), or undefined. */
function launchProblem(launch: EngineLaunch, cwd: string): string | undefined {
  if (!existsSync(cwd)) return `its working folder ${cwd} does not exist`;
  if (launch.transport === 'ipc' && !existsSync(launch.command)) return `the module ${launch.command} does not exist`;
  return undefined;
}

/** Calls `onLine` for every complete line of a text stream (and the unterminated rest at its end). */
function forEachLine(stream: Readable | null | undefined, onLine: (line: string) => void, onChunk?: (chunk: string) => void): void {
  if (!stream) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    onChunk?.(chunk);
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (pending) onLine(pending);
  });
  stream.on('error', () => undefined);
}
