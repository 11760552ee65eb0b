/**
 * dist/trainer.js: the trainer as a child process of the extension host (child_process.fork).
 * Speaks the typed IPC contract of src/core/messages.ts: waits for `start` (or `evaluate`, see eval/evalRequest.ts), streams progress/metrics/snapshot/
 * checkpoint/warning/error/finished messages, and on `stop` or SIGTERM finishes the current step, checkpoints and
 * exits 0. The run directory stays the durable record; IPC is only the live feed.
 */
import { isHostMessage, type StartMessage, type TrainerMessage } from '../core/messages';
import { isBackendName } from './backend';
import { runEvaluateRequest } from './eval/evalRequest';
import { runTraining } from './run/train';

const controller = new AbortController();
let started = false;

function send(message: TrainerMessage): void {
  if (process.send && process.connected) process.send(message);
  else process.stdout.write(`${JSON.stringify(message)}\n`); // run by hand: JSONL on stdout
}

process.on('SIGTERM', () => controller.abort());
process.on('SIGINT', () => controller.abort());
process.on('disconnect', () => controller.abort()); // the extension host went away: stop cleanly

process.on('message', (raw: unknown) => {
  if (!isHostMessage(raw)) {
    send({ type: 'warning', message: `trainer: ignored a malformed message from the host: ${JSON.stringify(raw).slice(0, 200)}` });
    return;
  }
  if (raw.type === 'stop') {
    controller.abort();
    return;
  }
  if (started) {
    send({ type: 'warning', message: 'trainer: already running; a second start message was ignored' });
    return;
  }
  started = true;
  const work: Promise<{ reason: string }> =
    raw.type === 'evaluate'
      ? runEvaluateRequest(raw, { signal: controller.signal, emit: send }).then((reason) => ({ reason }))
      : startTraining(raw);
  work
    .then(
      (result) => {
        process.exitCode = result.reason === 'failed' ? 1 : 0;
      },
      (error: Error & { fix?: unknown }) => {
        send({ type: 'error', message: error.message, ...(typeof error.fix === 'string' ? { fix: error.fix } : {}), fatal: true });
        send({ type: 'finished', reason: 'failed', step: 0, message: error.message });
        process.exitCode = 1;
      },
    )
    .finally(() => {
      // Let the IPC channel flush, then leave even if a handle (e.g. a file watcher) is still open.
      setTimeout(() => process.exit(), 200).unref();
      if (process.connected) process.disconnect();
    });
});

function startTraining(raw: StartMessage): Promise<{ reason: string }> {
  const backend = raw.backend && isBackendName(raw.backend) ? raw.backend : undefined;
  return runTraining({
    configPath: raw.configPath,
    runDir: raw.runDir,
    resume: raw.resumeCheckpoint,
    backend,
    ffmpegPath: raw.ffmpegPath,
    cacheRoot: raw.cacheRoot,
    maxSteps: raw.maxSteps,
    snapshotEvery: raw.snapshotEvery || undefined,
    overrides: raw.overrides,
    signal: controller.signal,
    emit: send,
  });
}
