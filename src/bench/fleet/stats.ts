// Figures of one tool run, their medians over the rounds, and the table with mailsweep/peer ratios.
import type { FleetTool } from './args.js';

export interface ToolRun {
  tool: FleetTool;
  round: number;
  /** Wall clock of the whole tool process, start to exit. */
  wallS: number;
  /** User + system CPU of the process and every descendant it waited for (getrusage children). */
  cpuS: number;
  userS: number;
  sysS: number;
  /** ru_maxrss: the largest single process of the tree (for mailsweep: node itself). */
  maxRssMb: number;
  /** Sum of PSS over the whole process tree, sampled every 250 ms: the peak sample. */
  treePssMb: number;
  /** CPU of all the fleet's sshd processes and their children during the run. */
  sshdCpuS: number;
  hostsComplete: number;
  hosts: number;
  exitCode: number | null;
  /** The first few hosts whose output was not complete, and why (printable text). */
  failures: string[];
}

export const METRICS = [
  { key: 'wallS', label: 'wall', unit: 's' },
  { key: 'cpuS', label: 'client CPU', unit: 's' },
  { key: 'maxRssMb', label: 'peak RSS (largest process)', unit: 'MB' },
  { key: 'treePssMb', label: 'peak PSS (tree, sampled)', unit: 'MB' },
  { key: 'sshdCpuS', label: 'fleet sshd CPU', unit: 's' },
] as const satisfies readonly { key: keyof ToolRun; label: string; unit: string }[];

export type MetricKey = (typeof METRICS)[number]['key'];

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface ToolSummary {
  tool: FleetTool;
  rounds: number;
  medians: Record<MetricKey, number>;
  /** The worst round's complete hosts: a benchmark where some round lost hosts says so. */
  minComplete: number;
  hosts: number;
}

export function summarizeRuns(runs: readonly ToolRun[]): ToolSummary[] {
  const tools = [...new Set(runs.map((r) => r.tool))];
  return tools.map((tool) => {
    const mine = runs.filter((r) => r.tool === tool);
    const medians = Object.fromEntries(METRICS.map((m) => [m.key, median(mine.map((r) => r[m.key]))])) as Record<MetricKey, number>;
    return {
      tool,
      rounds: mine.length,
      medians,
      minComplete: Math.min(...mine.map((r) => r.hostsComplete)),
      hosts: Math.max(...mine.map((r) => r.hosts)),
    };
  });
}

function fmt(v: number, unit: string): string {
  if (!Number.isFinite(v)) return '—';
  return unit === 'MB' ? `${Math.round(v)} MB` : `${v.toFixed(v < 10 ? 2 : 1)} s`;
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—';
}

/** A Markdown table (it reads as well in a terminal): one row per tool, then mailsweep/peer ratios. */
export function formatTable(summaries: readonly ToolSummary[], labels: Partial<Record<FleetTool, string>> = {}): string {
  const head = ['', ...METRICS.map((m) => m.label), 'hosts complete'];
  const rows: string[][] = summaries.map((s) => [
    labels[s.tool] ?? s.tool,
    ...METRICS.map((m) => fmt(s.medians[m.key], m.unit)),
    `${s.minComplete}/${s.hosts}`,
  ]);
  const ours = summaries.find((s) => s.tool === 'mailsweep');
  if (ours)
    for (const peer of summaries.filter((s) => s.tool !== 'mailsweep'))
      rows.push([`mailsweep / ${peer.tool}`, ...METRICS.map((m) => ratio(ours.medians[m.key], peer.medians[m.key])), '']);
  const lines = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
  return lines.join('\n');
}
