// A snapshot's files as the webview needs them: a map from each manifest-relative path to a
// webview URI. Paths that would leave the snapshot folder are dropped (a crafted manifest must not
// expose other files through localResourceRoots).

import * as path from 'node:path';
import type { SnapshotManifest } from '../../core/runRecords';

export function snapshotRelativeFiles(manifest: SnapshotManifest): string[] {
  const files = new Set<string>();
  for (const clip of manifest.clips) {
    for (const frame of clip.frames) files.add(frame);
    files.add(clip.assignment.file);
    files.add(clip.attention.file);
    files.add(clip.masks.file);
  }
  return [...files];
}

export function isInsideFolder(folder: string, relative: string): boolean {
  if (path.isAbsolute(relative) || relative.includes('\0')) return false;
  const resolved = path.resolve(folder, relative);
  const rel = path.relative(folder, resolved);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

export function snapshotUriMap(
  manifest: SnapshotManifest,
  snapshotDir: string,
  toWebviewUri: (absolutePath: string) => string,
): Record<string, string> {
  const uris: Record<string, string> = {};
  for (const file of snapshotRelativeFiles(manifest)) {
    if (isInsideFolder(snapshotDir, file)) uris[file] = toWebviewUri(path.resolve(snapshotDir, file));
  }
  return uris;
}
