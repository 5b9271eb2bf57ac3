// Charts as inline SVG, drawn here on the controller rather than by a chart library in the page:
// no dependency to bundle, audit and keep current; nothing to execute, so the charts still show
// where scripts are stripped (mail clients, strict CSP, a saved copy); a few hundred bytes per chart
// instead of a 200 kB library; and the same markup in every browser, which the test counts.
import { htmlText } from '../text/printable.js';

export interface ChartPoint {
  x: number;
  y: number;
  /** Tooltip (server text allowed: escaped here). */
  label: string;
  /** Drawn as an alarm (e.g. above what the baseline allows). */
  alarm?: boolean;
}

export interface ChartLine {
  points: { x: number; y: number }[];
  /** CSS class: `avg` (dashed baseline average) or `allowed` (the rule's limit). */
  className: string;
}

export interface ChartSpec {
  /** Accessible name (server text allowed: escaped here). */
  name: string;
  kind: 'queue' | 'sends';
  xFrom: number;
  xTo: number;
  series: ChartPoint[];
  lines?: ChartLine[];
  /** Labels under the x axis at the two ends. */
  xLabels: [string, string];
}

const W = 320;
const H = 140;
const M = { left: 38, right: 8, top: 8, bottom: 20 };

/** 1, 2 or 5 × 10^k at or above v: the y axis ends on a round number. */
export function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

export function lineChart(c: ChartSpec): string {
  const ys = [...c.series.map((p) => p.y), ...(c.lines ?? []).flatMap((l) => l.points.map((p) => p.y))];
  const yMax = niceMax(Math.max(0, ...ys));
  const span = Math.max(1, c.xTo - c.xFrom);
  const px = (x: number) => r1(M.left + ((x - c.xFrom) / span) * (W - M.left - M.right));
  const py = (y: number) => r1(H - M.bottom - (y / yMax) * (H - M.top - M.bottom));
  const poly = (pts: { x: number; y: number }[]) => pts.map((p) => `${px(p.x)},${py(p.y)}`).join(' ');
  const name = htmlText(c.name, { max: 200 });
  const out = [
    `<svg class="chart" data-kind="${c.kind}" data-points="${c.series.length}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${name}" preserveAspectRatio="xMidYMid meet">`,
    `<title>${name}</title>`,
    // Axes, the top and middle gridlines with their values.
    `<line class="axis" x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}"/>`,
    `<line class="axis" x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}"/>`,
    `<line class="grid" x1="${M.left}" y1="${py(yMax)}" x2="${W - M.right}" y2="${py(yMax)}"/>`,
    `<line class="grid" x1="${M.left}" y1="${py(yMax / 2)}" x2="${W - M.right}" y2="${py(yMax / 2)}"/>`,
    `<text class="tick" x="${M.left - 4}" y="${py(yMax) + 4}" text-anchor="end">${yMax}</text>`,
    `<text class="tick" x="${M.left - 4}" y="${py(yMax / 2) + 4}" text-anchor="end">${yMax / 2}</text>`,
    `<text class="tick" x="${M.left - 4}" y="${H - M.bottom + 4}" text-anchor="end">0</text>`,
    `<text class="tick" x="${M.left}" y="${H - 5}">${htmlText(c.xLabels[0], { max: 40 })}</text>`,
    `<text class="tick" x="${W - M.right}" y="${H - 5}" text-anchor="end">${htmlText(c.xLabels[1], { max: 40 })}</text>`,
  ];
  for (const l of c.lines ?? []) if (l.points.length) out.push(`<polyline class="${l.className}" points="${poly(l.points)}"/>`);
  if (c.series.length) out.push(`<polyline class="series" points="${poly(c.series)}"/>`);
  // Dense series (hourly runs over weeks) get smaller dots, so the line stays readable.
  const r = c.series.length > 60 ? 1.2 : 2;
  for (const p of c.series)
    out.push(
      `<circle class="pt${p.alarm ? ' alarm' : ''}" cx="${px(p.x)}" cy="${py(p.y)}" r="${p.alarm ? 3 : r}"><title>${htmlText(p.label, { max: 300 })}</title></circle>`,
    );
  out.push('</svg>');
  return out.join('');
}
