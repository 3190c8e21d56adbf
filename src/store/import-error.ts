/** An import that failed, with the lines at fault (kept apart from the importer so the CLI loads it without DuckDB). */

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
