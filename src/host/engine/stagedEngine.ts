// A training engine started in two stages, seen by the run manager as ONE engine: first a short request that readies
// the run folder (the TF.js engine's `prepare-run`: config.json and the frame cache, for an engine that never resolves
// configs or decodes video), then the engine that trains (the PyTorch engine, JSON lines). The first stage's progress,
// warnings and failures pass through; its `ready` and successful `finished` do not (the run has not finished). A stop
// during the first stage cancels it and the second never starts. No vscode import.

import type { FinishedMessage, HostMessage, RunPreparedMessage, TrainerMessage } from '../../core/messages';
import type { EngineExit, EngineProcess, StopTimeouts } from './engineProcess';

/** What the run manager needs of a training engine (EngineProcess, or a StagedEngine of two). */
export interface EngineHandle {
  readonly exited: Promise<EngineExit>;
  readonly pid: number | undefined;
  readonly stopping: boolean;
  isRunning(): boolean;
  send(message: HostMessage, onError?: (error: Error) => void): boolean;
  closeInput(): void;
  stop(timeouts: StopTimeouts): boolean;
  kill(signal?: NodeJS.Signals): void;
}

export interface StagedEngineOptions {
  /** Starts the preparing engine; every message it sends must go to `onMessage`. */
  prepare: (onMessage: (message: TrainerMessage) => void) => EngineProcess;
  /** Starts the training engine once the folder is ready. */
  train: (prepared: RunPreparedMessage) => EngineProcess;
  onMessage: (message: TrainerMessage) => void;
  onLog: (text: string) => void;
}

export class StagedEngine implements EngineHandle {
  readonly exited: Promise<EngineExit>;
  private current: EngineProcess;
  private cancelled = false;
  private done = false;
  private prepared: RunPreparedMessage | undefined;
  private prepareFinished: FinishedMessage | undefined;

  constructor(private readonly options: StagedEngineOptions) {
    this.current = options.prepare((m) => this.fromPrepare(m));
    this.exited = this.run().finally(() => (this.done = true));
  }

  get pid(): number | undefined {
    return this.current.pid;
  }

  get stopping(): boolean {
    return this.cancelled || this.current.stopping;
  }

  isRunning(): boolean {
    return !this.done;
  }

  send(message: HostMessage, onError?: (error: Error) => void): boolean {
    if (message.type === 'stop' && !this.prepared) this.cancelled = true;
    return this.current.send(message, onError);
  }

  closeInput(): void {
    if (!this.prepared) this.cancelled = true;
    this.current.closeInput();
  }

  stop(timeouts: StopTimeouts): boolean {
    if (this.done) return false;
    if (!this.prepared) this.cancelled = true;
    return this.current.stop(timeouts);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.prepared) this.cancelled = true;
    this.current.kill(signal);
  }

  private fromPrepare(message: TrainerMessage): void {
    if (message.type === 'ready') return; // the preparing engine's; the training engine sends the run's own
    if (message.type === 'run-prepared') {
      this.prepared = message;
      return;
    }
    if (message.type === 'finished') {
      this.prepareFinished = message;
      if (message.reason === 'completed') return; // the run itself goes on in the next stage
    }
    this.options.onMessage(message);
  }

  private async run(): Promise<EngineExit> {
    const first = await this.current.exited;
    const prepared = this.prepared;
    const ready = prepared !== undefined && first.code === 0 && (this.prepareFinished?.reason ?? 'completed') === 'completed';
    if (this.cancelled && ready)
      this.options.onMessage({ type: 'finished', reason: 'stopped', step: 0, message: 'stopped before training began' });
    if (this.cancelled || !ready) return first;
    this.options.onLog(`run folder ready (frame cache ${prepared.frameCacheDir}, ${prepared.frameCount} frames): starting the engine`);
    this.current = this.options.train(prepared);
    return this.current.exited;
  }
}
