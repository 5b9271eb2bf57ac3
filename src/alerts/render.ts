// A notice as each channel wants it: plain text (mail, stdout), an Alertmanager v4 webhook body,
// a Slack message. Host names, accounts, domains, IPs and finding messages come from the servers:
// every one goes through printable() (and Slack's own escaping) before it is shown anywhere.
import { printable } from '../text/printable.js';
import { quote } from '../transport/quote.js';
import { formatDuration } from './duration.js';
import { fingerprint } from './lifecycle.js';
import type { ContainmentNote, HostEvidence, Incident, Notice } from './store.js';
import { MEASURE_WORDS } from '../actions/containment.js';
import type { Measure } from '../actions/contain-commands.js';

const p = (s: string | number, max = 200) => printable(String(s), { max });

/** The command an admin runs next, shell-quoted for copy and paste, then made printable. */
export function incidentCommand(incident: Incident, host: string, inventory?: string): string {
  // A host that could not be scanned: scan it alone to see why; otherwise the guided playbook.
  const words = incident.kind === 'status' ? ['mailsweep', 'scan', '--limit', quote(host)] : ['mailsweep', 'incident', quote(host)];
  if (incident.kind === 'account') words.push('--auth-id', quote(incident.subject));
  if (inventory) words.push('-i', quote(inventory));
  return p(words.join(' '), 1000);
}

const REASON: Record<Notice['reason'], string> = {
  new: 'new',
  repeat: 'still firing',
  escalated: 'now critical',
  spread: 'spread to more hosts',
  resolved: 'resolved',
  test: 'test',
  contained: 'contained',
};

const measureWords = (ms: string[]) => ms.map((m) => MEASURE_WORDS[m as Measure] ?? p(m, 40)).join(', ');

/** What auto_contain did about the account on one host: a headline and the command to run next. */
export function containmentLines(c: ContainmentNote): string[] {
  const host = p(c.host, 120);
  const run = c.runId ? ` (run ${p(c.runId, 100)})` : '';
  const detail = c.detail ? `: ${p(c.detail, 500)}` : '';
  const cmd = (label: string, text?: string) => (text ? [`  ${label}: ${p(text, 1000)}`] : []);
  switch (c.outcome) {
    case 'contained':
      return [`contained on ${host}: ${measureWords(c.measures)}${run}${detail}`, ...cmd('undo', c.release)];
    case 'already-contained':
      return [`contained on ${host} earlier in this incident: ${measureWords(c.measures)}${run}`, ...cmd('undo', c.release)];
    case 'would-contain':
      return [`would contain on ${host}: ${measureWords(c.measures)}${detail}`, ...cmd('to do it', c.contain)];
    case 'released':
      return [`not contained on ${host}${detail}`];
    case 'rate-limited':
    case 'deadline':
      return [`NOT contained on ${host}${detail}`, ...cmd('to contain', c.contain)];
    case 'cannot':
      return [`cannot contain on ${host}${detail}`];
    case 'failed':
      return [`containment FAILED on ${host}${run}${detail}`, ...cmd('undo what it did', c.release), ...cmd('to retry', c.contain)];
  }
}

/** A word for the title: the alert says at a glance whether the account is contained. */
function containmentTag(n: Notice): string {
  const outcomes = new Set((n.containment ?? []).map((c) => c.outcome));
  if (outcomes.has('failed')) return ' [containment FAILED]';
  const held = new Set(
    (n.containment ?? []).filter((c) => c.outcome === 'contained' || c.outcome === 'already-contained').map((c) => c.host),
  );
  const hosts = n.incident.hosts.length;
  if (held.size) return held.size >= hosts ? ' [contained]' : ` [contained on ${held.size} of ${hosts} hosts]`;
  if (outcomes.has('would-contain')) return ' [would contain]';
  return '';
}

