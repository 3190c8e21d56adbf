/**
 * The page's charts: SVG through visx primitives (d3 scales and shapes as React components, no
 * canvas), so they scale with the page, print, and can carry accessible names and native tooltips.
 * Each chart is a figure with a caption; bar charts also come with the numbers in a table nearby.
 */
import { AxisBottom, AxisLeft } from '@visx/axis';
import { Group } from '@visx/group';
import { scaleBand, scaleLinear } from '@visx/scale';
import { Bar, Circle, Line, LinePath } from '@visx/shape';
import { useId } from 'react';

/** What d3's linear scales hand to tick formatters. */
type NumberLike = number | { valueOf(): number };

const AXIS = { stroke: 'currentColor', tickStroke: 'currentColor' };
const TICK_LABEL = () => ({ fill: 'currentColor', fontSize: 11, fontFamily: 'inherit' });
const TICK_LABEL_LEFT = () => ({ ...TICK_LABEL(), textAnchor: 'end' as const, dx: -4, dy: 3 });

/** Distinct hues for many categories: the golden angle spreads consecutive ids around the wheel. */
export function categoryColor(i: number, saturation = 62, lightness = 50): string {
  return `hsl(${Math.round((i * 137.508) % 360)} ${saturation}% ${lightness}%)`;
}

export const SERIES_COLORS = ['#2f6fb0', '#c4532c', '#3c8d4f', '#8a4fb5', '#b58a1d', '#2b8c8c'];

export interface BarDatum {
  label: string;
  value: number;
  /** Confidence interval, drawn as a whisker. */
  low?: number;
  high?: number;
  highlight?: boolean;
}

export function BarChart({
  data,
  title,
  format = (v) => v.toFixed(3),
  width = 640,
}: {
  data: BarDatum[];
  title: string;
  format?: (v: number) => string;
  width?: number;
}) {
  const labelWidth = Math.min(220, 20 + 7 * Math.max(4, ...data.map((d) => d.label.length)));
  const margin = { top: 8, right: 56, bottom: 28, left: labelWidth };
  const rowHeight = 24;
  const height = margin.top + margin.bottom + rowHeight * Math.max(1, data.length);
  const innerW = width - margin.left - margin.right;
  const max = Math.max(0, ...data.map((d) => Math.max(d.value, d.high ?? d.value)));
  const min = Math.min(0, ...data.map((d) => Math.min(d.value, d.low ?? d.value)));
  const x = scaleLinear<number>({ domain: [min, max || 1], range: [0, innerW], nice: true });
  const y = scaleBand<string>({
    domain: data.map((d) => d.label),
    range: [0, rowHeight * data.length],
    padding: 0.25,
  });
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={title}
        className="chart-svg"
        style={{ maxWidth: width }}
      >
        <title>{title}</title>
        <Group left={margin.left} top={margin.top}>
          {data.map((d) => {
            const top = y(d.label) ?? 0;
            const x0 = x(Math.min(0, d.value));
            const w = Math.abs(x(d.value) - x(0));
            return (
              <g key={d.label} className="bar">
                <Bar
                  x={x0}
                  y={top}
                  width={Math.max(1, w)}
                  height={y.bandwidth()}
                  fill={d.highlight ? 'var(--accent)' : 'var(--bar)'}
                >
                  <title>{`${d.label}: ${format(d.value)}${d.low !== undefined && d.high !== undefined ? ` (95% CI ${format(d.low)}–${format(d.high)})` : ''}`}</title>
                </Bar>
                {d.low !== undefined && d.high !== undefined ? (
                  <Line
                    from={{ x: x(d.low), y: top + y.bandwidth() / 2 }}
                    to={{ x: x(d.high), y: top + y.bandwidth() / 2 }}
                    stroke="currentColor"
                    strokeWidth={1.5}
                  />
                ) : null}
                <text
                  x={Math.max(x(d.value), d.high !== undefined ? x(d.high) : 0) + 4}
                  y={top + y.bandwidth() / 2 + 4}
                  fontSize={11}
                  fill="currentColor"
                >
                  {format(d.value)}
                </text>
              </g>
            );
          })}
          <AxisLeft
            scale={y}
            {...AXIS}
            hideTicks
            tickLabelProps={TICK_LABEL_LEFT}
            tickFormat={(s) => (s.length > 30 ? `${s.slice(0, 29)}…` : s)}
          />
          <AxisBottom scale={x} top={rowHeight * data.length} numTicks={5} {...AXIS} tickLabelProps={TICK_LABEL} />
        </Group>
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  );
}

export interface Series {
  name: string;
  points: { step: number; value: number }[];
}

