import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CsvError, parse } from 'csv-parse/sync';
import { ValidationError } from '../util/errors.ts';

/**
 * Tag-genome relevance of one movie from a CSV file: header `tagId,relevance`, or the published
 * genome-scores.csv layout `movieId,tagId,relevance` holding a single movie. Errors name the line.
 */
export function readGenomeFile(path: string): { tagId: number; relevance: number; where: string }[] {
  const name = basename(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValidationError(
      `${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      '--genome',
    );
  }
  let rows: string[][];
  let lines: number[];
  try {
    // info: the physical line of each record, so errors point at the right line past blank ones.
    const parsed = parse(text, { skip_empty_lines: true, trim: true, info: true }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
    rows = parsed.map((p) => p.record);
    lines = parsed.map((p) => p.info.lines);
  } catch (err) {
    const line = err instanceof CsvError ? (err as CsvError & { lines?: number }).lines : undefined;
    throw new ValidationError(`${name}${line ? ` line ${line}` : ''}: ${(err as Error).message}`, '--genome');
  }
  const header = (rows[0] ?? []).map((h) => h.toLowerCase());
  const first = lines[0] ?? 1;
  const layouts: Record<string, string[]> = {
    short: ['tagid', 'relevance'],
    published: ['movieid', 'tagid', 'relevance'],
  };
  const layout = Object.entries(layouts).find(([, h]) => h.join(',') === header.join(','))?.[0];
  if (!layout)
    throw new ValidationError(
      `${name} line ${first}: header must be "tagId,relevance" or "movieId,tagId,relevance", not "${(rows[0] ?? []).join(',')}"`,
      '--genome',
    );
  const out: { tagId: number; relevance: number; where: string }[] = [];
  let movie: string | null = null;
  for (let r = 1; r < rows.length; r++) {
    const cells = rows[r]!;
    const line = lines[r]!;
    if (layout === 'published') {
      if (movie !== null && cells[0] !== movie)
        throw new ValidationError(
          `${name} line ${line}: the file must hold one movie, found ${movie} and ${cells[0]}`,
          '--genome',
        );
      movie = cells[0]!;
    }
    const [tagCell, relCell] = layout === 'published' ? cells.slice(1) : cells;
    const tagId = Number(tagCell);
    const relevance = Number(relCell);
    if (!/^\d+$/.test(tagCell ?? '') || !Number.isSafeInteger(tagId))
      throw new ValidationError(`${name} line ${line}: field tagId: "${tagCell}" is not a whole number`, '--genome');
    if (relCell === undefined || relCell === '' || !Number.isFinite(relevance) || relevance < 0 || relevance > 1)
      throw new ValidationError(
        `${name} line ${line}: field relevance: "${relCell}" is not a number from 0 to 1`,
        '--genome',
      );
    out.push({ tagId, relevance, where: `${name} line ${line}` });
  }
  if (out.length === 0) throw new ValidationError(`${name}: no relevance rows after the header`, '--genome');
  return out;
}
