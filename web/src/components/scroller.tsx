/**
 * A box that scrolls when its content does not fit (a wide table on a phone, a long table beside a
 * chart), and then says so: a line of text above it names the direction, the edges with more behind
 * them fade, and the box takes the keyboard focus so it can be scrolled without a pointer. When
 * everything fits there is no cue and nothing to focus.
 */
import { type CSSProperties, type ReactNode, useId, useLayoutEffect, useRef, useState } from 'react';

interface Overflow {
  x: boolean;
  y: boolean;
  left: boolean;
  right: boolean;
  up: boolean;
  down: boolean;
}

const NONE: Overflow = { x: false, y: false, left: false, right: false, up: false, down: false };

function measure(el: HTMLElement): Overflow {
  const maxX = el.scrollWidth - el.clientWidth;
  const maxY = el.scrollHeight - el.clientHeight;
  const x = maxX > 1;
  const y = maxY > 1;
  return {
    x,
    y,
    left: x && el.scrollLeft > 1,
    right: x && el.scrollLeft < maxX - 1,
    up: y && el.scrollTop > 1,
    down: y && el.scrollTop < maxY - 1,
  };
}

const same = (a: Overflow, b: Overflow) =>
  a.x === b.x && a.y === b.y && a.left === b.left && a.right === b.right && a.up === b.up && a.down === b.down;

function cueText(o: Overflow, what: { columns: string; rows: string }): string | null {
  if (o.x && o.y) return `Scroll the table sideways and down to see all ${what.columns} and ${what.rows}.`;
  if (o.x) return `Scroll sideways to see all ${what.columns} →`;
  if (o.y) return `Scroll the table down to see all ${what.rows} ↓`;
  return null;
}

export function Scroller({
  label,
  children,
  tall = false,
  minWidth,
  what = { columns: 'columns', rows: 'rows' },
}: {
  /** The accessible name of the scrolling box (usually the table's name). */
  label: string;
  children: ReactNode;
  /** Caps the height on wide screens (the table sits beside a chart); on narrow ones it grows with its rows. */
  tall?: boolean;
  /** The narrowest the content may get before it scrolls sideways instead (e.g. '36rem'). */
  minWidth?: string;
  /** How the cue names what is out of view. */
  what?: { columns: string; rows: string };
}) {
  const body = useRef<HTMLDivElement>(null);
  const cueId = useId();
  const [overflow, setOverflow] = useState<Overflow>(NONE);
  useLayoutEffect(() => {
    const el = body.current;
    if (!el) return;
    const update = () => setOverflow((prev) => (same(prev, measure(el)) ? prev : measure(el)));
    update();
    const resize = new ResizeObserver(update);
    const watchChildren = () => {
      resize.disconnect();
      resize.observe(el);
      for (const child of el.children) resize.observe(child);
    };
    watchChildren();
    // Rows arrive and leave (filters, reloads): re-measure, and watch the new children.
    const mutations = new MutationObserver(() => {
      watchChildren();
      update();
    });
    mutations.observe(el, { childList: true, subtree: true });
    el.addEventListener('scroll', update, { passive: true });
    return () => {
      resize.disconnect();
      mutations.disconnect();
      el.removeEventListener('scroll', update);
    };
  }, []);
  const cue = cueText(overflow, what);
  const classes = ['scroller'];
  if (tall) classes.push('tall');
  for (const edge of ['left', 'right', 'up', 'down'] as const) if (overflow[edge]) classes.push(`more-${edge}`);
  return (
    <div className={classes.join(' ')} data-overflow={`${overflow.x ? 'x' : ''}${overflow.y ? 'y' : ''}`}>
      {cue ? (
        <p className="scroll-cue" id={cueId}>
          {cue}
        </p>
      ) : null}
      <div className="scroller-frame">
        {/* Focusable only while it scrolls: a scrolling box must be reachable by keyboard to be scrolled. */}
        <div
          ref={body}
          className="scroller-body"
          style={minWidth ? ({ '--min-width': minWidth } as CSSProperties) : undefined}
          {...(cue ? { tabIndex: 0, role: 'region', 'aria-label': label, 'aria-describedby': cueId } : {})}
        >
          {children}
        </div>
      </div>
    </div>
  );
}
