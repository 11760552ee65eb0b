// Paths read from a run folder are untrusted input (the folder may come from a cloned repository or a shared drive):
// a checkpoint sidecar, a snapshot manifest or an attention manifest must not make the product read, show or delete
// anything outside the run folder. Two rules (docs/run-directory.md, "Paths inside a run folder"):
//   1. where a file NAME is expected (a sidecar's weightsFile), only a plain name: no separator, not "." or "..";
//   2. every path is resolved, symlinks included (realpath), and must stay inside the run folder (or the folder the
//      format says, e.g. the snapshot's own folder).
// Violations are refused with an error that names the file, the field, the value and why.

import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import * as path from 'node:path';

/** Where an untrusted path came from, for the message: the file it was read from and the field in it. */
export interface PathSource {
  file: string;
  field: string;
}

export class UnsafeRunPathError extends Error {
  override readonly name = 'UnsafeRunPathError';
  constructor(
    readonly source: PathSource,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(
      `${source.file}: ${source.field} ${describe(value)} ${reason}. A run folder may only name files inside itself, so this ` +
        'file was not used. Fix: if the run folder came from elsewhere (a cloned repository, a shared drive), do not use it; ' +
        'otherwise restore the file from the trainer that wrote it.',
    );
  }
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Why `name` is not a plain file name, or undefined when it is one. */
export function plainFileNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'is not a string';
  if (name === '') return 'is empty';
  if (name.includes('\0')) return 'contains a NUL character';
  if (name === '.' || name === '..') return 'is not a file name';
  if (/[\\/]/.test(name)) return 'is not a plain file name (it contains a path separator)';
  if (path.isAbsolute(name) || /^[A-Za-z]:/.test(name)) return 'is an absolute path, not a file name';
  return undefined;
}

export function assertPlainFileName(name: unknown, source: PathSource): string {
  const problem = plainFileNameProblem(name);
  if (problem) throw new UnsafeRunPathError(source, name, problem);
  return name as string;
}

/** True when `child` is `folder` itself or below it (both absolute and normalised). */
export function isWithin(folder: string, child: string): boolean {
  const rel = path.relative(folder, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** Lexical check only: `relative` names something strictly inside `folder` (no symlinks resolved). */
export function isLexicallyInside(folder: string, relative: string): boolean {
  if (typeof relative !== 'string' || relative === '' || path.isAbsolute(relative) || relative.includes('\0')) return false;
  const resolved = path.resolve(folder, relative);
  return resolved !== path.resolve(folder) && isWithin(path.resolve(folder), resolved);
}

type RealpathFn = (p: string) => string | Promise<string>;

/**
 * The real path of `target`, also when it does not exist yet: the deepest existing ancestor is resolved and the
 * missing rest appended (a dangling symlink is resolved through readlink by realpath's failure, so it is refused too).
 */
async function realpathOrAncestor(target: string, real: RealpathFn): Promise<string> {
  let current = target;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(await real(current), ...rest.reverse());
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      const parent = path.dirname(current);
      if (parent === current) return path.join(current, ...rest.reverse());
      rest.push(path.basename(current));
      current = parent;
    }
  }
}

function realpathOrAncestorSync(target: string): string {
  let current = target;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(current), ...rest.reverse());
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      const parent = path.dirname(current);
      if (parent === current) return path.join(current, ...rest.reverse());
      rest.push(path.basename(current));
      current = parent;
    }
  }
}

function lexicalTarget(folder: string, candidate: unknown, source: PathSource): string {
  if (typeof candidate !== 'string' || candidate === '') throw new UnsafeRunPathError(source, candidate, 'is not a path');
  if (candidate.includes('\0')) throw new UnsafeRunPathError(source, candidate, 'contains a NUL character');
  const target = path.resolve(folder, candidate);
  if (!isWithin(path.resolve(folder), target)) throw new UnsafeRunPathError(source, candidate, `leads outside ${folder}`);
  return target;
}

/**
 * Resolves `candidate` (relative to `folder`, or absolute) and checks that it stays inside `folder` after every
 * symlink is followed. Returns the lexical absolute path (what the caller opens). Throws UnsafeRunPathError.
 */
export async function resolveInside(folder: string, candidate: unknown, source: PathSource, shown: unknown = candidate): Promise<string> {
  const target = lexicalTarget(folder, candidate, source);
  const realFolder = await realpathOrAncestor(path.resolve(folder), realpath);
  const realTarget = await realpathOrAncestor(target, realpath);
  if (!isWithin(realFolder, realTarget))
    throw new UnsafeRunPathError(source, shown, `resolves (through a symbolic link) to ${realTarget}, outside ${folder}`);
  return target;
}

/** The synchronous form of resolveInside, for code that maps many paths at once (webview URIs). */
export function resolveInsideSync(folder: string, candidate: unknown, source: PathSource): string {
  const target = lexicalTarget(folder, candidate, source);
  const realFolder = realpathOrAncestorSync(path.resolve(folder));
  const realTarget = realpathOrAncestorSync(target);
  if (!isWithin(realFolder, realTarget))
    throw new UnsafeRunPathError(source, candidate, `resolves (through a symbolic link) to ${realTarget}, outside ${folder}`);
  return target;
}

/** resolveInsideSync as a yes/no (for lists that drop unsafe entries and go on). */
export function isSafelyInside(folder: string, candidate: unknown): boolean {
  if (typeof candidate !== 'string' || !isLexicallyInside(folder, candidate)) return false;
  try {
    resolveInsideSync(folder, candidate, { file: folder, field: 'path' });
    return true;
  } catch {
    return false;
  }
}

/** A file NAME from a run folder, joined to `folder` and checked to stay inside `runDir` after symlinks. */
export async function resolveFileNameInRun(runDir: string, folder: string, name: unknown, source: PathSource): Promise<string> {
  assertPlainFileName(name, source);
  return resolveInside(runDir, path.join(folder, name as string), source, name);
}
