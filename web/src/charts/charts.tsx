/**
 * The page's charts: SVG through visx primitives (d3 scales and shapes as React components, no
 * canvas), so they scale with the page, print, and can carry accessible names and native tooltips.
 * Each chart is a figure with a caption; bar charts also come with the numbers in a table nearby.
 */
import { AxisBottom, AxisLeft } from '@visx/axis';
import { Group } from '@visx/group';
import { scaleLinear } from '@visx/scale';
import { Bar, Circle, Line, LinePath } from '@visx/shape';
import { type RefObject, useId, useLayoutEffect, useRef, useState } from 'react';

/** What d3's linear scales hand to tick formatters. */
type NumberLike = number | { valueOf(): number };

const AXIS = { stroke: 'currentColor', tickStroke: 'currentColor' };
const TICK_LABEL = () => ({ fill: 'currentColor', fontSize: 11, fontFamily: 'inherit' });
const TICK_LABEL_LEFT = () => ({ ...TICK_LABEL(), textAnchor: 'end' as const, dx: -4, dy: 3 });
/** Roughly how wide a tick label of n characters is at 11 px (system sans-serif, digits included). */
const textWidth = (n: number) => Math.ceil(n * 6.6);
/** The narrowest a chart is drawn; a narrower box scrolls rather than shrinking the text. */
const MIN_WIDTH = 280;

/**
 * The width a chart has on the page, so its SVG is drawn at 1:1 and its text stays 11 px on a phone
 * (a 640-unit drawing scaled into 350 px would shrink the labels to 6 px). Up to `max`.
 */
