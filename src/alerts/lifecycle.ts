// From one run's scan to alert decisions: findings are grouped into incidents (one per account
// across the fleet, one per host for host-level problems), compared with the open incidents, and
// turned into notices only when something changed or repeat_interval has passed. Pure: no I/O.
import { createHash } from 'node:crypto';
import type { Finding } from '../rules/types.js';
import type { HostReport, HostStatus } from '../scan/types.js';
import type { FindingRow, HostEvidence, Incident, IncidentKind, Notice, NoticeReason } from './store.js';

export interface LifecycleSettings {
  repeatIntervalMs: number;
}

/** A finding's identity across runs: the same host, account (or '' for the host) and rule. */
export function fingerprint(host: string, subject: string, rule: string): string {
  return createHash('sha256').update(`${host}\0${subject}\0${rule}`).digest('hex').slice(0, 16);
}

/** A host that could not be scanned is itself a problem worth an alert (once, not every run). */
const HOST_STATUS_SEVERITY: Record<Exclude<HostStatus, 'ok'>, 'warning' | 'critical'> = {
  unreachable: 'warning',
  'auth-failed': 'warning',
  'hostkey-unknown': 'warning',
  // A changed host key may be a man in the middle: never a routine warning.
  'hostkey-changed': 'critical',
  timeout: 'warning',
  error: 'warning',
};

interface Group {
  key: string;
  kind: IncidentKind;
  subject: string;
  evidence: Map<string, HostEvidence>;
}

const RANK = { warning: 1, critical: 2 } as const;
const worse = (a: 'warning' | 'critical', b: 'warning' | 'critical') => (RANK[a] >= RANK[b] ? a : b);

export function accountKey(authId: string): string {
  // Auth ids are case-insensitive in every MTA's SASL setup we read; one account, one incident.
  return `account:${authId.toLowerCase()}`;
}

export function hostKey(host: string): string {
  return `host:${host}`;
}

export function statusKey(status: string): string {
  return `status:${status}`;
}

/** Every finding of the run as stored rows (info included), host failures as `host-status`. */
export function findingRows(hosts: HostReport[]): FindingRow[] {
  const rows: FindingRow[] = [];
  for (const h of hosts) {
    if (h.status !== 'ok') {
      rows.push({
        fingerprint: fingerprint(h.name, '', 'host-status'),
        host: h.name,
        subject: '',
        rule: 'host-status',
        severity: HOST_STATUS_SEVERITY[h.status],
        message: `${h.status}: ${h.reason ?? ''}`.trim(),
      });
    }
    for (const f of h.findings) {
      const subject = f.authId ?? '';
      rows.push({
        fingerprint: fingerprint(h.name, subject, f.rule),
        host: h.name,
        subject,
        rule: f.rule,
        severity: f.severity,
        message: f.message,
      });
    }
  }
  // Two findings of one rule about one account on one host are one fingerprint: keep the worst.
  const byFp = new Map<string, FindingRow>();
  for (const r of rows) {
    const prev = byFp.get(r.fingerprint);
    if (!prev || (r.severity === 'critical' && prev.severity !== 'critical')) byFp.set(r.fingerprint, r);
  }
  return [...byFp.values()];
}

/**
 * Warning and critical findings grouped: per account across hosts; a host's own findings (queue
 * size, backscatter, auth policy) go with the account most likely causing them on that host (its
 * top-ranked flagged suspect), so one hijack is one alert, not one per symptom. They form a host
 * incident when no account is flagged there, or when that host incident is already open (it then
 * keeps firing instead of being resolved while the queue is still full).
 */
export function groupFindings(hosts: HostReport[], openKeys: ReadonlySet<string> = new Set()): Group[] {
  const groups = new Map<string, Group>();
  const add = (
    key: string,
    kind: IncidentKind,
    subject: string,
    host: HostReport,
    severity: 'warning' | 'critical',
    rule: string,
    message: string,
  ) => {
    const g = groups.get(key) ?? groups.set(key, { key, kind, subject, evidence: new Map() }).get(key)!;
    let e = g.evidence.get(host.name);
    if (!e) {
      e = { host: host.name, severity, rules: [], messages: [] };
      if (kind === 'account') {
        const s = host.suspects?.find((x) => x.authId === subject);
        if (s) {
          Object.assign(e, {
            sent: s.messages,
            recipients: s.recipients,
            queued: s.queued,
            senderDomains: Object.entries(s.senderDomains)
              .sort((a, b) => b[1] - a[1])
              .slice(0, 5),
            clientIps: s.clientIps.slice(0, 10),
            clientIpCount: s.clientIps.length,
            sampleIds: s.sampleIds.slice(0, 3),
            ...(s.sampleSubject ? { sampleSubject: s.sampleSubject } : {}),
          });
        }
      }
      if (host.queue) e.queueTotal = host.queue.total;
      g.evidence.set(host.name, e);
    }
    e.severity = worse(e.severity, severity);
    if (!e.rules.includes(rule)) e.rules.push(rule);
    if (e.messages.length < 6) e.messages.push(message);
  };
  for (const h of hosts) {
    // Hosts that could not be scanned are grouped by status: a network outage is one alert, not 200.
    if (h.status !== 'ok')
      add(
        statusKey(h.status),
        'status',
        h.status,
        h,
        HOST_STATUS_SEVERITY[h.status],
        'host-status',
        `${h.status}: ${h.reason ?? ''}`.trim(),
      );
    const alerting = h.findings.filter((f): f is Finding & { severity: 'warning' | 'critical' } => f.severity !== 'info');
    const flagged = new Set(alerting.flatMap((f) => (f.authId ? [f.authId] : [])));
    const culprit = openKeys.has(hostKey(h.name)) ? undefined : (h.suspects?.find((s) => flagged.has(s.authId))?.authId ?? [...flagged][0]);
    for (const f of alerting) {
      if (f.authId) add(accountKey(f.authId), 'account', f.authId, h, f.severity, f.rule, f.message);
      else if (culprit) add(accountKey(culprit), 'account', culprit, h, f.severity, f.rule, f.message);
      else add(hostKey(h.name), 'host', h.name, h, f.severity, f.rule, f.message);
    }
  }
  return [...groups.values()];
}

