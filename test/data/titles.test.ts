import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frontArticle, normaliseGenres, parseTitle, searchKey } from '../../src/data/titles.ts';

describe('parseTitle', () => {
  const cases: Array<[raw: string, displayTitle: string, year: number | null]> = [
    ['Matrix, The (1999)', 'The Matrix', 1999],
    ['Toy Story (1995)', 'Toy Story', 1995],
    ['Usual Suspects, The (1995)', 'The Usual Suspects', 1995],
    ['Misérables, Les (1995)', 'Les Misérables', 1995],
    ["Avventura, L' (Adventure, The) (1960)", "L'Avventura (The Adventure)", 1960],
    [
      'City of Lost Children, The (Cité des enfants perdus, La) (1995)',
      'The City of Lost Children (La Cité des enfants perdus)',
      1995,
    ],
    [
      'Good, the Bad and the Ugly, The (Buono, il brutto, il cattivo, Il) (1966)',
      'The Good, the Bad and the Ugly (Il Buono, il brutto, il cattivo)',
      1966,
    ],
    ["Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Amélie (Le Fabuleux destin d'Amélie Poulain)", 2001],
    ['Andalusian Dog, An (Chien andalou, Un) (1929)', 'An Andalusian Dog (Un Chien andalou)', 1929],
    ['Seventh Seal, The (Sjunde inseglet, Det) (1957)', 'The Seventh Seal (Det Sjunde inseglet)', 1957],
    ['Twelve Monkeys (a.k.a. 12 Monkeys) (1995)', 'Twelve Monkeys (a.k.a. 12 Monkeys)', 1995],
    ['Shanghai Triad (Yao a yao yao dao waipo qiao) (1995)', 'Shanghai Triad (Yao a yao yao dao waipo qiao)', 1995],
    ['1900 (Novecento) (1976)', '1900 (Novecento)', 1976],
    ['(500) Days of Summer (2009)', '(500) Days of Summer', 2009],
    ['1984 (1984)', '1984', 1984],
    // The article closes the main title, before a subtitle.
    ['Crow, The: Wicked Prayer (2005)', 'The Crow: Wicked Prayer', 2005],
    ['Godfather: Part II, The (1974)', 'The Godfather: Part II', 1974],
    // A comma is not always a moved article.
    ['Hello, Dolly! (1969)', 'Hello, Dolly!', 1969],
    ['Paris, Texas (1984)', 'Paris, Texas', 1984],
    ['Honey, I Shrunk the Kids (1989)', 'Honey, I Shrunk the Kids', 1989],
    ['Strike! (a.k.a. All I Wanna Do, The Hairy Bird) (1998)', 'Strike! (a.k.a. All I Wanna Do, The Hairy Bird)', 1998],
    // Year ranges of series: the first year counts.
    ['Fawlty Towers (1975-1979)', 'Fawlty Towers', 1975],
    ['Death Note: Desu nôto (2006–2007)', 'Death Note: Desu nôto', 2006],
    ['Stranger Things (2016–)', 'Stranger Things', 2016],
    // No year at all (ml-latest has a few), and stray whitespace.
    ['Babylon 5', 'Babylon 5', null],
    ['The OA', 'The OA', null],
    ['Office, The', 'The Office', null],
    ['  Hamlet (2000) ', 'Hamlet', 2000],
    // ml-100k's placeholder movie.
    ['unknown', 'unknown', null],
  ];
  for (const [raw, displayTitle, year] of cases) {
    it(`${JSON.stringify(raw)} → ${JSON.stringify(displayTitle)}, ${year}`, () => {
      assert.deepEqual(parseTitle(raw), { displayTitle, year });
    });
  }

  it('keeps a title that is only a year rather than showing an empty one', () => {
    assert.deepEqual(parseTitle('(1999)'), { displayTitle: '(1999)', year: 1999 });
  });
});

describe('frontArticle', () => {
  it('moves articles of the catalogue languages to the front', () => {
    assert.equal(frontArticle('Matrix, The'), 'The Matrix');
    assert.equal(frontArticle('Woman Is a Woman, A'), 'A Woman Is a Woman');
    assert.equal(frontArticle('Affair of Love, An'), 'An Affair of Love');
    assert.equal(frontArticle('Impossible, Lo'), 'Lo Impossible');
    assert.equal(frontArticle('Boot, Das'), 'Das Boot');
    assert.equal(frontArticle('Vitelloni, I'), 'I Vitelloni');
  });

  it("joins an elided article without a space: L'", () => {
    assert.equal(frontArticle("Avventura, L'"), "L'Avventura");
  });

  it('leaves other titles alone (trimmed)', () => {
    assert.equal(frontArticle('Paris, Texas'), 'Paris, Texas');
    assert.equal(frontArticle(' Heat '), 'Heat');
    assert.equal(frontArticle('Theory'), 'Theory');
    assert.equal(frontArticle(''), '');
  });
});

describe('normaliseGenres', () => {
  it('maps the old "Children\'s" to "Children"', () => {
    assert.deepEqual(normaliseGenres(['Animation', "Children's", 'Comedy']), ['Animation', 'Children', 'Comedy']);
  });

  it('reads "(no genres listed)" and ml-100k\'s "unknown" as no genres', () => {
    assert.deepEqual(normaliseGenres(['(no genres listed)']), []);
    assert.deepEqual(normaliseGenres(['unknown']), []);
    assert.deepEqual(normaliseGenres([]), []);
  });

  it('drops empty names, trims, and removes repeats keeping the first position', () => {
    assert.deepEqual(normaliseGenres([' Drama ', '', 'Children', "Children's", 'Drama', 'IMAX']), [
      'Drama',
      'Children',
      'IMAX',
    ]);
    // What an empty genres field splits into.
    assert.deepEqual(normaliseGenres(''.split('|')), []);
  });

  it('keeps the published names of current releases unchanged', () => {
    const current = ['Action', 'Film-Noir', 'Sci-Fi', 'IMAX', 'Musical', 'Western'];
    assert.deepEqual(normaliseGenres(current), current);
  });
});

describe('searchKey', () => {
  it('ignores case, accents and punctuation', () => {
    assert.equal(searchKey('Amélie'), 'amelie');
    assert.equal(searchKey('Café au Lait'), searchKey('CAFE AU LAIT'));
    assert.equal(searchKey('Star Wars: Episode IV - A New Hope'), 'star wars episode iv a new hope');
    assert.equal(searchKey("L'Avventura"), 'l avventura');
    assert.equal(searchKey('  (500) Days of Summer  '), '500 days of summer');
  });

  it('keeps letters of other scripts', () => {
    assert.equal(searchKey('Крик'), 'крик');
  });
});
