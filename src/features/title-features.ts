/**
 * Title features of the content model: the words of a movie's title and its series cue. MovieLens titles are
 * the one content signal every release has, and the one people recognise: "Toy Story 2" belongs with "Toy Story"
 * whatever its genres or tags say.
 */

/** The title's words (stop words, articles, numbers and roman numerals dropped) and its series key, if any. */
export interface TitleTerms {
  words: string[];
  /** Normalised series stem ("toy story"), or null when the title has no word left to name one. */
  series: string | null;
  /** Whether the stem was cut from the title (a subtitle or sequel number): the title says it is one of a series. */
  marked: boolean;
}

// English stop words plus the articles MovieLens titles use (src/data/titles.ts; not those that are English words
// too: "die", "den"), and the series markers, which are cues for the stem rather than words of their own.
const STOP = new Set(
  (
    'a about after again against all am an and any are as at be because been before being below between both ' +
    'but by can could did do does doing down during each few for from further had has have having he her here ' +
    'hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now ' +
    'of off on once only or other our ours out over own same she should so some such than that the their theirs ' +
    'them then there these they this those through to too under until up very was we were what when where which ' +
    'while who whom why will with would you your yours ' +
    'les la le l il lo gli das der det de het een el los las un une uno una ein eine ' +
    'part pt vol volume chapter episode'
  ).split(' '),
);
// "The Terminator" and "Terminator 2" are one series. Only English articles: "Die Hard" is not "Hard".
const LEADING_ARTICLE = new Set(['the', 'a', 'an']);

/** Roman numerals 1–39: sequel numbers, not words ("Rocky IV"). Larger ones are rarely numbers in a title. */
const ROMAN = /^x{0,3}(ix|iv|v?i{0,3})$/;
const NUMBER = /^\d+$/;
const isNumeral = (token: string): boolean => NUMBER.test(token) || (token.length > 0 && ROMAN.test(token));

/** Lower case, no diacritics, punctuation and apostrophes as spaces: "L'Avventura" → ["l", "avventura"]. */
export function titleTokens(text: string): string[] {
  const plain = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  return plain === '' ? [] : plain.split(' ');
}