export interface Decision {
  /** New incidents to create (id assigned by the store). */
  create: Omit<Incident, 'id'>[];
  /** Open incidents with new state (seen again, resolved, notified). */
  update: Incident[];
  /** Notices to send, in order; a created incident's notice carries id 0 until the store assigns one. */
  notices: Notice[];
}

/**
 * Compare this run with the open incidents.
 * - A group with no open incident opens one and is announced ("new").
 * - An open one still firing is announced again only when it got worse ("escalated"), reached a
 *   host it was not on ("spread"), or repeat_interval has passed since the last notice ("repeat").
 * - An open one no longer firing is resolved only when every host it was on was scanned cleanly in
 *   this run: a host that could not be scanned, was left out by --limit, or was cut by the deadline
 *   proves nothing, and the incident stays open there.
 */
export function decide(hosts: HostReport[], open: Incident[], now: number, s: LifecycleSettings, inventory?: string): Decision {
  const scannedOk = new Set(hosts.filter((h) => h.status === 'ok').map((h) => h.name));
  // A status incident is about reaching the host: any answer this run (even another failure) settles it there.
  const reached = new Set(hosts.map((h) => h.name));
  const checked = (i: Pick<Incident, 'kind'>) => (i.kind === 'status' ? reached : scannedOk);
  const groups = groupFindings(hosts, new Set(open.map((i) => i.key)));
  const openByKey = new Map(open.map((i) => [i.key, i]));
  const out: Decision = { create: [], update: [], notices: [] };
  const notice = (incident: Incident, reason: NoticeReason): Notice => ({
    status: reason === 'resolved' ? 'resolved' : 'firing',
    reason,
    incident,
    at: now,
    ...(inventory ? { inventory } : {}),
  });

  for (const g of groups) {
    const ev = [...g.evidence.values()].sort((a, b) => RANK[b.severity] - RANK[a.severity] || a.host.localeCompare(b.host));
    const severity = ev.reduce<'warning' | 'critical'>((w, e) => worse(w, e.severity), 'warning');
    const prev = openByKey.get(g.key);
    if (!prev) {
      const inc: Omit<Incident, 'id'> = {
        key: g.key,
        kind: g.kind,
        subject: g.subject,
        severity,
        openedAt: now,
        lastSeenAt: now,
        lastNotifiedAt: now,
        resolvedAt: null,
        hosts: ev.map((e) => e.host),
        evidence: ev,
      };
      out.create.push(inc);
      out.notices.push(notice({ id: 0, ...inc }, 'new'));
      continue;
    }
    openByKey.delete(g.key);
    // Hosts where it fires now, plus those it was on that this run could not look at.
    const kept = prev.evidence.filter((e) => !g.evidence.has(e.host) && !checked(prev).has(e.host));
    const evidence = [...ev, ...kept];
    const allSeverity = evidence.reduce<'warning' | 'critical'>((w, e) => worse(w, e.severity), 'warning');
    const next: Incident = { ...prev, severity: allSeverity, lastSeenAt: now, hosts: evidence.map((e) => e.host), evidence };
    let reason: NoticeReason | null = null;
    if (RANK[allSeverity] > RANK[prev.severity]) reason = 'escalated';
    else if (ev.some((e) => !prev.hosts.includes(e.host))) reason = 'spread';
    else if (prev.lastNotifiedAt === null || now - prev.lastNotifiedAt >= s.repeatIntervalMs) reason = 'repeat';
    if (reason) next.lastNotifiedAt = now;
    out.update.push(next);
    if (reason) out.notices.push(notice(next, reason));
  }

  for (const prev of openByKey.values()) {
    const unseen = prev.evidence.filter((e) => !checked(prev).has(e.host));
    if (unseen.length) {
      // Not firing where it could be checked; still unknown elsewhere: keep it open there only.
      if (unseen.length !== prev.evidence.length) out.update.push({ ...prev, hosts: unseen.map((e) => e.host), evidence: unseen });
      continue;
    }
    const resolved: Incident = { ...prev, resolvedAt: now };
    out.update.push(resolved);
    out.notices.push(notice(resolved, 'resolved'));
  }
  return out;
}

/** 0 nothing open, 1 open warnings, 2 an open critical. */
export function exitCodeFor(open: Incident[]): 0 | 1 | 2 {
  if (open.some((i) => i.severity === 'critical')) return 2;
  return open.length ? 1 : 0;
}