function useChartWidth(max: number): [RefObject<HTMLElement | null>, number] {
  const ref = useRef<HTMLElement>(null);
  const [width, setWidth] = useState(max);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const fit = (w: number) => setWidth(Math.max(MIN_WIDTH, Math.min(max, Math.floor(w))));
    fit(el.getBoundingClientRect().width);
    const observer = new ResizeObserver((entries) => {
      const w = entries[0]?.contentRect.width;
      if (w) fit(w);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [max]);
  return [ref, width];
}

/** An axis title, drawn by us rather than by visx so that its place inside the SVG box is ours. */
function AxisTitle({ x, y, text, vertical = false }: { x: number; y: number; text: string; vertical?: boolean }) {
  return (
    <text
      className="axis-label"
      x={x}
      y={y}
      transform={vertical ? `rotate(-90 ${x} ${y})` : undefined}
      textAnchor="middle"
      fontSize={11}
      fill="currentColor"
    >
      {text}
    </text>
  );
}

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
  width: maxWidth = 640,
}: {
  data: BarDatum[];
  title: string;
  format?: (v: number) => string;
  width?: number;
}) {
  const [ref, width] = useChartWidth(maxWidth);
  // Labels go beside the bars when they fit in 40% of the width, else above them, whole either way
  // (shortened only past the full width; the bar's tooltip has them whole).
  const longest = Math.max(4, ...data.map((d) => d.label.length));
  const beside = 14 + textWidth(longest) <= 0.4 * width;
  const maxChars = Math.max(4, Math.floor((width - 12) / 6.6));
  const shorten = (s: string) => (s.length > maxChars ? `${s.slice(0, maxChars - 1)}…` : s);
  const max = Math.max(0, ...data.map((d) => Math.max(d.value, d.high ?? d.value)));
  const min = Math.min(0, ...data.map((d) => Math.min(d.value, d.low ?? d.value)));
  const numTicks = width < 420 ? 3 : 5;
  const probe = scaleLinear<number>({ domain: [min, max || 1], nice: true });
  const tickFormat = probe.tickFormat(numTicks);
  const tickWidth = textWidth(Math.max(1, ...probe.ticks(numTicks).map((t) => tickFormat(t).length)));
  // Room on the right for the value printed after the longest bar and for half of the last tick label.
  const right = Math.max(4 + textWidth(Math.max(1, ...data.map((d) => format(d.value).length))), 4 + tickWidth / 2);
  const margin = { top: 8, right, bottom: 28, left: beside ? 14 + textWidth(longest) : 4 + tickWidth / 2 };
  const rowHeight = beside ? 24 : 40;
  const barHeight = 18;
  const height = margin.top + margin.bottom + rowHeight * Math.max(1, data.length);
  const innerW = width - margin.left - margin.right;
  const x = scaleLinear<number>({ domain: [min, max || 1], range: [0, innerW], nice: true });
  return (
    <figure className="chart" ref={ref}>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={title}
        className="chart-svg"
        style={{ maxWidth: width }}
      >
        <title>{title}</title>
        <Group left={margin.left} top={margin.top}>
          {data.map((d, i) => {
            const top = i * rowHeight + (rowHeight - barHeight) - (beside ? (rowHeight - barHeight) / 2 : 2);
            const x0 = x(Math.min(0, d.value));
            const w = Math.abs(x(d.value) - x(0));
            return (
              <g key={d.label} className="bar">
                <Bar
                  x={x0}
                  y={top}
                  width={Math.max(1, w)}
                  height={barHeight}
                  fill={d.highlight ? 'var(--accent)' : 'var(--bar)'}
                >
                  <title>{`${d.label}: ${format(d.value)}${d.low !== undefined && d.high !== undefined ? ` (95% CI ${format(d.low)}–${format(d.high)})` : ''}`}</title>
                </Bar>
                {d.low !== undefined && d.high !== undefined ? (
                  <Line
                    from={{ x: x(d.low), y: top + barHeight / 2 }}
                    to={{ x: x(d.high), y: top + barHeight / 2 }}
                    stroke="currentColor"
                    strokeWidth={1.5}
                  />
                ) : null}
                {/* Every bar labelled (a visx band axis would thin them out to about ten). */}
                <text
                  className="bar-label"
                  x={beside ? -6 : x(0)}
                  y={beside ? top + barHeight / 2 + 4 : top - 5}
                  textAnchor={beside ? 'end' : 'start'}
                  fontSize={11}
                  fill="currentColor"
                >
                  {shorten(d.label)}
                </text>
                <text
                  className="bar-value"
                  x={Math.max(x(d.value), d.high !== undefined ? x(d.high) : 0) + 4}
                  y={top + barHeight / 2 + 4}
                  fontSize={11}
                  fill="currentColor"
                >
                  {format(d.value)}
                </text>
              </g>
            );
          })}
          <Line from={{ x: x(0), y: 0 }} to={{ x: x(0), y: rowHeight * data.length }} stroke="currentColor" />
          <AxisBottom
            scale={x}
            top={rowHeight * data.length}
            numTicks={numTicks}
            {...AXIS}
            tickLabelProps={TICK_LABEL}
            tickFormat={tickFormat}
          />
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
  yLabel,
  width: maxWidth = 640,
  height: maxHeight = 260,
  markers = false,
  format = (v) => String(Number(v.toPrecision(6))),
}: {
  series: Series[];
  title: string;
  xLabel?: string;
  /** What the values are, written along the left axis. */
  yLabel?: string;
  width?: number;
  height?: number;
  /** A dot per point, with its value as a tooltip: for short curves (a few iterations or epochs). */
  markers?: boolean;
  format?: (v: number) => string;
}) {
  const [ref, width] = useChartWidth(maxWidth);
  const height = Math.min(maxHeight, Math.max(220, Math.round(0.6 * width)));
  const all = series.flatMap((s) => s.points);
  const steps = all.map((p) => p.step);
  const values = all.map((p) => p.value);
  const integerSteps = steps.every((v) => Number.isInteger(v));
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const top = 10;
  const bottom = xLabel ? 44 : 28;
  const innerH = height - top - bottom;
  const y = scaleLinear<number>({ domain: [lo, hi > lo ? hi : lo + 1], range: [innerH, 0], nice: true });
  const yFormat = y.tickFormat(5);
  const yTickWidth = textWidth(Math.max(1, ...y.ticks(5).map((t) => yFormat(t).length)));
  const left = 16 + yTickWidth + (yLabel ? 16 : 0);
  const x0 = scaleLinear<number>({ domain: [Math.min(...steps), Math.max(...steps, Math.min(...steps) + 1)] });
  const numTicks = Math.max(2, Math.min(integerSteps ? new Set(steps).size : 6, 6, Math.floor((width - left) / 56)));
  const xFormat = integerSteps ? (v: NumberLike) => String(Math.round(Number(v))) : x0.tickFormat(numTicks);
  // Half the widest tick label may stick out past the last tick.
  const right = Math.max(16, 4 + textWidth(Math.max(1, ...x0.ticks(numTicks).map((t) => xFormat(t).length))) / 2);
  const innerW = width - left - right;
  const x = x0.copy().range([0, innerW]);
  return (
    <figure className="chart" ref={ref}>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={title}
        className="chart-svg"
        style={{ maxWidth: width }}
      >
        <title>{title}</title>
        <Group left={left} top={top}>
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
          <AxisLeft scale={y} numTicks={5} {...AXIS} tickLabelProps={TICK_LABEL_LEFT} tickFormat={yFormat} />
          <AxisBottom
            scale={x}
            top={innerH}
            numTicks={numTicks}
            {...AXIS}
            tickLabelProps={TICK_LABEL}
            tickFormat={xFormat}
          />
          {xLabel ? <AxisTitle x={innerW / 2} y={innerH + 36} text={xLabel} /> : null}
          {yLabel ? <AxisTitle x={-left + 11} y={innerH / 2} text={yLabel} vertical /> : null}
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
  width: maxWidth = 640,
}: {
  points: ScatterPoint[];
  title: string;
  selected: number | null;
  onSelect?: (group: number) => void;
  width?: number;
}) {
  const clip = useId();
  const [ref, width] = useChartWidth(maxWidth);
  const height = Math.round(0.75 * width);
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const numX = width < 420 ? 4 : 6;
  const top = 10;
  const bottom = 30;
  const innerH = height - top - bottom;
  const y = scaleLinear<number>({ domain: [Math.min(...ys), Math.max(...ys)], range: [innerH, 0], nice: true });
  const yFormat = y.tickFormat(5);
  const left = 16 + textWidth(Math.max(1, ...y.ticks(5).map((t) => yFormat(t).length)));
  const x0 = scaleLinear<number>({ domain: [Math.min(...xs), Math.max(...xs)], nice: true });
  const xFormat = x0.tickFormat(numX);
  // The last tick sits on the right edge: half its label needs room past it (or it is cut to "1.").
  const right = Math.max(10, 4 + textWidth(Math.max(1, ...x0.ticks(numX).map((t) => xFormat(t).length))) / 2);
  const innerW = width - left - right;
  const x = x0.copy().range([0, innerW]);
  // The selected cluster is drawn last, so it sits on top.
  const ordered =
    selected === null
      ? points
      : [...points.filter((p) => p.group !== selected), ...points.filter((p) => p.group === selected)];
  return (
    <figure className="chart" ref={ref}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} className="chart-svg scatter">
        <title>{title}</title>
        <clipPath id={clip}>
          <rect width={innerW} height={innerH} />
        </clipPath>
        <Group left={left} top={top}>
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
          <AxisLeft scale={y} numTicks={5} {...AXIS} tickLabelProps={TICK_LABEL_LEFT} tickFormat={yFormat} />
          <AxisBottom
            scale={x}
            top={innerH}
            numTicks={numX}
            {...AXIS}
            tickLabelProps={TICK_LABEL}
            tickFormat={xFormat}
          />
        </Group>
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  );
}
