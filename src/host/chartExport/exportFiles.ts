// Where an export goes by default, and the save dialog's filters. Pure (no vscode), unit-tested.

import * as os from 'node:os';
import * as path from 'node:path';
import { isPlainFileName, type ExportFormat } from '../../core/experimentMessages';

export const FORMAT_FILTERS: Record<ExportFormat, Record<string, string[]>> = {
  png: { 'PNG image': ['png'] },
  svg: { 'SVG image': ['svg'] },
  csv: { 'CSV table': ['csv'] },
  json: { JSON: ['json'] },
};

/** The suggested file in the workspace folder (else the home folder); a name that is not a plain file name becomes chart.<ext>. */
export function exportTarget(workspaceRoot: string | undefined, suggestedName: string): string {
  const extension = path.extname(suggestedName) || '.txt';
  const name = isPlainFileName(suggestedName) ? suggestedName : `chart${extension}`;
  return path.join(workspaceRoot ?? os.homedir(), name);
}