/** One line: what it is, how bad, where. Also the mail subject (printable: no header injection). */
export function title(n: Notice): string {
  const i = n.incident;
  const hosts = i.hosts.map((h) => p(h, 80));
  const where = hosts.length > 3 ? `${hosts.slice(0, 3).join(', ')} and ${hosts.length - 3} more` : hosts.join(', ');
  const plural = hosts.length === 1 ? '' : 's';
  const what =
    i.kind === 'account' ? `account ${p(i.subject)}` : i.kind === 'status' ? `host${plural} ${p(i.subject)}` : `host ${p(i.subject)}`;
  if (n.status === 'resolved') return `[mailsweep] RESOLVED: ${what} (${where})`;
  const count = i.kind === 'account' ? ` flagged on ${hosts.length} host${plural}:` : i.kind === 'status' ? ` (${hosts.length}):` : ':';
  const reason = n.reason === 'new' || n.reason === 'contained' ? '' : ` (${REASON[n.reason]})`;
  return `[mailsweep] ${i.severity.toUpperCase()}: ${what}${count} ${where}${reason}${containmentTag(n)}`;
}

/** Rules across hosts, most widespread first: "sender-mismatch ×2, many-ips ×1". */
export function topRules(i: Incident): [string, number][] {
  const n = new Map<string, number>();
  for (const e of i.evidence) for (const r of e.rules) n.set(r, (n.get(r) ?? 0) + 1);
  // Ties keep the order the hosts' findings came in: the scan lists the weightier rules first.
  return [...n].sort((a, b) => b[1] - a[1]);
}

function hostLines(i: Incident, e: HostEvidence, inventory?: string): string[] {
  const out = [`${p(e.host, 120)}: ${e.severity}; rules: ${e.rules.map((r) => p(r, 60)).join(', ')}`];
  if (e.sent !== undefined) out.push(`  sent ${e.sent} message(s) to ${e.recipients ?? 0} recipient(s); ${e.queued ?? 0} still queued`);
  if (e.senderDomains?.length) out.push(`  sender domains: ${e.senderDomains.map(([d, c]) => `${p(d, 100)} (${c})`).join(', ')}`);
  if (e.clientIps?.length)
    out.push(
      `  client IPs (${e.clientIpCount ?? e.clientIps.length}): ${e.clientIps.map((ip) => p(ip, 60)).join(', ')}${(e.clientIpCount ?? 0) > e.clientIps.length ? ', …' : ''}`,
    );
  if (e.sampleSubject) out.push(`  sample subject: "${p(e.sampleSubject.subject, 200)}" (${p(e.sampleSubject.id, 40)})`);
  if (e.sampleIds?.length) out.push(`  sample queued messages: ${e.sampleIds.map((x) => p(x, 40)).join(', ')}`);
  if (e.queueTotal !== undefined) out.push(`  queue: ${e.queueTotal} message(s)`);
  for (const m of e.messages) out.push(`  - ${p(m, 300)}`);
  out.push(`  next: ${incidentCommand(i, e.host, inventory)}`);
  return out;
}

