import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import { parseTitle } from '../../src/data/titles.ts';
import { FeatureEncoder, type FeatureParams, fitFeatureSpace } from '../../src/features/content-features.ts';
import { fitTitleVocabulary, seriesLabel, TITLE_MAX_MOVIES, titleTerms } from '../../src/features/title-features.ts';
import type { Movie } from '../../src/store/types.ts';

describe('title terms', () => {
  // [display title, words, series key, marked (the title itself says it is one of a series), series label]
  const cases: Array<[string, string[], string | null, boolean, string | null]> = [
    ['Toy Story', ['toy', 'story'], 'toy story', false, 'Toy Story'],
    ['Toy Story 2', ['toy', 'story'], 'toy story', true, 'Toy Story'],
    ['Rocky IV', ['rocky'], 'rocky', true, 'Rocky'],
    ['Back to the Future Part III', ['back', 'future'], 'back to the future', true, 'Back to the Future'],
    ['The Godfather: Part II', ['godfather'], 'godfather', true, 'The Godfather'],
    ['Friday the 13th Part 3: 3D', ['friday', '13th', '3d'], 'friday the 13th', true, 'Friday the 13th'],
    ['Kill Bill: Vol. 1', ['kill', 'bill'], 'kill bill', true, 'Kill Bill'],
    [
      'Star Wars: Episode V - The Empire Strikes Back',
      ['star', 'wars', 'empire', 'strikes', 'back'],
      'star wars',
      true,
      'Star Wars',
    ],
    [
      'The Lord of the Rings: The Fellowship of the Ring',
      ['lord', 'rings', 'fellowship', 'ring'],
      'lord of the rings',
      true,
      'The Lord of the Rings',
    ],
    [
      'Harry Potter and the Chamber of Secrets',
      ['harry', 'potter', 'chamber', 'secrets'],
      'harry potter',
      true,
      'Harry Potter',
    ],
    // One word before "and the" names no series; the sequel number still counts.
    ['Beauty and the Beast', ['beauty', 'beast'], 'beauty and the beast', false, 'Beauty and the Beast'],
    ['The Fox and the Hound 2', ['fox', 'hound'], 'fox and the hound', true, 'The Fox and the Hound'],
    // The English article goes from the key ("The Terminator" meets "Terminator 2"), a foreign-looking one stays.
    ['Terminator 2: Judgment Day', ['terminator', 'judgment', 'day'], 'terminator', true, 'Terminator'],
    ['The Terminator', ['terminator'], 'terminator', false, 'The Terminator'],
    ['Die Hard 2', ['die', 'hard'], 'die hard', true, 'Die Hard'],
    // Diacritics, apostrophes and alternate titles in parentheses.
    ["L'Avventura (The Adventure)", ['avventura'], 'l avventura', false, "L'Avventura"],
    ["Amélie (Le Fabuleux destin d'Amélie Poulain)", ['amelie'], 'amelie', false, 'Amélie'],
    // Nothing but numbers and stop words: no words, no series.
    ['1984', [], null, false, null],
    ['Who Am I?', [], null, false, null],
    ['Part II', [], null, false, null],
  ];
  for (const [title, words, series, marked, label] of cases) {
    it(`"${title}"`, () => {
      assert.deepEqual(titleTerms(title), { words, series, marked });
      assert.equal(seriesLabel(title), label);
    });
  }

  it('reads the display title MovieLens titles parse to', () => {
    const t = titleTerms(parseTitle('Lord of the Rings: The Two Towers, The (2002)').displayTitle);
    assert.equal(t.series, 'lord of the rings');
    assert.deepEqual(t.words, ['lord', 'rings', 'two', 'towers']);
  });
});

