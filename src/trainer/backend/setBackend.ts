// tf.setBackend reports a failed initialisation only as `false` plus log.warn lines, which prod mode silences. This
// turns it into an exception that quotes the real error, and puts the previous backend back so TF.js stays usable.
import * as tf from '@tensorflow/tfjs';

export async function setBackendOrThrow(tfBackendName: string): Promise<void> {
  const engine = tf.engine();
  const previous = engine.backendName;
  const hadPrevious = previous != null && previous !== tfBackendName && engine.registry[previous] != null;
  const wasProd = tf.env().getBool('PROD');
  const warnings: string[] = [];
  const originalWarn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
  };
  tf.env().set('PROD', false); // only so tfjs' log.warn reaches our capture
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfBackendName);
  } finally {
    tf.env().set('PROD', wasProd);
    console.warn = originalWarn;
  }
  if (ok) {
    if (!wasProd) for (const w of warnings) console.warn(w);
    return;
  }
  // A failed setBackend leaves the engine pointing at a backend without an instance; every op would then throw.
  if (hadPrevious) await tf.setBackend(previous);
  // tfjs logs "Initialization of backend X failed" and then the stack, whose first line is "Name: message".
  const detail = warnings
    .map((w) => w.split('\n', 1)[0])
    .filter((line) => !line.startsWith('Initialization of backend'))
    .join('; ');
  throw new Error(`tf.setBackend('${tfBackendName}') failed${detail ? `: ${detail}` : ''}`);
}
