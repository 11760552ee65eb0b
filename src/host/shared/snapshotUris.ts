// A snapshot's files as the webview needs them: a map from each manifest-relative path to a
// webview URI. Paths that would leave the snapshot folder, also through a symbolic link, are dropped (a crafted
// manifest must not expose other files through localResourceRoots).

import * as path from 'node:path';
import { isSafelyInside } from '../../core/node/runPathSafety';
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

/** `relative` stays inside `folder`, also after symbolic links are followed (src/core/node/runPathSafety.ts). */
export function isInsideFolder(folder: string, relative: string): boolean {
  return isSafelyInside(folder, relative);
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
