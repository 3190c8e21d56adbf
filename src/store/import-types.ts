/** What an import reports, and an import that failed with the lines at fault (apart from the importers, so the CLI loads them without DuckDB). */

import type { ImportPlan } from '../data/formats.ts';
import type { Progress } from '../util/progress.ts';
import type { Store, StoreCounts } from './types.ts';

export interface ImportIssue {
  file: string;
  line: number | null;
  field?: string;
  message: string;
}

export class ImportError extends Error {
  constructor(
    readonly issues: ImportIssue[],
    readonly total: number,
  ) {
    const first = issues[0];
    const where = first ? `${first.file}${first.line !== null ? ` line ${first.line}` : ''}` : 'import';
    const more = total > 1 ? ` (and ${total - 1} more problem${total > 2 ? 's' : ''}; --lenient skips bad lines)` : '';
    super(`${where}: ${first?.field ? `field ${first.field}: ` : ''}${first?.message ?? 'failed'}${more}`);
  }
}

export interface ImportOptions {
  /** Skip and report bad lines instead of failing the whole import. */
  lenient?: boolean;
  progress?: Progress;
}

export interface ImportReport {
  dataset: string;
  format: string;
  counts: StoreCounts;
  /** Lenient mode: bad lines that were skipped (first 100 of skippedCount). */
  skipped: ImportIssue[];
  skippedCount: number;
  seconds: number;
}

/** A store that can load a MovieLens release (the embedded DuckDB file and PostgreSQL both can). */
export interface ImportingStore extends Store {
  importDataset(plan: ImportPlan, options?: ImportOptions): Promise<ImportReport>;
}
