/**
 * The poster stand-in: no images (the page works offline and MovieLens ships none), a coloured card
 * with the title, year, genres and score instead. The colour comes from the first genre.
 */
import type { CSSProperties, ReactNode } from 'react';
import { Link } from '../router.tsx';

const GENRE_HUES: Record<string, number> = {
  Action: 8,
  Adventure: 28,
  Animation: 48,
  Children: 68,
  Comedy: 88,
  Crime: 350,
  Documentary: 190,
  Drama: 220,
  Fantasy: 280,
  'Film-Noir': 240,
  Horror: 330,
  IMAX: 200,
  Musical: 310,
  Mystery: 260,
  Romance: 340,
  'Sci-Fi': 175,
  Thriller: 15,
  War: 100,
  Western: 36,
};

export function genreHue(genres: readonly string[]): number {
  return GENRE_HUES[genres[0] ?? ''] ?? 210;
}

export interface CardMovie {
  movieId: number;
  displayTitle: string;
  year: number | null;
  genres: string[];
}

export function TitleCard({
  movie,
  score,
  scoreLabel = 'score',
  reason,
  badge,
  children,
}: {
  movie: CardMovie;
  score?: number | null;
  scoreLabel?: string;
  reason?: string | undefined;
  badge?: string | undefined;
  children?: ReactNode;
}) {
  const hue = genreHue(movie.genres);
  return (
    <article className="card" aria-label={movie.displayTitle} data-movie-id={movie.movieId}>
      <div className="card-art" style={{ '--hue': hue } as CSSProperties}>
        <h3 className="card-title">
          <Link to={`/movies/${movie.movieId}`}>{movie.displayTitle}</Link>
        </h3>
        <span className="card-year">{movie.year ?? 'year unknown'}</span>
        {badge ? <span className="badge">{badge}</span> : null}
      </div>
      <div className="card-body">
        <ul className="genres" aria-label="genres">
          {movie.genres.length ? movie.genres.map((g) => <li key={g}>{g}</li>) : <li>no genre listed</li>}
        </ul>
        {score !== undefined && score !== null ? (
          <p className="score">
            {scoreLabel} <strong>{formatScore(score)}</strong>
          </p>
        ) : null}
        {reason ? <p className="reason">{reason}</p> : null}
        {children}
      </div>
    </article>
  );
}

export function formatScore(x: number): string {
  return Math.abs(x) >= 10 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(3);
}

export function CardGrid({ children, label }: { children: ReactNode; label: string }) {
  return (
    <section className="grid" aria-label={label}>
      {children}
    </section>
  );
}
