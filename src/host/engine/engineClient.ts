// The extension host's one door to the engines. Every trainer capability is a typed request over the one message
// contract (src/core/messages.ts), answered by a child process: training (`train`, long-lived, followed by the run
// manager), `evaluate`, `inspect`, `buildFrameCache` and `prepareDemo` (short requests that end with `finished`).
// Which process answers is the launcher's choice (the TF.js engine today; a JSON-lines engine such as the PyTorch one
// plugs in through `launch` without touching any caller). No vscode import.

import * as path from 'node:path';
import type {
  BuildFrameCacheMessage,
  DemoReadyMessage,
  EngineRequest,
  EvalResultMessage,
  EvaluateMessage,
  FinishReason,
  FrameCacheReadyMessage,
  InspectMessage,
  InspectedCheckpoint,
  PrepareDemoMessage,
  ProgressMessage,
  StartMessage,
  TrainerMessage,
} from '../../core/messages';
import { EngineProcess, type EngineLaunch, type EngineProcessOptions } from './engineProcess';
import { classifyRequestEnd, type RequestEnd } from './exit';

export interface EngineClientOptions {
  /** Which engine process answers a request. */
  launch: (request: EngineRequest) => EngineLaunch;
  /** Base environment of engine processes (default process.env). */
  env?: NodeJS.ProcessEnv;
  forkProcess?: EngineProcessOptions['forkProcess'];
  spawnProcess?: EngineProcessOptions['spawnProcess'];
}

/** The built-in TF.js engine: dist/trainer.js forked with Node IPC. */
export function tfjsEngine(distDir: string): (request: EngineRequest) => EngineLaunch {
  return () => ({ transport: 'ipc', command: path.join(distDir, 'trainer.js') });
}

export interface RequestOptions {
  /** Aborting sends `stop`, then kills the engine after `cancelGraceMs`. */
  signal?: AbortSignal;
  /** Time the engine gets to stop on its own after a cancel (default 3 s). */
  cancelGraceMs?: number;
  /** Cancel after this long (default: never). */
  timeoutMs?: number;
  /** The engine's log lines (stdout/stderr) and the client's own notes. */
  log?: (line: string) => void;
  /** Every valid message, as it arrives. */
  onMessage?: (message: TrainerMessage) => void;
}

export interface RequestResult extends RequestEnd {
  messages: TrainerMessage[];
}

export type EvaluateRequest = Omit<EvaluateMessage, 'type'>;
export interface EvaluateOutcome extends RequestEnd {
  results: EvalResultMessage[];
}

export interface InspectOutcome extends RequestEnd {
  results: InspectedCheckpoint[];
}

export interface FrameCacheOutcome extends RequestEnd {
  ready?: Omit<FrameCacheReadyMessage, 'type'>;
}

export interface DemoOutcome extends RequestEnd {
  ready?: Omit<DemoReadyMessage, 'type'>;
}

export class EngineClient {
  constructor(private readonly options: EngineClientOptions) {}

  /**
   * Starts a training engine on `start` and hands back the process: training is long-lived, so the caller (the run
   * manager) follows its messages and stops it.
   */
  train(start: StartMessage, handlers: Pick<EngineProcessOptions, 'onMessage' | 'onLog' | 'cwd'>): EngineProcess {
    const engine = this.spawn(start, handlers);
    engine.send(start, (error) => handlers.onLog('host', `could not send start to the engine: ${error.message}`));
    return engine;
  }

  /** Evaluates a checkpoint's teacher: one `eval-result` per job (results are stored beside the checkpoint). */
  async evaluate(request: EvaluateRequest, options: RequestOptions & { onResult?: (r: EvalResultMessage) => void } = {}) {
    const results: EvalResultMessage[] = [];
    const end = await this.request({ type: 'evaluate', ...request }, path.dirname(request.checkpoint), {
      ...options,
      onMessage: (m) => {
        if (m.type === 'eval-result') {
          results.push(m);
          options.onResult?.(m);
        }
        options.onMessage?.(m);
      },
      complete: () => results.length >= request.jobs.length,
    });
    return { reason: end.reason, error: end.error, results } satisfies EvaluateOutcome;
  }