/** The main title: alternates in parentheses after it dropped ("Alien³ (a.k.a. Alien 3)" → "Alien³"). */
export function mainTitle(displayTitle: string): string {
  const m = /^(.*?\S)\s+\(/.exec(displayTitle.trim());
  return m ? m[1]! : displayTitle.trim();
}

// A sequel marker at the end of a title: "2", "II", "Part 2", "Part II", "Chapter 3", "Episode IV", "Vol. 1".
// A lone "I" only after a marker word: "Who Am I" is not the first of a series.
const MARKED_NUMBER = String.raw`\b(?:part|pt\.?|chapter|episode|vol\.?|volume|no\.?)\s+(?:\d+|[ivx]+)`;
const TRAILING_MARKER = new RegExp(
  String.raw`[\s,:–-]*(?:${MARKED_NUMBER}|\b\d+|\b(?!i\b)x{0,3}(?:ix|iv|v?i{0,3})\b)\s*$`,
  'i',
);

/**
 * The series a title names, in the title's own spelling: the part before a subtitle (":" or " - ") without a
 * trailing sequel number, or the name before "and the". "Star Wars: Episode IV - A New Hope" → "Star Wars",
 * "Toy Story 2" → "Toy Story", "Back to the Future Part II" → "Back to the Future", "Harry Potter and the Goblet of
 * Fire" → "Harry Potter". A title without a subtitle or number is its own stem, so "Toy Story" meets "Toy Story 2"
 * there. Null when nothing but numbers and stop words would be left.
 */
export function seriesLabel(displayTitle: string): string | null {
  let s = mainTitle(displayTitle);
  const colon = s.indexOf(':');
  if (colon > 0) s = s.slice(0, colon);
  const dash = /\s[-–]\s/.exec(s);
  if (dash && dash.index > 0) s = s.slice(0, dash.index);
  for (let k = 0; k < 3; k++) {
    const m = TRAILING_MARKER.exec(s);
    if (!m || m.index === 0 || m[0].trim() === '') break;
    s = s.slice(0, m.index);
  }
  // "Harry Potter and the Chamber of Secrets": a name of two words or more, then the episode. One word is not
  // a series name ("Beauty and the Beast", "Charlie and the Chocolate Factory").
  const and = /\s(?:and|&)\s+the\s/i.exec(s);
  if (and) {
    const before = titleTokens(s.slice(0, and.index));
    if (before.length > 0 && LEADING_ARTICLE.has(before[0]!)) before.shift();
    if (before.length >= 2) s = s.slice(0, and.index);
  }
  s = s.replace(/[\s,.;:!?–-]+$/, '').trim();
  return seriesKey(s) === null ? null : s;
}

/** The comparable form of a series label: tokens without a leading article ("The Godfather" = "Godfather"). */
export function seriesKey(label: string): string | null {
  const tokens = titleTokens(label);
  if (tokens.length > 1 && LEADING_ARTICLE.has(tokens[0]!)) tokens.shift();
  if (!tokens.some((t) => !STOP.has(t) && !isNumeral(t))) return null;
  return tokens.join(' ');
}

/** Words and series key of a display title (the title without its year). */
export function titleTerms(displayTitle: string): TitleTerms {
  const words: string[] = [];
  for (const t of titleTokens(mainTitle(displayTitle))) {
    if (t.length < 2 || STOP.has(t) || isNumeral(t)) continue;
    if (!words.includes(t)) words.push(t);
  }
  const label = seriesLabel(displayTitle);
  const series = label === null ? null : seriesKey(label);
  return { words, series, marked: series !== null && series !== seriesKey(mainTitle(displayTitle)) };
}

/** Most title words kept (the most widely used first), as the tags group caps its terms. */
export const TITLE_VOCABULARY = 50_000;
/** A word or series must be shared by this many movies: a term of one movie links it to nothing. */
export const TITLE_MIN_MOVIES = 2;
/**
 * A word in more titles than this is no column ("love", "sisters", "castle"): it says little about a movie, and two
 * titles sharing it are rarely related. A franchise name ("matrix", "jurassic") is in a handful of titles.
 */
export const TITLE_MAX_MOVIES = 10;
/**
 * A stem shared by more films than this, or by more than half the catalogue, is no series: generated titles
 * ("Movie 1", "Movie 2", …) would otherwise pull the whole catalogue together. The largest series of ml-latest-small
 * has 13 films (Dragon Ball Z).
 */
export const TITLE_MAX_SERIES = 50;
/**
 * Value of the series column beside the L2-normalised word TF-IDF: a shared series counts as much as a title
 * made of the same words, so "Star Wars: Episode V" meets "Episode IV" though their subtitles share nothing.
 */
export const SERIES_VALUE = 1;

/**
 * The title columns of a catalogue: words of TITLE_MIN_MOVIES to TITLE_MAX_MOVIES titles, with their IDF, and series
 * stems shared by as many where at least one title marks a sequel or subtitle ("Toy Story 2"); titles that are
 * merely the same ("Proof", "Proof") share their words, not a series.
 */
export function fitTitleVocabulary(terms: readonly TitleTerms[]): {
  words: string[];
  idf: number[];
  series: string[];
  /** IDF of a word of one movie: every word that is no column counts with it in a title row's norm. */
  otherIdf: number;
} {
  const n = terms.length;
  const df = new Map<string, number>();
  const sf = new Map<string, number>();
  const marked = new Set<string>();
  for (const t of terms) {
    for (const w of t.words) df.set(w, (df.get(w) ?? 0) + 1);
    if (t.series === null) continue;
    sf.set(t.series, (sf.get(t.series) ?? 0) + 1);
    if (t.marked) marked.add(t.series);
  }
  const byUse = (a: [string, number], b: [string, number]) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1);
  const words = [...df.entries()]
    .filter(([, d]) => d >= TITLE_MIN_MOVIES && d <= TITLE_MAX_MOVIES)
    .sort(byUse)
    .slice(0, TITLE_VOCABULARY);
  const maxSeries = Math.min(TITLE_MAX_SERIES, n / 2);
  const series = [...sf.entries()]
    .filter(([k, d]) => d >= TITLE_MIN_MOVIES && d <= maxSeries && marked.has(k))
    .sort(byUse);
  return {
    words: words.map(([w]) => w),
    // Smoothed IDF as the tags group: ln((1 + n) / (1 + df)) + 1.
    idf: words.map(([, d]) => Math.log((1 + n) / (1 + d)) + 1),
    series: series.map(([s]) => s),
    otherIdf: Math.log((1 + n) / 2) + 1,
  };
}
