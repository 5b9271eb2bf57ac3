// The evidence bundle's text: the timeline read back from the journal, evidence.json (machine,
// versioned) and summary.md (human). Everything here is already cleaned by the caller's `clean`
// (secrets, other people's addresses, control characters) or is a number mailsweep counted.
import type { Stamped } from '../playbook/journal.js';
import { markdownText } from '../text/printable.js';

/** evidence.json's format; bump on an incompatible change. */
export const EVIDENCE_VERSION = 1;

export interface TimelineEntry {
  at: string;
  step: string;
  kind: string;
  what: string;
  /** Commands: exit code; API calls: ok; decisions: the answer. */
  result?: unknown;
}

const firstLine = (s: string, max = 300) => {
  const l = s.split('\n').find((x) => x.trim()) ?? '';
  return l.length > max ? `${l.slice(0, max)}…` : l;
};

/** Every step, command, API call, effect and decision of the run, in order, cleaned. */
export function timeline(events: readonly Stamped[], clean: (s: string) => string): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  for (const e of events) {
    const step = 'step' in e && typeof e.step === 'string' ? clean(e.step) : '';
    const push = (kind: string, what: string, result?: unknown) =>
      out.push({ at: e.at, step, kind, what: clean(what), ...(result === undefined ? {} : { result }) });
    switch (e.t) {
      case 'run-start':
        push('run-start', `run ${e.runId} of ${e.playbook} on ${e.host} by ${e.user}${e.dryRun ? ' (dry run)' : ''}`);
        break;
      case 'step-start':
        push('step', `started: ${e.name}`);
        break;
      case 'step-done':
        push('step', 'done');
        break;
      case 'step-skip':
        push('step', `skipped: ${e.reason}`);
        break;
      case 'step-fail':
        push('step', `failed: ${firstLine(e.error)}`);
        break;
      case 'command': {
        const lines = e.stdin ? e.stdin.split('\n').filter(Boolean).length : 0;
        const how = e.dryRun ? 'not run (dry run)' : e.destructive ? 'change' : 'read';
        const res = e.error !== undefined ? `error: ${clean(firstLine(e.error))}` : e.code === undefined ? undefined : e.code;
        push(
          'command',
          `${how}: ${firstLine(e.cmd, 500)}${e.cmd.includes('\n') ? ' …' : ''}${lines ? ` (${lines} line(s) on stdin)` : ''}`,
          res,
        );
        break;
      }
      case 'api':
        push(
          'api-call',
          `${e.service}: ${e.call}${e.dryRun ? ' (dry run, not sent)' : ''}${e.error ? ` — ${firstLine(e.error)}` : ''}`,
          e.ok,
        );
        break;
      case 'effect': {
        const d = (e.detail ?? {}) as { count?: unknown; ids?: unknown };
        const n = typeof d.count === 'number' ? d.count : Array.isArray(d.ids) ? d.ids.length : undefined;
        push('effect', `${e.key}${n === undefined ? '' : `: ${n}`}`);
        break;
      }
      case 'decision':
        push('decision', e.question, e.answer === undefined ? undefined : clean(String(e.answer)));
        break;
      case 'note':
        push('note', e.message);
        break;
      case 'run-end':
        push('run-end', `${e.status}${e.error ? `: ${firstLine(e.error)}` : ''}`);
        break;
    }
  }
  return out;
}

/** What evidence.json holds (summary.md is written from the same object). */
export interface EvidenceDoc {
  version: number;
  generatedAt: string;
  run: { id: string; host: string; mta: string; dryRun: boolean; journal: string };
  account: string;
  options: { samples: number; redactAddresses: boolean; logLines: number };
  rules: { rule: string; severity: string; message: string; evidence?: unknown }[];
  clientIps: { ip: string; count: number; firstSeen: string | null; lastSeen: string | null }[];
  /** `lines`: the log lines themselves are in log-lines.txt; `counts`: only identify's counts were available. */
  log: {
    included: 'lines' | 'counts';
    file?: string;
    matched: number;
    kept: number;
    read: number;
    files: string[];
    problem?: string;
    sent?: number;
    queued?: number;
  };
  samples: { id: string; file: string; source: 'queue' | 'identify' }[];
  queue: {
    before: { total: number | null; account: number | null; ids: string[] };
    now: { total: number; account: number; ids: string[] } | null;
  };
  actions: { reset: string; spamRemoved: number; backscatterRemoved: number; held: boolean };
  timeline: TimelineEntry[];
}

