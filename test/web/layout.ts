/**
 * What a person would see as broken on a page, measured in the browser: something cut off at the
 * edge of a box or of the screen without a cue that it scrolls, chart text outside its SVG box (where
 * it is clipped) or too small to read, ids and dates broken over two lines, columns stretched far
 * below their content. Each check returns sentences, empty when all is well.
 */
import type { Page } from 'playwright-core';

/**
 * Problems on the page as it is shown now, for a screen `width` px wide. Run in the page as a string:
 * the test project is typed for Node, without the DOM library.
 */
export async function layoutProblems(page: Page, width: number): Promise<string[]> {
  const found = await page.evaluate(`((width) => {
    const out = [];
    const shown = (el) => {
      const s = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0 && r.height > 0;
    };
    const name = (el) => {
      const own = el.getAttribute('aria-label') || (el.textContent || '').trim().replace(/\\s+/g, ' ');
      const table = el.closest('table');
      const where = table ? ' in table "' + (table.getAttribute('aria-label') || (table.querySelector('caption')?.textContent ?? '').slice(0, 40) || 'unnamed') + '"' : '';
      return el.tagName.toLowerCase() + ' "' + own.slice(0, 40) + '"' + where;
    };
    const cue = (box) => {
      const scroller = box.closest('.scroller');
      const text = scroller && scroller.querySelector(':scope > .scroll-cue');
      return text && shown(text) && /scroll/i.test(text.textContent) ? text : null;
    };
    // 1. The page itself is no wider than the screen.
    const overflow = document.documentElement.scrollWidth - width;
    if (overflow > 1) out.push('the page is ' + overflow + 'px wider than the ' + width + 'px screen');

    // 2. The menu, table cells, strategy columns and charts: inside every box that clips them, unless
    //    that box scrolls and says so; and inside the screen, unless inside such a box.
    const watched = [
      ...document.querySelectorAll(
        'nav a, table thead th, table tbody tr:last-child > *, .column, svg.chart-svg, main select, main input',
      ),
    ].filter(shown);
    for (const el of watched) {
      const r = el.getBoundingClientRect();
      let scrolls = false;
      for (let a = el.parentElement; a && a !== document.body && a !== document.documentElement; a = a.parentElement) {
        const s = getComputedStyle(a);
        if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
        const b = a.getBoundingClientRect();
        const cutX = r.left < b.left - 1 || r.right > b.right + 1;
        const cutY = r.top < b.top - 1 || r.bottom > b.bottom + 1;
        if (!cutX && !cutY) continue;
        const canX = /auto|scroll/.test(s.overflowX) && a.scrollWidth > a.clientWidth;
        const canY = /auto|scroll/.test(s.overflowY) && a.scrollHeight > a.clientHeight;
        if ((cutX && !canX) || (cutY && !canY)) out.push(name(el) + ' is cut off by a box that does not scroll');
        else if (!cue(a)) out.push(name(el) + ' is out of view in a scrolling box with no cue that it scrolls');
        else scrolls = true;
      }
      if (!scrolls && (r.left < -1 || r.right > width + 1))
        out.push(name(el) + ' reaches past the screen (' + Math.round(r.left) + ' to ' + Math.round(r.right) + 'px)');
    }

    // 3. Chart text (tick labels, values, axis titles) inside the SVG box, which clips it, and readable.
    for (const svg of document.querySelectorAll('svg.chart-svg')) {
      if (!shown(svg)) continue;
      const b = svg.getBoundingClientRect();
      const chart = svg.getAttribute('aria-label');
      for (const t of svg.querySelectorAll('text')) {
        const r = t.getBoundingClientRect();
        if (r.width === 0) continue;
        if (r.left < b.left - 0.5 || r.right > b.right + 0.5 || r.top < b.top - 0.5 || r.bottom > b.bottom + 0.5)
          out.push('"' + t.textContent + '" sticks out of the chart "' + chart + '" and is clipped');
        const size = parseFloat(getComputedStyle(t).fontSize) * (b.width / svg.viewBox.baseVal.width);
        if (size < 9.5) out.push('"' + t.textContent + '" in the chart "' + chart + '" is ' + size.toFixed(1) + 'px, too small to read');
      }
    }

    // 4. Ids and dates on one line.
    for (const el of document.querySelectorAll('.token')) {
      if (!shown(el)) continue;
      const range = document.createRange();
      range.selectNodeContents(el);
      const lines = new Set([...range.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
      if (lines.size > 1) out.push('"' + el.textContent + '" is broken over ' + lines.size + ' lines');
    }

    // 5. Columns of lists no taller than what is in them.
    for (const col of document.querySelectorAll('.column')) {
      if (!shown(col) || !col.lastElementChild) continue;
      const gap = col.getBoundingClientRect().bottom - col.lastElementChild.getBoundingClientRect().bottom;
      if (gap > 40) out.push(name(col).slice(0, 40) + ' stretches ' + Math.round(gap) + 'px below its content');
    }
    return out;
  })(${JSON.stringify(width)})`);
  return found as string[];
}

/**
 * Where a radio button or check box sits against the text of its label: the distance in px between
 * the middle of the box and the middle of the text's first line (0 when centred).
 */
export async function controlOffsets(page: Page, selector: string): Promise<{ label: string; offset: number }[]> {
  const found = await page.evaluate(`((selector) => [...document.querySelectorAll(selector)].map((input) => {
    const label = input.closest('label');
    const text = [...label.childNodes].find((n) => n.nodeType === 3 && n.textContent.trim());
    const range = document.createRange();
    range.selectNodeContents(text);
    const line = range.getClientRects()[0];
    const box = input.getBoundingClientRect();
    return {
      label: label.textContent.trim(),
      offset: Math.round(10 * ((box.top + box.bottom) / 2 - (line.top + line.bottom) / 2)) / 10,
    };
  }))(${JSON.stringify(selector)})`);
  return found as { label: string; offset: number }[];
}

/** On how many lines each element's text is drawn (1 for a run id or a date that is not broken). */
export async function textLines(page: Page, selector: string): Promise<{ text: string; lines: number }[]> {
  const found = await page.evaluate(`((selector) => [...document.querySelectorAll(selector)].map((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    return { text: el.textContent.trim(), lines: tops.size };
  }))(${JSON.stringify(selector)})`);
  return found as { text: string; lines: number }[];
}
