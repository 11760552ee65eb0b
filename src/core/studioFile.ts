// studio.json: what DoRA Studio itself stores in a run folder (docs/run-directory.md, "Ownership": the extension
// writes only this file). A run folder is untrusted input, so reading is lenient and field by field: a wrong-typed
// field is dropped, never trusted, and never stops the run from being listed. Pure; the I/O is in the host.

export const STUDIO_FILE_VERSION = 1;
export const DISPLAY_NAME_MAX = 120;

export interface StudioInfo {
  formatVersion: number;
  /** The name the Runs view, the runs table and the charts show instead of run.json's `name`. */
  displayName?: string;
  /** Starred runs sort first in the Runs view and can be filtered in the runs table. */
  starred?: boolean;
}

// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * A display name as it is stored: control characters removed, whitespace collapsed, trimmed, at most
 * DISPLAY_NAME_MAX characters; undefined when nothing is left (which clears the name).
 */
export function sanitizeDisplayName(name: string): string | undefined {
  const clean = name.replace(CONTROL_CHARACTERS, ' ').replace(/\s+/g, ' ').trim().slice(0, DISPLAY_NAME_MAX).trim();
  return clean.length > 0 ? clean : undefined;
}

/** The valid fields of a parsed studio.json; anything else (another type, an unknown key) is left out. */
export function parseStudioInfo(value: unknown): StudioInfo {
  const info: StudioInfo = { formatVersion: STUDIO_FILE_VERSION };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return info;
  const v = value as Record<string, unknown>;
  if (typeof v.displayName === 'string') {
    const name = sanitizeDisplayName(v.displayName);
    if (name) info.displayName = name;
  }
  if (typeof v.starred === 'boolean') info.starred = v.starred;
  return info;
}

/** The name to show for a run: studio.json's, else run.json's, else the folder name. */
export function runDisplayName(folder: string, runJsonName: string | undefined, studio: StudioInfo | undefined): string {
  return studio?.displayName ?? runJsonName ?? folder;
}
