// Commands are invoked from the palette (no argument), from tree items (a node), from the explorer
// (a Uri) and from tests or other extensions (a path string). These resolve all of them. Pure.

import * as path from 'node:path';
import { EVAL_SUITES } from '../../core/evalResults';
import type { EvalJob } from '../../core/messages';
import { isCheckpointSidecarName, runDirOfRunFile, sidecarOfCheckpointFile } from '../../core/node/runPaths';

export interface UriLike {
  fsPath: string;
  scheme?: string;
}

function isUriLike(value: unknown): value is UriLike {
  return typeof value === 'object' && value !== null && typeof (value as UriLike).fsPath === 'string';
}

function nodeField(value: unknown, kind: string, field: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  return record.kind === kind && typeof record[field] === 'string' ? (record[field] as string) : undefined;
}

function asPath(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return path.resolve(value);
  if (isUriLike(value) && (value.scheme === undefined || value.scheme === 'file' || value.scheme === 'vscode-remote')) return value.fsPath;
  return undefined;
}

/** A run folder from a run node, a checkpoint node, a run folder path/Uri, or a file inside a run folder. */
export function runDirFromArg(arg: unknown): string | undefined {
  const fromNode = nodeField(arg, 'run', 'dir') ?? nodeField(arg, 'checkpoint', 'runDir');
  if (fromNode) return fromNode;
  if (typeof arg === 'object' && arg !== null && typeof (arg as { runDir?: unknown }).runDir === 'string')
    return (arg as { runDir: string }).runDir;
  const p = asPath(arg);
  if (!p) return undefined;
  return runDirOfRunFile(p) ?? p;
}

/** A checkpoint sidecar from a checkpoint node, a sidecar path/Uri, or a weights file next to it. */
export function checkpointFromArg(arg: unknown): string | undefined {
  const fromNode = nodeField(arg, 'checkpoint', 'sidecarFile');
  if (fromNode) return fromNode;
  const p = asPath(arg);
  if (!p) return undefined;
  return sidecarOfCheckpointFile(p) ?? (isCheckpointSidecarName(path.basename(p)) ? p : undefined);
}

/** A *.dora.json file from a config node, a Uri or a path. */
export function configFromArg(arg: unknown): string | undefined {
  const fromNode = nodeField(arg, 'config', 'file');
  if (fromNode) return fromNode;
  const p = asPath(arg);
  return p && /\.dora\.json$/i.test(p) ? p : undefined;
}

/** Checkpoint sidecars from a list argument (tests, API) or from VS Code's (clicked, selected[]) pair. */
export function checkpointsFromArgs(args: readonly unknown[]): string[] {
  const out: string[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit);
    const sidecar = checkpointFromArg(value);
    if (sidecar && !out.includes(sidecar)) out.push(sidecar);
  };
  args.forEach(visit);
  return out;
}

/** Options a caller (test, other extension, the compare panel) may pass to dora.evaluateCheckpoint, after the checkpoints. */
export interface EvalCommandOptions {
  /** Skip the suite pick. */
  jobs?: EvalJob[];
  force: boolean;
  /** No "done" notification (the caller shows the result itself). */
  quiet: boolean;
}

export function evalCommandOptionsFromArgs(args: readonly unknown[]): EvalCommandOptions {
  const found = args.find(
    (a): a is Record<string, unknown> =>
      typeof a === 'object' && a !== null && !Array.isArray(a) && ('jobs' in a || 'force' in a || 'quiet' in a) && !('kind' in a),
  );
  const jobs = Array.isArray(found?.jobs)
    ? (found.jobs as unknown[]).filter(
        (j): j is EvalJob =>
          typeof j === 'object' &&
          j !== null &&
          (EVAL_SUITES as readonly unknown[]).includes((j as EvalJob).suite) &&
          ((j as EvalJob).dataset === undefined || typeof (j as EvalJob).dataset === 'string'),
      )
    : undefined;
  return { jobs: jobs?.length ? jobs : undefined, force: found?.force === true, quiet: found?.quiet === true };
}
