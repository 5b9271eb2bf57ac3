// Incident decisions on hand-made scans: when an incident may resolve, when it is re-announced,
// how findings group, and hostile server text in every rendering.
import { describe, expect, it } from 'vitest';
import { channelWants } from '../../src/alerts/channels.js';
import type { ChannelConfig } from '../../src/alerts/config.js';
import { decide, exitCodeFor, findingRows, fingerprint } from '../../src/alerts/lifecycle.js';
import { alertmanagerPayload, slackPayload, textBody, title } from '../../src/alerts/render.js';
import type { Incident, Notice } from '../../src/alerts/store.js';
import type { Finding } from '../../src/rules/types.js';
import type { HostReport } from '../../src/scan/types.js';

const H = 3_600_000;
const S = { repeatIntervalMs: 4 * H };

function host(name: string, findings: Finding[] = [], extra: Partial<HostReport> = {}): HostReport {
  return {
    name,
    address: '192.0.2.1',
    status: 'ok',
    mta: 'exim',
    queue: { total: 5, frozen: 0, bounces: 0, held: 0, oldestSeconds: 60, reportedTotal: 5 },
    thresholds: { warn: 75, crit: 100 },
    findings,
    durationMs: 10,
    ...extra,
  };
}
const spam = (authId: string, severity: Finding['severity'] = 'critical'): Finding => ({
  rule: 'sender-mismatch',
  severity,
  authId,
  message: `${authId} sent 300 messages as other domains`,
});
const queue: Finding = { rule: 'queue-size', severity: 'critical', message: '339 messages queued (critical at 100)' };

/** Apply a decision like the command does (ids by position). */
function apply(open: Incident[], d: ReturnType<typeof decide>): Incident[] {
  let id = Math.max(0, ...open.map((i) => i.id));
  const byId = new Map(open.map((i) => [i.id, i]));
  for (const u of d.update) byId.set(u.id, u);
  for (const c of d.create) {
    const inc = { ...c, id: ++id };
    byId.set(inc.id, inc);
  }
  return [...byId.values()].filter((i) => i.resolvedAt === null);
}

