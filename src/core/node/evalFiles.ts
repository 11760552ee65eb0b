// Reading a checkpoint's stored evaluation results (checkpoints/step-NNNNNN.eval.json; format in ../evalResults.ts).

import { readFile } from 'node:fs/promises';
import { isEvalSidecar, type EvalSidecar } from '../evalResults';

/** The eval sidecar, or undefined when it is missing, unreadable or of another format version. */
export async function readEvalSidecar(file: string): Promise<EvalSidecar | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    return isEvalSidecar(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
