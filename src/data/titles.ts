/** MovieLens title conventions: "Matrix, The (1999)", alternate titles in parentheses, trailing year. */

export interface ParsedTitle {
  displayTitle: string;
  year: number | null;
}

// Articles MovieLens moves to the end ("Matrix, The"), in the languages its catalogue uses.
const ARTICLES = [
  'The',
  'A',
  'An',
  'Les',
  'La',
  'Le',
  "L'",
  'Il',
  'Lo',
  'I',
  'Gli',
  'Das',
  'Der',
  'Die',
  'Den',
  'Det',
  'De',
  'Het',
  'Een',
  'El',
  'Los',
  'Las',
  'Un',
  'Une',
  'Uno',
  'Una',
  'Ein',
  'Eine',
  'O',
  'Os',
  'As',
  'Ta',
  'To',
];
// "Crow, The: Wicked Prayer": the article closes the main title, before a subtitle after a colon.
const ARTICLE_SUFFIX = new RegExp(`^(.*\\S), (${ARTICLES.map((a) => a.replace("'", "\\'")).join('|')})(: .*)?$`);
const YEAR_SUFFIX = /\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$/;

/** "Matrix, The" → "The Matrix"; "Avventura, L'" → "L'Avventura"; "Crow, The: Wicked Prayer" → "The Crow: Wicked Prayer". */
export function frontArticle(title: string): string {
  const match = ARTICLE_SUFFIX.exec(title.trim());
  if (!match) return title.trim();
  const [, rest, article, subtitle = ''] = match;
  return `${article!.endsWith("'") ? `${article}${rest}` : `${article} ${rest}`}${subtitle}`;
}

export function parseTitle(raw: string): ParsedTitle {
  const title = raw.trim();
  const yearMatch = YEAR_SUFFIX.exec(title);
  const year = yearMatch ? Number(yearMatch[1]) : null;
  let body = yearMatch ? title.slice(0, yearMatch.index) : title;
  // "City of Lost Children, The (Cité des enfants perdus, La)": the main title comes before the
  // first alternate in parentheses; each part gets its article moved on its own.
  const alt = /^(.*?)\s+(\(.*\))$/.exec(body);
  if (alt && alt[1]!.length > 0) {
    const alternates = alt[2]!.replace(/\(([^()]*)\)/g, (_m, inner: string) => `(${frontArticle(inner)})`);
    body = `${frontArticle(alt[1]!)} ${alternates}`;
  } else {
    body = frontArticle(body);
  }
  return { displayTitle: body.length > 0 ? body : title, year };
}

/** "(no genres listed)" and ml-100k's "unknown" mean no genres; older releases spell "Children's". */
export function normaliseGenres(genres: readonly string[]): string[] {
  const out: string[] = [];
  for (const g of genres) {
    const name = g.trim();
    if (name === '' || name === '(no genres listed)' || name === 'unknown') continue;
    const canonical = name === "Children's" ? 'Children' : name;
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

/** Case- and accent-insensitive key for search. */
export function searchKey(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
