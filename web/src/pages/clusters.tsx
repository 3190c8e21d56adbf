/**
 * Clusters and segments: content clusters (sizes, top genres, examples) with a 2-D projection of the
 * movies coloured by cluster, movie segments with the choice of k, and user segments when the
 * server has them.
 */
import { type CSSProperties, useEffect, useId } from 'react';
import { api, useAsync } from '../api.ts';
import { BarChart, categoryColor, LineChart, Scatter } from '../charts/charts.tsx';
import { Scroller } from '../components/scroller.tsx';
import { AsyncView, Empty } from '../components/status.tsx';
import { Link, navigate, useLocation } from '../router.tsx';
import type { MovieClusters, MovieProjection, MovieSegments, UserSegments } from '../types.ts';

const pct = (x: number) => `${Math.round(100 * x)}%`;
const genreShares = (genres: { genre: string; share: number }[]) =>
  genres
    .filter((g) => g.share >= 0.01)
    .map((g) => `${g.genre} ${pct(g.share)}`)
    .join(', ') || '–';

function ClusterSection({ selected, select }: { selected: number | null; select: (c: number | null) => void }) {
  const clusters = useAsync('clusters', (signal) => api<MovieClusters>('/v1/clusters/movies?examples=3', { signal }));
  const projection = useAsync('projection', (signal) =>
    api<MovieProjection>('/v1/clusters/movies/projection?limit=2500', { signal }),
  );
  const selectId = useId();
  return (
    <section aria-labelledby="clusters-h">
      <h2 id="clusters-h">Content clusters</h2>
      <AsyncView state={clusters} loading="Loading clusters">
        {(c) => {
          const bySize = [...c.clusters].sort((a, b) => b.size - a.size || a.cluster - b.cluster);
          const max = bySize[0]?.size ?? 1;
          const shown = selected === null ? bySize : bySize.filter((x) => x.cluster === selected);
          return (
            <>
              <p className="muted" data-testid="cluster-summary">
                {c.k} clusters over {c.dimensions} content dimensions · silhouette {c.silhouette.toFixed(3)} ·
                Davies–Bouldin {c.daviesBouldin.toFixed(3)} · {pct(c.explainedVariance)} of the feature variance kept
              </p>
              <div className="split wide-left">
                <AsyncView state={projection} loading="Projecting movies">
                  {(p) => (
                    <div>
                      <Scatter
                        title={`${p.points.length} most rated of ${p.total} movies on the first two principal components (${pct(p.explained[0] ?? 0)} and ${pct(p.explained[1] ?? 0)} of the variance), coloured by cluster`}
                        points={p.points.map((m) => ({
                          id: m.movieId,
                          x: m.x,
                          y: m.y,
                          group: m.cluster,
                          label: m.displayTitle,
                        }))}
                        selected={selected}
                        onSelect={(g) => select(g)}
                      />
                    </div>
                  )}
                </AsyncView>
                <div>
                  <p className="row">
                    <label htmlFor={selectId}>Highlight cluster</label>
                    <select
                      id={selectId}
                      value={selected ?? ''}
                      onChange={(e) => select(e.target.value === '' ? null : Number(e.target.value))}
                    >
                      <option value="">all clusters</option>
                      {bySize.map((x) => (
                        <option key={x.cluster} value={x.cluster}>
                          cluster {x.cluster} ({x.size} movies)
                        </option>
                      ))}
                    </select>
                  </p>
                  <Scroller label="Clusters" tall what={{ columns: 'columns', rows: `${shown.length} clusters` }}>
                    <table aria-label="Clusters">
                      <thead>
                        <tr>
                          <th scope="col">Cluster</th>
                          <th scope="col">Size</th>
                          <th scope="col">Top genres</th>
                          <th scope="col">Examples</th>
                        </tr>
                      </thead>
                      <tbody>
                        {shown.map((x) => (
                          <tr key={x.cluster} data-cluster={x.cluster}>
                            <th scope="row">
                              <button
                                type="button"
                                className="linkish"
                                onClick={() => select(selected === x.cluster ? null : x.cluster)}
                              >
                                <i
                                  className="dot"
                                  style={{ background: categoryColor(x.cluster) }}
                                  aria-hidden="true"
                                />
                                {x.cluster}
                              </button>
                            </th>
                            <td
                              className="num sized"
                              style={{ '--share': `${(100 * x.size) / max}%` } as CSSProperties}
                            >
                              {x.size}
                            </td>
                            <td className="list">{genreShares(x.topGenres)}</td>
                            <td className="long">
                              {x.examples.map((m, i) => (
                                <span key={m.movieId}>
                                  {i ? ', ' : ''}
                                  <Link to={`/movies/${m.movieId}`}>{m.displayTitle}</Link>
                                </span>
                              ))}
                              {x.topTags.length ? <span className="muted"> · {x.topTags.join(', ')}</span> : null}
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </Scroller>
                </div>
              </div>
            </>
          );
        }}
      </AsyncView>
    </section>
  );
}

function SegmentSection() {
  const state = useAsync('segments', (signal) => api<MovieSegments>('/v1/segments/movies', { signal }));
  return (
    <section aria-labelledby="segments-h">
      <h2 id="segments-h">Movie segments</h2>
      <AsyncView state={state} loading="Computing movie segments (the first time takes a while)">
        {(s) => (
          <>
            <p className="muted" data-testid="segment-summary">
              {s.k} segments, k chosen by {s.rule} (the elbow of the inertia curve is at {s.elbow})
            </p>
            <div className="split">
              <BarChart
                title="Movies per segment"
                format={(v) => String(Math.round(v))}
                data={s.segments.map((x) => ({ label: `segment ${x.segment}`, value: x.size }))}
              />
              <LineChart
                title="Calinski–Harabasz index by number of segments"
                xLabel="number of segments (k)"
                yLabel="Calinski–Harabasz index"
                series={[
                  {
                    name: 'Calinski–Harabasz',
                    points: s.scores.map((x) => ({ step: x.k, value: x.calinskiHarabasz })),
                  },
                ]}
              />
            </div>
            <Scroller label="Movie segments">
              <table aria-label="Movie segments">
                <thead>
                  <tr>
                    <th scope="col">Segment</th>
                    <th scope="col">Size</th>
                    <th scope="col">Top genres</th>
                    <th scope="col">Mean rating</th>
                    <th scope="col">Median ratings</th>
                    <th scope="col">Description</th>
                  </tr>
                </thead>
                <tbody>
                  {s.segments.map((x) => (
                    <tr key={x.segment} id={`segment-${x.segment}`}>
                      <th scope="row">{x.segment}</th>
                      <td className="num">{x.size}</td>
                      <td className="list">{genreShares(x.topGenres)}</td>
                      <td className="num">{x.meanRating?.toFixed(2) ?? '–'}</td>
                      <td className="num">{x.medianVotes}</td>
                      <td className="long">{x.description}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Scroller>
          </>
        )}
      </AsyncView>
    </section>
  );
}

function UserSegmentSection() {
  const state = useAsync('user-segments', (signal) => api<UserSegments>('/v1/segments/users', { signal }));
  return (
    <section aria-labelledby="user-segments-h">
      <h2 id="user-segments-h">User segments</h2>
      {state.status === 'error' && state.code === 404 ? (
        <Empty>User segments are not available on this server yet.</Empty>
      ) : (
        <AsyncView state={state} loading="Computing user segments">
          {(u) =>
            u.segments.length === 0 ? (
              <Empty>No user segments.</Empty>
            ) : (
              <>
                <p className="muted" data-testid="user-segment-summary">
                  {u.k} segments of {u.users} users, k chosen by {u.rule}; taste profiles over {u.movieSegments} movie
                  segments, coded in {u.autoencoder.code} numbers by an autoencoder
                </p>
                <BarChart
                  title="Users per segment"
                  format={(v) => String(Math.round(v))}
                  data={u.segments.map((x) => ({ label: `${x.segment}: ${x.label}`, value: x.size }))}
                />
                <Scroller label="User segments">
                  <table aria-label="User segments">
                    <thead>
                      <tr>
                        <th scope="col">Segment</th>
                        <th scope="col">Users</th>
                        <th scope="col">Label</th>
                        <th scope="col">Mean rating</th>
                        <th scope="col">Description</th>
                      </tr>
                    </thead>
                    <tbody>
                      {u.segments.map((x) => (
                        <tr key={x.segment}>
                          <th scope="row">{x.segment}</th>
                          <td className="num">{x.size}</td>
                          <td>{x.label}</td>
                          <td className="num">{x.meanRating.toFixed(2)}</td>
                          <td className="long">{x.description}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </Scroller>
              </>
            )
          }
        </AsyncView>
      )}
    </section>
  );
}

export default function Clusters() {
  const { query } = useLocation();
  const raw = query.get('cluster');
  const selected = raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
  useEffect(() => {
    document.title = 'Clusters and segments · cinerec';
    // Deep links to a segment row (from a movie page).
    const hash = window.location.hash.slice(1);
    if (hash) document.getElementById(hash)?.scrollIntoView();
  }, []);
  const select = (c: number | null) => navigate(c === null ? '/clusters' : `/clusters?cluster=${c}`, { replace: true });
  return (
    <>
      <h1>Clusters and segments</h1>
      <ClusterSection selected={selected} select={select} />
      <SegmentSection />
      <UserSegmentSection />
    </>
  );
}