const md = (s: unknown, max?: number) => markdownText(String(s), max === undefined ? {} : { max });

/** summary.md: the incident for a person (abuse desk, customer, colleague). */
export function summaryMarkdown(d: EvidenceDoc): string {
  const L: string[] = [];
  L.push(`# Evidence: ${md(d.account)} on ${md(d.run.host)}`, '');
  L.push(
    `Run ${md(d.run.id)} (${md(d.run.mta)}${d.run.dryRun ? ', dry run' : ''}), bundle written ${d.generatedAt}. Format version ${d.version}; machine-readable: \`evidence.json\`.`,
  );
  if (d.options.redactAddresses)
    L.push('', "Other people's e-mail addresses are shown as `[redacted]@their.domain`; secrets as `[REDACTED]`.");
  L.push('', '## Rules that fired', '');
  if (!d.rules.length) L.push('None recorded for this account (it was named on the command line or picked by the operator).');
  for (const r of d.rules) L.push(`- **${md(r.rule)}** (${md(r.severity)}): ${md(r.message, 400)}`);
  L.push('', '## Client IPs', '');
  if (!d.clientIps.length) L.push('None in the log window.');
  else {
    L.push('| IP | messages and logins | first seen | last seen |', '|---|---:|---|---|');
    // An address is shown as it is (markdownText would escape "203." as if it began a list).
    for (const x of d.clientIps)
      L.push(`| ${/^[0-9A-Fa-f:.]{2,45}$/.test(x.ip) ? x.ip : md(x.ip, 60)} | ${x.count} | ${x.firstSeen ?? '?'} | ${x.lastSeen ?? '?'} |`);
  }
  L.push('', '## Log lines', '');
  if (d.log.included === 'lines')
    L.push(
      `${d.log.kept} of ${d.log.matched} line(s) naming the account (of ${d.log.read} read from ${d.log.files.length} file(s)) are in \`${d.log.file}\`.`,
    );
  else
    L.push(
      `The log lines were not kept${d.log.problem ? ` (${md(d.log.problem, 200)})` : ''}; identify counted ${d.log.sent ?? '?'} message(s) sent and ${d.log.queued ?? '?'} queued for the account.`,
    );
  L.push('', '## Sample messages', '');
  if (!d.samples.length) L.push('No message of the account was left to show.');
  for (const s of d.samples)
    L.push(`- ${md(s.id)}: \`${s.file}\`${s.source === 'identify' ? ' (the headers identify showed; the message is gone now)' : ''}`);
  L.push('', '## Queue', '');
  L.push(`- before: ${d.queue.before.total ?? '?'} message(s), ${d.queue.before.account ?? '?'} of the account`);
  L.push(
    d.queue.now
      ? `- when this bundle was written: ${d.queue.now.total} message(s), ${d.queue.now.account} of the account`
      : '- when this bundle was written: the queue could not be read',
  );
  L.push('', '## What the run did', '');
  L.push(
    `- password reset: ${d.actions.reset}`,
    `- spam ${d.actions.held ? 'held' : 'removed'}: ${d.actions.spamRemoved}`,
    `- backscatter ${d.actions.held ? 'held' : 'removed'}: ${d.actions.backscatterRemoved}`,
  );
  L.push('', '## Timeline', '', '| time (UTC) | step | kind | what | result |', '|---|---|---|---|---|');
  for (const t of d.timeline)
    L.push(
      `| ${t.at} | ${md(t.step, 40)} | ${t.kind} | ${md(t.what, 300)} | ${t.result === undefined ? '' : md(JSON.stringify(t.result), 80)} |`,
    );
  return `${L.join('\n')}\n`;
}
