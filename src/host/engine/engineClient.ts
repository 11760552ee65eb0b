// The extension host's one door to the engines. Every trainer capability is a typed request over the one message
// contract (src/core/messages.ts), answered by a child process: training (`train`, long-lived, followed by the run
// manager), `evaluate`, `inspect`, `buildFrameCache`, `prepareDemo` and `importCheckpoint` (short requests that end
// with `finished`). Two engines train: the TF.js engine (forked, Node IPC; it also answers every short request) and
// the PyTorch engine (spawned, JSON lines; its run folder is readied by the TF.js engine's `prepare-run` first, see
// stagedEngine.ts). No vscode import.

import * as path from 'node:path';
import type { EngineName } from '../../core/config';
import type {
  BuildFrameCacheMessage,
  CheckpointImportedMessage,
  DemoReadyMessage,
  EngineRequest,
  EvalResultMessage,
  EvaluateMessage,
  FinishReason,
  FrameCacheReadyMessage,
  ImportCheckpointMessage,
  InspectMessage,
  InspectedCheckpoint,
  PrepareDemoMessage,
  PrepareRunMessage,
  ProgressMessage,
  RunPreparedMessage,
  StartMessage,
  TrainerMessage,
} from '../../core/messages';
import { pythonTrainLaunch, type PythonInterpreter, type PythonRequirements } from '../../core/node/pythonEngine';
import { EngineProcess, type EngineLaunch, type EngineProcessOptions } from './engineProcess';
import { classifyRequestEnd, type RequestEnd } from './exit';
import { StagedEngine, type EngineHandle } from './stagedEngine';

export interface PythonEngineOptions {
  /** The folder that holds the `dora_studio` package (the extension's `python/`). */
  packageDir: string;
  /** The interpreter for a run (setting, Python extension, search); throws PythonEngineError with the fix. */
  interpreter: (needs: PythonRequirements) => Promise<PythonInterpreter>;
}

export interface EngineClientOptions {
  /** Which engine process answers a request (the TF.js engine's; training may go to the PyTorch engine instead). */
  launch: (request: EngineRequest) => EngineLaunch;
  /** The PyTorch engine; without it a PyTorch run is refused with a message. */
  python?: PythonEngineOptions;
  /** Base environment of engine processes (default process.env). */
  env?: NodeJS.ProcessEnv;
  forkProcess?: EngineProcessOptions['forkProcess'];
  spawnProcess?: EngineProcessOptions['spawnProcess'];
}

/** The engine a run trains in, checked before anything is created (`EngineClient.trainEngine`). */
export type TrainEngine = { name: 'tfjs' } | { name: 'pytorch'; interpreter: PythonInterpreter };

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

export interface ImportOutcome extends RequestEnd {
  imported?: Omit<CheckpointImportedMessage, 'type'>;
}

export class EngineClient {
  constructor(private readonly options: EngineClientOptions) {}

  /**
   * The engine for a run, checked before any run folder exists: for PyTorch, an interpreter that has Python ≥ 3.11,
   * torch ≥ 1.13, numpy, Pillow and the device asked for. Throws PythonEngineError (what to install or set).
   */
  async trainEngine(name: EngineName, needs: PythonRequirements = {}): Promise<TrainEngine> {
    if (name === 'tfjs') return { name };
    if (!this.options.python) throw new Error('this build of DoRA Studio has no PyTorch engine');
    return { name, interpreter: await this.options.python.interpreter(needs) };
  }

  /**
   * Starts a training engine on `start` and hands it back: training is long-lived, so the caller (the run manager)
   * follows its messages and stops it. A PyTorch run starts in two stages (stagedEngine.ts).
   */
  train(
    start: StartMessage,
    handlers: Pick<EngineProcessOptions, 'onMessage' | 'onLog' | 'cwd'>,
    engine: TrainEngine = { name: 'tfjs' },
  ): EngineHandle {
    if (engine.name === 'pytorch') return this.trainPytorch(start, handlers, engine.interpreter);
    const process = this.spawn(start, handlers);
    process.send(start, (error) => handlers.onLog('host', `could not send start to the engine: ${error.message}`));
    return process;
  }