/** The plain-text body: what happened, the evidence per host, and what to run. */
export function textBody(n: Notice): string {
  const i = n.incident;
  const since = new Date(i.openedAt).toISOString();
  const lines: string[] = [title(n).replace(/^\[mailsweep\] /, ''), ''];
  if (n.status === 'resolved') {
    lines.push(
      `No longer flagged on any host as of ${new Date(n.at).toISOString()} (open since ${since}, ${formatDuration(n.at - i.openedAt)}).`,
    );
    lines.push(`It was on: ${i.hosts.map((h) => p(h, 120)).join(', ')}.`);
    return lines.join('\n') + '\n';
  }
  if (i.kind === 'account') {
    const sent = i.evidence.reduce((s, e) => s + (e.sent ?? 0), 0);
    const queued = i.evidence.reduce((s, e) => s + (e.queued ?? 0), 0);
    lines.push(
      `The account ${p(i.subject)} looks hijacked: ${sent} message(s) sent and ${queued} queued across ${i.hosts.length} host(s). Open since ${since}.`,
    );
  } else if (i.kind === 'status')
    lines.push(
      `${i.hosts.length} host(s) could not be scanned (${p(i.subject)}); their other alerts stay open until they are. Open since ${since}.`,
    );
  else lines.push(`Host ${p(i.subject)} needs attention. Open since ${since}.`);
  lines.push(
    `Top rules: ${topRules(i)
      .map(([r, c]) => `${p(r, 60)} (${c} host${c === 1 ? '' : 's'})`)
      .join(', ')}`,
    '',
  );
  if (n.correlation?.length) {
    lines.push('Across hosts:');
    for (const l of n.correlation) lines.push(`  ${p(l, 1000)}`);
    lines.push('');
  }
  if (n.containment?.length) {
    lines.push('Automatic containment (auto_contain):');
    for (const c of n.containment) lines.push(...containmentLines(c).map((l) => `  ${l}`));
    lines.push('');
  }
  for (const e of i.evidence) lines.push(...hostLines(i, e, n.inventory), '');
  return lines.join('\n');
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Alertmanager's webhook payload, version 4: one alert per host of the incident. */
export function alertmanagerPayload(n: Notice, receiver: string): Record<string, unknown> {
  const i = n.incident;
  const status = n.status;
  const alertname =
    i.kind === 'account' ? 'MailsweepHijackedAccount' : i.kind === 'status' ? 'MailsweepHostUnscanned' : 'MailsweepHostProblem';
  const common: Record<string, string> = { alertname, incident: p(i.key), severity: i.severity };
  if (i.kind === 'account') common.account = p(i.subject);
  const alerts = i.evidence.map((e) => {
    const contained = n.containment?.filter((c) => c.host === e.host) ?? [];
    const release = contained.find((c) => c.release)?.release;
    return {
      status,
      labels: { ...common, host: p(e.host, 120) },
      annotations: {
        summary: title(n),
        description: hostLines(i, e, n.inventory).join('\n'),
        rules: e.rules.join(','),
        command: incidentCommand(i, e.host, n.inventory),
        ...(contained.length ? { containment: contained.flatMap(containmentLines).join('\n') } : {}),
        ...(release ? { release_command: p(release, 1000) } : {}),
      },
      startsAt: new Date(i.openedAt).toISOString(),
      endsAt: status === 'resolved' ? new Date(n.at).toISOString() : ZERO_TIME,
      generatorURL: '',
      fingerprint: fingerprint(e.host, i.subject, alertname),
    };
  });
  return {
    version: '4',
    groupKey: `{}:{incident=${JSON.stringify(p(i.key))}}`,
    truncatedAlerts: 0,
    status,
    receiver,
    groupLabels: { incident: p(i.key) },
    commonLabels: common,
    commonAnnotations: {
      summary: title(n),
      reason: n.reason,
      ...(n.correlation?.length ? { across_hosts: n.correlation.map((l) => p(l, 1000)).join('\n') } : {}),
      top_rules: topRules(i)
        .map(([r]) => r)
        .join(','),
    },
    externalURL: '',
    alerts,
  };
}

/** Slack's mrkdwn treats &, < and > as markup (links, mentions): escape them after printable(). */
function slackText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A Slack-compatible incoming-webhook body: `text` (fallback, notifications) and `blocks`. */
export function slackPayload(n: Notice): Record<string, unknown> {
  const i = n.incident;
  const head = slackText(title(n));
  const blocks: Record<string, unknown>[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*${head}*` } }];
  if (n.status === 'firing') {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: slackText(
          `Top rules: ${topRules(i)
            .map(([r, c]) => `${r} (${c})`)
            .join(', ')}`,
        ),
      },
    });
    if (n.correlation?.length)
      blocks.push({
        type: 'section',
        text: { type: 'mrkdwn', text: slackText(['Across hosts:', ...n.correlation.map((l) => p(l, 1000))].join('\n')).slice(0, 2900) },
      });
    if (n.containment?.length)
      blocks.push({
        type: 'section',
        text: { type: 'mrkdwn', text: slackText(n.containment.flatMap(containmentLines).join('\n')).slice(0, 2900) },
      });
    // Slack allows 50 blocks a message; the rest of the hosts are in the mail and the webhook.
    for (const e of i.evidence.slice(0, 20)) {
      const lines = hostLines(i, e, n.inventory);
      const cmd = lines.pop()!.replace(/^ {2}next: /, '');
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: slackText(lines.join('\n')).slice(0, 2900) } });
      // Inside a code span nothing is markup; a backtick from the server cannot end it early.
      blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `\`${slackText(cmd).replace(/`/g, "'")}\`` }] });
    }
    if (i.evidence.length > 20)
      blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `… and ${i.evidence.length - 20} more host(s)` }] });
  } else {
    blocks.push({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: slackText(`open since ${new Date(i.openedAt).toISOString()}, ${formatDuration(n.at - i.openedAt)}`) },
      ],
    });
  }
  return { text: head, blocks };
}
