// A run as plain lines, for no terminal (a pipe, CI, --yes from cron): a header per step, what each
// step says, the dry-run plan, and the run's end. No prompts: nobody is there to answer.
// Every string from an event goes through printable(): it may quote server text.
import { printable } from '../text/printable.js';
import type { Renderer, RunEvent } from './events.js';

export interface PlainOptions {
  /** Where lines go: one call per line or block, without its final newline. */
  out: (line: string) => void;
  /** The command that resumes a run that did not finish, shown under its end. */
  resume?: (runId: string) => string;
  /** What the run is called in its last lines (default "incident"; "contain", "release"). */
  label?: string;
}

/** How a destructive command reads in a dry run: whole, with its stdin data (ids, senders) under it. */
export function dryRunPlan(cmd: string, stdin?: string): string {
  const lines = [`[dry-run] would run: ${cmd}`];
  if (stdin !== undefined && stdin !== '') {
    const data = stdin.endsWith('\n') ? stdin.slice(0, -1) : stdin;
    lines.push(`  on stdin (${data.split('\n').length} line(s)):`, ...data.split('\n').map((l) => `  | ${l}`));
  }
  return lines.join('\n');
}

/** The run's last lines: how it ended, where its journal is, and how to resume it. */
export function summaryLines(ev: Extract<RunEvent, { type: 'summary' }>, o: Pick<PlainOptions, 'resume' | 'label'>): string[] {
  const run = `${o.label ?? 'incident'} run ${printable(ev.runId)}`;
  const journal = `journal: ${printable(ev.journalPath)}`;
  if (ev.status === 'ok') return ['', `${run}: done${ev.dryRun ? ' (dry run: nothing was changed)' : ''}`, journal];
  // A connection failure ends with the scan's status word (unreachable, auth-failed, …).
  const how = ev.connection ? `${printable(ev.host)} ${ev.connection}` : ev.status.toUpperCase();
  return [
    '',
    `${run}: ${how}: ${printable(ev.error ?? '', { multiline: true })}`,
    journal,
    ...(o.resume ? [`resume with: ${o.resume(ev.runId)}`] : []),
  ];
}

/** The lines one event shows without a terminal (none for most: commands and answers are in the journal). */
export function plainLines(ev: RunEvent, o: Pick<PlainOptions, 'resume' | 'label'> = {}): string[] {
  const text = (s: string) => printable(s, { multiline: true });
  switch (ev.type) {
    case 'step-start':
      return ev.round === undefined ? [`── ${text(ev.name)}`] : [];
    case 'output':
      return [text(ev.text)];
    case 'command':
      return ev.dryRun ? [text(dryRunPlan(ev.cmd, ev.stdin))] : [];
    case 'step-end':
      return ev.outcome === 'skipped' && ev.why === 'would-fail' ? [`   would fail: ${text(ev.detail ?? '')}`] : [];
    case 'summary':
      return summaryLines(ev, o);
    default:
      return [];
  }
}

export function plainRenderer(o: PlainOptions): Renderer {
  return { on: (ev) => void plainLines(ev, o).forEach((l) => o.out(l)) };
}