  /** The PyTorch engine's process for a readied run folder: the one command line of src/core/node/pythonEngine.ts. */
  pythonTrainLaunch(start: StartMessage, prepared: RunPreparedMessage, interpreter: PythonInterpreter): EngineLaunch {
    const python = this.options.python!;
    const launch = pythonTrainLaunch(
      interpreter.python,
      python.packageDir,
      {
        runDir: start.runDir,
        resumeCheckpoint: start.resumeCheckpoint,
        maxSteps: start.maxSteps,
        snapshotEvery: start.snapshotEvery,
        frameCache: prepared.frameCacheDir,
        device: start.device,
        precision: start.precision,
      },
      this.options.env ?? process.env,
    );
    return { transport: 'json-lines', ...launch };
  }

  private trainPytorch(
    start: StartMessage,
    handlers: Pick<EngineProcessOptions, 'onMessage' | 'onLog' | 'cwd'>,
    interpreter: PythonInterpreter,
  ): EngineHandle {
    const prepare: PrepareRunMessage = {
      type: 'prepare-run',
      runDir: start.runDir,
      ...(start.resumeCheckpoint ? { resumeCheckpoint: start.resumeCheckpoint } : { configPath: start.configPath }),
      ...(start.ffmpegPath ? { ffmpegPath: start.ffmpegPath } : {}),
      ...(start.cacheRoot ? { cacheRoot: start.cacheRoot } : {}),
      ...(start.overrides?.length ? { overrides: start.overrides } : {}),
    };
    return new StagedEngine({
      prepare: (onMessage) => {
        const first = this.spawn(prepare, { ...handlers, onMessage });
        first.send(prepare, (error) => handlers.onLog('host', `could not send prepare-run to the engine: ${error.message}`));
        return first;
      },
      train: (prepared) => this.start(this.pythonTrainLaunch(start, prepared, interpreter), handlers),
      onMessage: handlers.onMessage,
      onLog: (text) => handlers.onLog('host', text),
    });
  }

  /** The folder of the `dora_studio` package (for a launcher's command line: torchrun, a Slurm batch script). */
  get pythonPackageDir(): string | undefined {
    return this.options.python?.packageDir;
  }

  /** Readies a run folder for the PyTorch engine without starting it (config.json, frame cache): a launched run. */
  async prepareRun(
    request: Omit<PrepareRunMessage, 'type'>,
    options: RequestOptions & { onProgress?: (p: ProgressMessage) => void } = {},
  ): Promise<RequestEnd & { prepared?: RunPreparedMessage }> {
    const end = await this.request({ type: 'prepare-run', ...request }, request.runDir, withProgress(options), 'run-prepared');
    const prepared = end.messages.find((m): m is RunPreparedMessage => m.type === 'run-prepared');
    return { reason: end.reason, error: end.error, prepared };
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
   * Released weights (.pth) → a new run folder under `runsDir`, through the PyTorch engine (its interpreter found like a
   * run's; a missing one throws PythonEngineError before anything is written).
   */
  async importCheckpoint(
    request: Omit<ImportCheckpointMessage, 'type' | 'python'>,
    options: RequestOptions & { onProgress?: (p: ProgressMessage) => void } = {},
  ): Promise<ImportOutcome> {
    const { interpreter } = (await this.trainEngine('pytorch')) as Extract<TrainEngine, { name: 'pytorch' }>;
    const message: ImportCheckpointMessage = { type: 'import-checkpoint', ...request, python: interpreter.python };
    // From the file's folder: the runs folder may not exist yet.
    const end = await this.request(message, path.dirname(request.file), withProgress(options), 'checkpoint-imported');
    const imported = end.messages.find((m) => m.type === 'checkpoint-imported');
    return { reason: end.reason, error: end.error, imported: imported && withoutType(imported) };
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
    return this.start(this.options.launch(request), handlers);
  }

  private start(launch: EngineLaunch, handlers: Pick<EngineProcessOptions, 'onMessage' | 'onLog' | 'cwd'>): EngineProcess {
    return new EngineProcess(launch, {
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
