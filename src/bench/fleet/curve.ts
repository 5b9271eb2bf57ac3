// The scale curve: each tool's client CPU against fleet size, fitted as a fixed start-up cost plus
// a cost per host (least squares over the sizes run), and projected to a larger fleet.
import type { FleetTool } from './args.js';
import type { ToolSummary } from './stats.js';

export interface SizeResult {
  hosts: number;
  summaries: ToolSummary[];
}

export interface CurveFit {
  tool: FleetTool;
  /** Fixed client CPU of a run (start-up, reading the inventory, writing the report), seconds. */
  fixedS: number;
  /** Client CPU per host, milliseconds: the slope. */
  perHostMs: number;
}

/** Least-squares line cpu = fixed + perHost × hosts for each tool measured at two or more sizes. */
export function fitCurves(results: readonly SizeResult[]): CurveFit[] {
  const tools = [...new Set(results.flatMap((r) => r.summaries.map((s) => s.tool)))];
  const fits: CurveFit[] = [];
  for (const tool of tools) {
    const pts = results.flatMap((r) => r.summaries.filter((s) => s.tool === tool).map((s) => [r.hosts, s.medians.cpuS] as const));
    if (new Set(pts.map(([x]) => x)).size < 2) continue;
    const n = pts.length;
    const mx = pts.reduce((a, [x]) => a + x, 0) / n;
    const my = pts.reduce((a, [, y]) => a + y, 0) / n;
    const sxx = pts.reduce((a, [x]) => a + (x - mx) ** 2, 0);
    const sxy = pts.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
    const slope = sxy / sxx;
    fits.push({ tool, fixedS: my - slope * mx, perHostMs: slope * 1000 });
  }
  return fits;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : '—');

/**
 * One row per size: per tool, client CPU per host as measured (cpu / hosts) and net of the fitted
 * fixed cost ((cpu − fixed) / hosts: flat when the per-host cost does not grow with the fleet);
 * then the fit and its projection to `projectTo` hosts.
 */
export function formatCurve(results: readonly SizeResult[], projectTo = 10_000): string {
  const fits = fitCurves(results);
  const tools = [...new Set(results.flatMap((r) => r.summaries.map((s) => s.tool)))];
  const head = ['hosts', ...tools.flatMap((t) => [`${t} CPU/host`, `${t} net of fixed`]), ...tools.map((t) => `${t} wall`)];
  const rows = results.map((r) => {
    const cells = tools.flatMap((t) => {
      const s = r.summaries.find((x) => x.tool === t);
      const fit = fits.find((f) => f.tool === t);
      if (!s) return ['—', '—'];
      return [ms((s.medians.cpuS * 1000) / r.hosts), fit ? ms(((s.medians.cpuS - fit.fixedS) * 1000) / r.hosts) : '—'];
    });
    const walls = tools.map((t) => {
      const s = r.summaries.find((x) => x.tool === t);
      return s ? `${s.medians.wallS.toFixed(2)} s` : '—';
    });
    return [String(r.hosts), ...cells, ...walls];
  });
  const table = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const fitLines = fits.map(
    (f) =>
      `${f.tool}: client CPU ≈ ${f.fixedS.toFixed(2)} s + ${f.perHostMs.toFixed(2)} ms × hosts → ${projectTo.toLocaleString('en')} hosts: ${(f.fixedS + (f.perHostMs * projectTo) / 1000).toFixed(1)} s`,
  );
  return [table, '', ...fitLines].join('\n');
}