describe('incident lifecycle', () => {
  it('stays open while a host it was on cannot be scanned, and resolves once that host is scanned clean', () => {
    let open: Incident[] = [];
    let d = decide([host('mx1', [spam('bob@x.test')]), host('mx2', [spam('bob@x.test')])], open, 0, S);
    expect(d.notices.map((n) => n.reason)).toEqual(['new']);
    open = apply(open, d);
    // mx1 is clean now but mx2 is unreachable: bob stays open on mx2 only; mx2 itself is a host incident.
    d = decide([host('mx1'), host('mx2', [], { status: 'unreachable', reason: 'ECONNREFUSED', queue: null })], open, H, S);
    expect(d.notices.map((n) => [n.reason, n.incident.key])).toEqual([['new', 'status:unreachable']]);
    open = apply(open, d);
    expect(open.find((i) => i.key === 'account:bob@x.test')?.hosts).toEqual(['mx2']);
    expect(exitCodeFor(open)).toBe(2);
    // Left out by --limit: proves nothing either.
    d = decide([host('mx1')], open, 2 * H, S);
    expect(d.notices).toEqual([]);
    open = apply(open, d);
    d = decide([host('mx1'), host('mx2')], open, 3 * H, S);
    expect(d.notices.map((n) => [n.status, n.incident.key]).sort()).toEqual([
      ['resolved', 'account:bob@x.test'],
      ['resolved', 'status:unreachable'],
    ]);
    expect(exitCodeFor(apply(open, d))).toBe(0);
  });

  it('an outage is one alert for all unreachable hosts, not one per host', () => {
    const down = (name: string) => host(name, [], { status: 'unreachable', reason: 'ECONNREFUSED', queue: null });
    let d = decide([down('mx1'), down('mx2'), down('mx3')], [], 0, S);
    expect(d.notices.map((n) => [n.incident.key, n.incident.hosts, title(n)])).toEqual([
      ['status:unreachable', ['mx1', 'mx2', 'mx3'], '[mailsweep] WARNING: hosts unreachable (3): mx1, mx2, mx3'],
    ]);
    expect(textBody(d.notices[0]!)).toContain('next: mailsweep scan --limit mx1');
    let open = apply([], d);
    // mx1 is back, mx2 now times out: the unreachable alert shrinks silently, the timeout one opens.
    d = decide([host('mx1'), host('mx2', [], { status: 'timeout', reason: 't', queue: null }), down('mx3')], open, H, S);
    expect(d.notices.map((n) => [n.incident.key, n.incident.hosts])).toEqual([['status:timeout', ['mx2']]]);
    open = apply(open, d);
    expect(open.find((i) => i.key === 'status:unreachable')?.hosts).toEqual(['mx3']);
    d = decide([host('mx1'), host('mx2'), host('mx3')], open, 2 * H, S);
    expect(d.notices.map((n) => [n.status, n.incident.key]).sort()).toEqual([
      ['resolved', 'status:timeout'],
      ['resolved', 'status:unreachable'],
    ]);
  });

  it('re-announces when it gets worse or spreads, otherwise only after repeat_interval', () => {
    let open = apply([], decide([host('mx1', [spam('Bob@X.test', 'warning')])], [], 0, S));
    expect(exitCodeFor(open)).toBe(1);
    let d = decide([host('mx1', [spam('bob@x.test', 'warning')])], open, H, S);
    expect(d.notices).toEqual([]);
    open = apply(open, d);
    d = decide([host('mx1', [spam('bob@x.test', 'critical')])], open, 2 * H, S);
    expect(d.notices.map((n) => n.reason)).toEqual(['escalated']);
    open = apply(open, d);
    d = decide([host('mx1', [spam('bob@x.test')]), host('mx9', [spam('bob@x.test')])], open, 3 * H, S);
    expect(d.notices.map((n) => [n.reason, n.incident.hosts])).toEqual([['spread', ['mx1', 'mx9']]]);
    open = apply(open, d);
    expect(decide([host('mx1', [spam('bob@x.test')]), host('mx9', [spam('bob@x.test')])], open, 6 * H, S).notices).toEqual([]);
    expect(
      decide([host('mx1', [spam('bob@x.test')]), host('mx9', [spam('bob@x.test')])], open, 7 * H, S).notices.map((n) => n.reason),
    ).toEqual(['repeat']);
  });

  it('host symptoms go with the account causing them; alone, or already open, they are a host incident', () => {
    const withBob = decide(
      [
        host('mx1', [queue, spam('bob@x.test')], {
          suspects: [
            {
              authId: 'bob@x.test',
              messages: 300,
              recipients: 900,
              queued: 300,
              senderDomains: { 'spam.test': 300 },
              clientIps: ['203.0.113.9'],
              rules: ['sender-mismatch'],
              score: 4,
              senders: [],
              sampleIds: ['1abc'],
            },
          ],
        }),
      ],
      [],
      0,
      S,
    );
    expect(withBob.notices).toHaveLength(1);
    expect(withBob.notices[0]!.incident.evidence[0]!.rules).toEqual(['queue-size', 'sender-mismatch']);
    const alone = decide([host('mx2', [queue, { rule: 'auth-policy', severity: 'info', message: 'nothing on 587' }])], [], 0, S);
    expect(alone.notices.map((n) => [n.incident.key, n.incident.evidence[0]!.rules])).toEqual([['host:mx2', ['queue-size']]]);
    const open = apply([], alone);
    const later = decide([host('mx2', [queue, spam('eve@x.test')])], open, H, S);
    expect(later.notices.map((n) => n.incident.key)).toEqual(['account:eve@x.test']);
    expect(later.update.map((u) => [u.key, u.resolvedAt])).toEqual([['host:mx2', null]]);
  });

  it('one fingerprint per host, account and rule; info findings are recorded but never alert', () => {
    const rows = findingRows([
      host('mx1', [spam('bob@x.test'), spam('bob@x.test', 'warning'), { rule: 'auth-policy', severity: 'info', message: 'm' }]),
    ]);
    expect(rows.map((r) => [r.rule, r.severity, r.fingerprint])).toEqual([
      ['sender-mismatch', 'critical', fingerprint('mx1', 'bob@x.test', 'sender-mismatch')],
      ['auth-policy', 'info', fingerprint('mx1', '', 'auth-policy')],
    ]);
    expect(decide([host('mx1', [{ rule: 'auth-policy', severity: 'info', message: 'm' }])], [], 0, S).notices).toEqual([]);
  });
});

