// The report's decision step, for one controller or a PostgreSQL sweep alike: this run's findings
// against the open incidents, the incidents written, auto_contain's runs joined to their notices,
// the notices queued per channel (sending is report-send.ts).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { channelWants } from '../alerts/channels.js';
import { type ReportConfig } from '../alerts/config.js';
import { accountKey, decide, type Decision } from '../alerts/lifecycle.js';
import { eligible, type ContainPolicy } from '../alerts/contain-policy.js';
import { type SweepRound } from '../alerts/sweep.js';
import { type ContainmentNote, type Incident, type Notice, type ReportStore } from '../alerts/store.js';
import type { HostSpec } from '../inventory/types.js';
import { defaultRunsDir } from '../playbook/journal.js';
import type { HostReport } from '../scan/types.js';
import { autoContain } from './report-contain.js';
import { correlate } from '../correlate/correlate.js';
import { correlationLines } from '../correlate/lines.js';
import { printable } from '../text/printable.js';
import { KnownHostsFile } from '../transport/known-hosts.js';
import type { ReportCliOptions, ReportIo } from './report-options.js';

/**
 * The config's auto_contain on this run's findings: each account it picks is contained (or, dry-run,
 * would be) and what happened joins that account's notice. A containment run on an incident with
 * nothing else new is itself news: it gets a notice of its own ('contained').
 */
async function containAccounts(
  policy: ContainPolicy,
  reports: HostReport[],
  hosts: HostSpec[],
  openBefore: Incident[],
  decision: Decision,
  now: number,
  deadlineAt: number,
  o: ReportCliOptions,
): Promise<ContainmentNote[]> {
  const candidates = eligible(reports, policy);
  if (!candidates.length) return [];
  const opened = new Map(openBefore.map((i) => [i.key, i.openedAt]));
  const notes = await autoContain(candidates, {
    policy,
    hosts: new Map(hosts.map((h) => [h.name, h])),
    incidentOpenedAt: (account) => opened.get(accountKey(account)),
    runsDir: o.runsDir ?? policy.runsDir ?? defaultRunsDir(),
    ...(o.inventory ? { inventory: o.inventory } : {}),
    ...(o.knownHosts ? { knownHostsPath: o.knownHosts } : {}),
    knownHosts: new KnownHostsFile(o.knownHosts ?? join(homedir(), '.ssh', 'known_hosts')),
    hostKeyPolicy: o.acceptNewHostkeys ? 'accept-new' : 'strict',
    perHostKnownHosts: !o.knownHosts,
    deadlineAt,
  });
  for (const c of notes) {
    const key = accountKey(c.account);
    let n = decision.notices.find((x) => x.incident.key === key && x.status === 'firing');
    if (!n && (c.outcome === 'contained' || c.outcome === 'failed')) {
      const incident = decision.update.find((i) => i.key === key) ?? openBefore.find((i) => i.key === key);
      if (!incident) continue;
      n = { status: 'firing', reason: 'contained', incident, at: now, ...(o.inventory ? { inventory: o.inventory } : {}) };
      decision.notices.push(n);
    }
    if (n) (n.containment ??= []).push(c);
  }
  return notes;
}

/** Compare reports with the open incidents, write the incidents, queue the notices (no sending). */
export async function decideAndEnqueue(
  store: ReportStore,
  reports: HostReport[],
  now: number,
  cfg: ReportConfig,
  o: ReportCliOptions,
  hosts: HostSpec[],
  deadlineAt: number,
): Promise<{ notices: Notice[]; contained: ContainmentNote[] }> {
  const openBefore = await store.openIncidents();
  const decision = decide(reports, openBefore, now, { repeatIntervalMs: cfg.repeatIntervalMs }, o.inventory);
  for (const inc of decision.create) {
    const id = await store.createIncident(inc);
    for (const n of decision.notices) if (n.incident.id === 0 && n.incident.key === inc.key) n.incident.id = id;
  }
  for (const inc of decision.update) await store.updateIncident(inc);
  // An alert about an account says what the fleet shows about it: other hosts, shared IPs, bursts.
  const across = correlate(reports);
  for (const n of decision.notices) {
    if (n.incident.kind !== 'account' || n.status !== 'firing') continue;
    const lines = correlationLines(across, n.incident.subject);
    if (lines.length) n.correlation = lines;
  }
  const contained =
    cfg.autoContain && o.autoContain !== false
      ? await containAccounts(cfg.autoContain, reports, hosts, openBefore, decision, now, deadlineAt, o)
      : [];
  for (const n of decision.notices)
    for (const ch of cfg.channels) if (channelWants(ch, n, cfg.sendResolved)) await store.enqueue(ch.name, n, now);
  return { notices: decision.notices, contained };
}

export function warnMissing(round: SweepRound, io: ReportIo): void {
  if (round.missing.length)
    io.stderr(
      `mailsweep: sweep ${printable(round.sweep)}: decided without shard(s) ${round.missing.join(', ')} of ${round.count}: their hosts were not scanned, their incidents stay open\n`,
    );
}