describe('title vocabulary and columns', () => {
  const titles = [
    'Toy Story',
    'Toy Story 2',
    'Toy Story 3',
    'Star Wars: Episode IV - A New Hope',
    'Star Wars: Episode V - The Empire Strikes Back',
    'The Story of Us',
    'Proof',
    'Proof',
    'Solo',
  ];
  const terms = titles.map(titleTerms);

  it('a stem shared by over half the catalogue or over 50 films is no series (generated "Movie 1", "Movie 2", …)', () => {
    const generated = Array.from({ length: 60 }, (_, i) => titleTerms(`Movie ${i + 1}`));
    assert.ok(generated.every((t) => t.series === 'movie' && t.marked));
    assert.deepEqual(fitTitleVocabulary(generated).series, []);
    const half = [...Array.from({ length: 3 }, (_, i) => titleTerms(`Movie ${i + 1}`)), titleTerms('Heat')];
    assert.deepEqual(fitTitleVocabulary(half).series, []);
    const two = [...half.slice(0, 2), titleTerms('Heat'), titleTerms('Alien')];
    assert.deepEqual(fitTitleVocabulary(two).series, ['movie']);
  });

  it('keeps words and series of at least two movies; identical titles share words, not a series', () => {
    const v = fitTitleVocabulary(terms);
    assert.deepEqual(v.words, ['story', 'toy', 'proof', 'star', 'wars']);
    assert.deepEqual(v.series, ['toy story', 'star wars']);
    const n = titles.length;
    assert.ok(Math.abs(v.idf[0]! - (Math.log((1 + n) / 5) + 1)) < 1e-12, 'story: on 4 movies');
    assert.ok(Math.abs(v.idf[1]! - (Math.log((1 + n) / 4) + 1)) < 1e-12, 'toy: on 3 movies');
    assert.ok(Math.abs(v.otherIdf - (Math.log((1 + n) / 2) + 1)) < 1e-12, 'a word of one movie');
  });

  it('makes no column of a word in more than TITLE_MAX_MOVIES titles', () => {
    const many = Array.from({ length: TITLE_MAX_MOVIES + 1 }, (_, i) =>
      titleTerms(`Love ${'Story Song'.split(' ')[i % 2]}`),
    );
    const v = fitTitleVocabulary(many);
    assert.ok(!v.words.includes('love'));
    assert.deepEqual(v.words.sort(), ['song', 'story']);
  });

  it('writes L2-normalised word TF-IDF and a series column of 1 into the title group', () => {
    const movies: Movie[] = titles.map((displayTitle, i) => ({
      movieId: i + 1,
      title: displayTitle,
      displayTitle,
      year: 2000,
      genres: ['Drama'],
      imdbId: null,
      tmdbId: null,
      source: 'import',
    }));
    const catalogue = new Catalogue(movies);
    const params: FeatureParams = {
      weights: { genres: 1, year: 0, tags: 0, title: 1, genome: 0, stats: 0 },
      tagVocabulary: 10,
      tagMinMovies: 2,
    };
    const space = fitFeatureSpace(
      catalogue,
      movies.map(() => new Map()),
      [],
      false,
      params,
    );
    const group = space.groups.find((g) => g.name === 'title')!;
    assert.deepEqual([group.start, group.end, group.scaling], [1, 8, 'links']);
    const enc = new FeatureEncoder(space);
    const rows = enc.rows(
      catalogue,
      movies.map(() => new Map()),
      [],
    );
    const row = (i: number) => {
      const out: Record<number, number> = {};
      for (let p = rows.indptr[i]!; p < rows.indptr[i + 1]!; p++)
        if (rows.indices[p]! >= group.start) out[rows.indices[p]! - group.start] = rows.values[p]!;
      return out;
    };
    // Toy Story 2: "story" (column 0) and "toy" (1) by their IDF, normalised; series "toy story" (5) is 1.
    const [story, toy] = space.titleIdf!;
    const r = row(1);
    assert.ok(Math.abs(r[0]! - story! / Math.hypot(story!, toy!)) < 1e-6);
    assert.ok(Math.abs(r[1]! - toy! / Math.hypot(story!, toy!)) < 1e-6);
    assert.equal(r[5], 1);
    // Words that are no column ("new", "hope": one movie each) still count in the norm with the IDF of a rare word.
    const [, , , star, wars] = space.titleIdf!;
    const other = space.titleOtherIdf!;
    assert.ok(Math.abs(row(3)[3]! - star! / Math.sqrt(star! ** 2 + wars! ** 2 + 2 * other ** 2)) < 1e-6);
    // Star Wars IV and V share the series column (6) though their subtitles share no word.
    assert.equal(row(3)[6], 1);
    assert.equal(row(4)[6], 1);
    // "Solo": no word or series in the vocabulary, so the group is absent rather than unlike every title.
    assert.deepEqual(row(8), {});
    assert.equal(rows.present[8 * space.groups.length + 1], 0);
    // A movie placed later gets the same columns from its title (after its genre, column −1 of the group).
    const live = enc.row({
      genres: ['Drama'],
      year: 2019,
      title: 'Toy Story 4',
      tags: new Map(),
      genome: { tagIds: [], relevance: [] },
    });
    assert.deepEqual(
      Array.from(live.indices).map((c) => c - group.start),
      [-1, 0, 1, 5],
    );
  });
});