describe('hostile server text in notices', () => {
  const evil = "bob\u001b]8;;http://evil/\u0007@x.test'$(rm -rf ~)\u202e";
  const n: Notice = decide(
    [
      host('mx1\u001b[2J', [{ ...spam(evil), message: `${evil} sent <b>&</b>` }], {
        suspects: [
          {
            authId: evil,
            messages: 1,
            recipients: 1,
            queued: 1,
            senderDomains: { 'a\u0000.test': 1 },
            clientIps: ['<@U123>'],
            rules: ['sender-mismatch'],
            score: 3,
            senders: [],
            sampleIds: ['x\r\nBcc: victim@x'],
          },
        ],
      }),
    ],
    [],
    0,
    S,
    '/etc/mailsweep/inv.yaml',
  ).notices[0]!;
  const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

  it('title (the mail subject) and text carry no control, escape or bidi character', () => {
    expect(title(n)).not.toMatch(/[\r\n]/);
    expect(title(n)).not.toMatch(controls);
    expect(textBody(n)).not.toMatch(controls);
    expect(textBody(n)).toContain('bob^[]8;;http://evil/^G@x.test');
    expect(textBody(n)).toContain('sample queued messages: x^M^JBcc: victim@x');
  });

  it('the suggested command quotes the account and host for the shell', () => {
    expect(textBody(n)).toContain(
      "next: mailsweep incident 'mx1^[[2J' --auth-id 'bob^[]8;;http://evil/^G@x.test'\"'\"'$(rm -rf ~)<U+202E>' -i /etc/mailsweep/inv.yaml",
    );
  });

  it('Slack text escapes <, > and &; the webhook body holds no raw controls', () => {
    const s = JSON.stringify(slackPayload(n));
    expect(s).toContain('&lt;@U123&gt;');
    expect(s).not.toContain('<@U123>');
    expect(s).toContain('&lt;b&gt;&amp;&lt;/b&gt;');
    expect(JSON.stringify(alertmanagerPayload(n, 'hook'))).not.toMatch(/\\u00(0[0-8bcef]|1[0-9a-f]|7f)|\\u202e/i);
  });

  it('channels filter by severity and by send_resolved', () => {
    const ch = (o: Partial<ChannelConfig>) =>
      ({
        name: 'c',
        type: 'webhook',
        url: 'http://x/',
        min_severity: 'warning',
        timeout: 1,
        retries: 0,
        backoff: 1,
        ...o,
      }) as ChannelConfig;
    const warn: Notice = { ...n, incident: { ...n.incident, severity: 'warning' } };
    const resolved: Notice = { ...n, status: 'resolved', reason: 'resolved' };
    expect(channelWants(ch({ min_severity: 'critical' }), warn, true)).toBe(false);
    expect(channelWants(ch({ min_severity: 'critical' }), n, true)).toBe(true);
    expect(channelWants(ch({}), resolved, false)).toBe(false);
    expect(channelWants(ch({ send_resolved: true }), resolved, false)).toBe(true);
    expect(channelWants(ch({ send_resolved: false }), resolved, true)).toBe(false);
  });
});
