/**
 * dist/trainer.js: the TF.js engine as a child process of the extension host (child_process.fork). Speaks the message
 * contract of src/core/messages.ts over Node IPC: sends `ready` (with PROTOCOL_VERSION) at once, then answers ONE request
 * (`start`, `evaluate`, `inspect`, `build-frame-cache`, `prepare-demo`; requests/dispatch.ts) with progress and result
 * messages and a final `finished`. `stop`, SIGTERM/SIGINT or the host going away cancel it cleanly (training finishes
 * its step and checkpoints). Run by hand (no IPC channel), it writes its messages as JSON lines on stdout.
 */
import * as tf from '@tensorflow/tfjs';
import { isHostMessage, PROTOCOL_VERSION, type TrainerMessage } from '../core/messages';
import { handleEngineRequest } from './requests/dispatch';

const controller = new AbortController();
let started = false;

function send(message: TrainerMessage): void {
  if (process.send && process.connected) process.send(message);
  else process.stdout.write(`${JSON.stringify(message)}\n`);
}

process.on('SIGTERM', () => controller.abort());
process.on('SIGINT', () => controller.abort());
process.on('disconnect', () => controller.abort()); // the extension host went away: stop cleanly

send({
  type: 'ready',
  protocol: PROTOCOL_VERSION,
  pid: process.pid,
  versions: { engine: 'tfjs', node: process.version, tfjs: tf.version.tfjs },
});

process.on('message', (raw: unknown) => {
  if (!isHostMessage(raw)) {
    send({ type: 'warning', message: `engine: ignored a malformed message from the host: ${JSON.stringify(raw).slice(0, 200)}` });
    return;
  }
  if (raw.type === 'stop') {
    controller.abort();
    return;
  }
  if (started) {
    send({ type: 'warning', message: `engine: already answering a request; a second "${raw.type}" was ignored` });
    return;
  }
  started = true;
  handleEngineRequest(raw, { signal: controller.signal, emit: send })
    .then(
      (reason) => {
        process.exitCode = reason === 'failed' ? 1 : 0;
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
