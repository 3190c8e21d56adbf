import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import type { Movie } from '../../src/store/types.ts';

const m = (movieId: number, title: string, displayTitle: string, genres: string[]): Movie => ({
  movieId,
  title,
  displayTitle,
  year: null,
  genres,
  imdbId: null,
  tmdbId: null,
  source: 'import',
});

const catalogue = new Catalogue([
  m(1, 'Matrix, The (1999)', 'The Matrix', ['Action', 'Sci-Fi']),
  m(2, 'Matrix Reloaded, The (2003)', 'The Matrix Reloaded', ['Action', 'Sci-Fi']),
  m(3, 'Animatrix, The (2003)', 'The Animatrix', ['Animation']),
  m(4, "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Amélie (Le Fabuleux destin d'Amélie Poulain)", [
    'Comedy',
    'Romance',
  ]),
  m(5, 'Living Matrix (2009)', 'Living Matrix', ['Documentary']),
]);

test('search ranks exact title (article ignored), then title prefix, then word prefix; not inside words', () => {
  const hits = catalogue.search('the matrix');
  assert.deepEqual(
    hits.sort((a, b) => b.match - a.match || a.index - b.index).map((h) => catalogue.movies[h.index]!.movieId),
    [1, 2],
  );
  const matrix = catalogue.search('MATRIX').sort((a, b) => b.match - a.match || a.index - b.index);
  assert.deepEqual(
    matrix.map((h) => catalogue.movies[h.index]!.movieId),
    [1, 2, 5],
  );
});

test('search is accent-insensitive both ways', () => {
  assert.deepEqual(
    catalogue.search('amelie').map((h) => h.index),
    [3],
  );
  assert.deepEqual(
    catalogue.search('AMÉLIE poulain').map((h) => h.index),
    [3],
  );
});

test('genres are case-insensitive, counted and kept as bitmasks', () => {
  assert.equal(catalogue.canonicalGenre('sci-fi'), 'Sci-Fi');
  assert.equal(catalogue.canonicalGenre('Scifi'), undefined);
  assert.deepEqual(catalogue.genreCounts()[0], { genre: 'Action', movies: 2 });
  const mask = catalogue.maskOf(['Comedy']);
  assert.equal(catalogue.genreMask(3) & mask, mask);
  assert.equal(catalogue.genreMask(0) & mask, 0);
});

test('a movie added live is indexed, searchable and cannot be added twice', () => {
  const c = new Catalogue([]);
  for (let i = 1; i <= 40; i++) c.add(m(i, `Film ${i}`, `Film ${i}`, ['Drama']));
  assert.equal(c.size, 40);
  assert.equal(c.indexOf(40), 39);
  assert.equal(c.search('film 40').length, 1);
  assert.throws(() => c.add(m(1, 'x', 'x', [])), /already/);
});