export function LineChart({
  series,
  title,
  xLabel = 'step',
  width = 640,
  height = 260,
  markers = false,
  format = (v) => String(Number(v.toPrecision(6))),
}: {
  series: Series[];
  title: string;
  xLabel?: string;
  width?: number;
  height?: number;
  /** A dot per point, with its value as a tooltip: for short curves (a few iterations or epochs). */
  markers?: boolean;
  format?: (v: number) => string;
}) {
  const margin = { top: 10, right: 16, bottom: 36, left: 56 };
  const innerW = width - margin.left - margin.right;
  const innerH = height - margin.top - margin.bottom;
  const all = series.flatMap((s) => s.points);
  const steps = all.map((p) => p.step);
  const values = all.map((p) => p.value);
  const x = scaleLinear<number>({
    domain: [Math.min(...steps), Math.max(...steps, Math.min(...steps) + 1)],
    range: [0, innerW],
  });
  const integerSteps = steps.every((v) => Number.isInteger(v));
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const y = scaleLinear<number>({ domain: [lo, hi > lo ? hi : lo + 1], range: [innerH, 0], nice: true });
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={title}
        className="chart-svg"
        style={{ maxWidth: width }}
      >
        <title>{title}</title>
        <Group left={margin.left} top={margin.top}>
          {series.map((s, i) => (
            <LinePath
              key={s.name}
              data={s.points}
              x={(p) => x(p.step)}
              y={(p) => y(p.value)}
              stroke={SERIES_COLORS[i % SERIES_COLORS.length]}
              strokeWidth={2}
              strokeDasharray={i >= SERIES_COLORS.length ? '4 3' : undefined}
              fill="none"
              className="line"
            />
          ))}
          {markers
            ? series.map((s, i) => (
                <g key={s.name} className="points" fill={SERIES_COLORS[i % SERIES_COLORS.length]}>
                  {s.points.map((p) => (
                    <Circle key={p.step} className="point" cx={x(p.step)} cy={y(p.value)} r={3.5}>
                      <title>{`${s.name}: ${xLabel} ${p.step}, ${format(p.value)}`}</title>
                    </Circle>
                  ))}
                </g>
              ))
            : null}
          <AxisLeft scale={y} numTicks={5} {...AXIS} tickLabelProps={TICK_LABEL_LEFT} />
          <AxisBottom
            scale={x}
            top={innerH}
            numTicks={integerSteps ? Math.min(6, new Set(steps).size) : 6}
            {...AXIS}
            tickLabelProps={TICK_LABEL}
            {...(integerSteps ? { tickFormat: (v: NumberLike) => String(Math.round(Number(v))) } : {})}
            label={xLabel}
            labelProps={{ fill: 'currentColor', fontSize: 11, textAnchor: 'middle' }}
          />
        </Group>
      </svg>
      <figcaption>
        {title}
        {series.length > 1 ? (
          <span className="legend">
            {series.map((s, i) => (
              <span key={s.name}>
                <i style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }} aria-hidden="true" />
                {s.name}
              </span>
            ))}
          </span>
        ) : null}
      </figcaption>
    </figure>
  );
}

export interface ScatterPoint {
  id: number;
  x: number;
  y: number;
  group: number;
  label: string;
}

export function Scatter({
  points,
  title,
  selected,
  onSelect,
  width = 640,
  height = 480,
}: {
  points: ScatterPoint[];
  title: string;
  selected: number | null;
  onSelect?: (group: number) => void;
  width?: number;
  height?: number;
}) {
  const clip = useId();
  const margin = { top: 10, right: 10, bottom: 30, left: 44 };
  const innerW = width - margin.left - margin.right;
  const innerH = height - margin.top - margin.bottom;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const x = scaleLinear<number>({ domain: [Math.min(...xs), Math.max(...xs)], range: [0, innerW], nice: true });
  const y = scaleLinear<number>({ domain: [Math.min(...ys), Math.max(...ys)], range: [innerH, 0], nice: true });
  // The selected cluster is drawn last, so it sits on top.
  const ordered =
    selected === null
      ? points
      : [...points.filter((p) => p.group !== selected), ...points.filter((p) => p.group === selected)];
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} className="chart-svg scatter">
        <title>{title}</title>
        <clipPath id={clip}>
          <rect width={innerW} height={innerH} />
        </clipPath>
        <Group left={margin.left} top={margin.top}>
          <g clipPath={`url(#${clip})`}>
            {ordered.map((p) => {
              const dim = selected !== null && p.group !== selected;
              return (
                <Circle
                  key={p.id}
                  cx={x(p.x)}
                  cy={y(p.y)}
                  r={dim ? 2 : 3}
                  fill={categoryColor(p.group)}
                  fillOpacity={dim ? 0.15 : 0.8}
                  data-cluster={p.group}
                  onClick={onSelect ? () => onSelect(p.group) : undefined}
                >
                  <title>{`${p.label} — cluster ${p.group}`}</title>
                </Circle>
              );
            })}
          </g>
          <AxisLeft scale={y} numTicks={5} {...AXIS} tickLabelProps={TICK_LABEL_LEFT} />
          <AxisBottom scale={x} top={innerH} numTicks={6} {...AXIS} tickLabelProps={TICK_LABEL} />
        </Group>
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  );
}