  /** Runs each checkpoint's tracker on the same frames (snapshot-format folders under `outDir`). */
  async inspect(request: Omit<InspectMessage, 'type'>, options: RequestOptions = {}): Promise<InspectOutcome> {
    const cwd = path.dirname(request.checkpoints[0] ?? request.outDir);
    const end = await this.request({ type: 'inspect', ...request }, cwd, options, 'inspect-result');
    const answer = end.messages.find((m) => m.type === 'inspect-result');
    return { reason: end.reason, error: end.error, results: answer?.results ?? [] };
  }

  /** Builds (or finds complete) the frame cache of a config's video. `onProgress` gets the plan first, then frames. */
  async buildFrameCache(
    request: Omit<BuildFrameCacheMessage, 'type'>,
    options: RequestOptions & { onProgress?: (p: ProgressMessage) => void } = {},
  ): Promise<FrameCacheOutcome> {
    const end = await this.request(
      { type: 'build-frame-cache', ...request },
      path.dirname(request.configPath),
      withProgress(options),
      'frame-cache-ready',
    );
    const ready = end.messages.find((m) => m.type === 'frame-cache-ready');
    return { reason: end.reason, error: end.error, ready: ready && withoutType(ready) };
  }

  /** Generates the synthetic walking tour (once) and, for target "workspace", the demo config. */
  async prepareDemo(
    request: Omit<PrepareDemoMessage, 'type'>,
    options: RequestOptions & { onProgress?: (p: ProgressMessage) => void } = {},
  ): Promise<DemoOutcome> {
    const end = await this.request({ type: 'prepare-demo', ...request }, request.workspaceRoot, withProgress(options), 'demo-ready');
    const ready = end.messages.find((m) => m.type === 'demo-ready');
    return { reason: end.reason, error: end.error, ready: ready && withoutType(ready) };
  }

  /**
   * One short request: start an engine, send it, collect its messages until it exits, classify the end. `answer` is the
   * message type without which a clean exit still counts as failed.
   */
  async request(
    request: EngineRequest,
    cwd: string,
    options: RequestOptions & { complete?: () => boolean },
    answer?: TrainerMessage['type'],
  ): Promise<RequestResult> {
    const messages: TrainerMessage[] = [];
    let finished: FinishReason | undefined;
    let error: string | undefined;
    const log = options.log ?? (() => undefined);
    const engine = this.spawn(request, {
      cwd,
      onLog: (_stream, text) => text.trim() && log(text),
      onMessage: (m) => {
        messages.push(m);
        if (m.type === 'finished') finished = m.reason;
        if (m.type === 'error') error = m.fix ? `${m.message} Fix: ${m.fix}` : m.message;
        if (m.type === 'error' || m.type === 'warning') log(`${m.type}: ${m.type === 'error' ? error : m.message}`);
        options.onMessage?.(m);
      },
    });
    let timedOut = false;
    const cancel = () => engine.stop({ graceMs: options.cancelGraceMs ?? 3000, killGraceMs: 0 });
    if (options.signal?.aborted) cancel();
    options.signal?.addEventListener('abort', cancel, { once: true });
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            log(`no answer after ${Math.round(options.timeoutMs! / 1000)} s: stopping the engine`);
            cancel();
          }, options.timeoutMs);
    engine.send(request, (e) => log(`could not send ${request.type} to the engine: ${e.message}`));
    const exit = await engine.exited;
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', cancel);
    if (timedOut) error ??= `the engine gave no answer within ${Math.round(options.timeoutMs! / 1000)} s`;
    const complete = options.complete?.() ?? (answer === undefined || messages.some((m) => m.type === answer));
    const cancelled = options.signal?.aborted === true;
    const end = classifyRequestEnd(exit, { finished: timedOut ? 'failed' : finished, error, cancelled, complete });
    return { ...end, messages };
  }

  private spawn(request: EngineRequest, handlers: Pick<EngineProcessOptions, 'onMessage' | 'onLog' | 'cwd'>): EngineProcess {
    return new EngineProcess(this.options.launch(request), {
      ...handlers,
      env: this.options.env,
      forkProcess: this.options.forkProcess,
      spawnProcess: this.options.spawnProcess,
    });
  }
}

function withProgress(options: RequestOptions & { onProgress?: (p: ProgressMessage) => void }): RequestOptions {
  return {
    ...options,
    onMessage: (m) => {
      if (m.type === 'progress') options.onProgress?.(m);
      options.onMessage?.(m);
    },
  };
}

function withoutType<T extends { type: string }>(message: T): Omit<T, 'type'> {
  const { type: _type, ...rest } = message;
  return rest;
}
