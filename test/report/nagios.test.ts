// The Nagios/Icinga output against the monitoring-plugins guidelines: threshold ranges (-w/-c),
// the queue state and the perfdata ranges agreeing, perfdata items, the 8 KB output limit.
import { describe, expect, it } from 'vitest';
import { parsePerfdata, perfLabel } from '../../src/report/nagios-perfdata.js';
import { MAX_OUTPUT_BYTES, renderNagios } from '../../src/report/nagios.js';
import { parseQueueThreshold } from '../../src/report/plugin-range.js';
import { queueSizeFinding } from '../../src/rules/queue-size.js';
import { summarizeFleet } from '../../src/scan/fleet.js';
import type { HostReport, ScanReport } from '../../src/scan/types.js';
import { FLEET_PERFDATA_LABELS, parsePerfItem, parsePluginOutput } from '../scan/plugin-output.js';

const q = (total: number) => ({ total, frozen: 0, bounces: 0, held: 0, oldestSeconds: 60, reportedTotal: total });

/** A scanned host whose findings come from the real queue-size rule. */
function scanned(name: string, total: number, warn = 75, crit = 100): HostReport {
  const f = queueSizeFinding(q(total), { warn, crit });
  return {
    name,
    address: '192.0.2.1',
    status: 'ok',
    mta: 'exim',
    queue: q(total),
    thresholds: { warn, crit },
    findings: f ? [f] : [],
    durationMs: 1,
  };
}
function failed(name: string, reason: string): HostReport {
  return {
    name,
    address: '192.0.2.1',
    status: 'timeout',
    reason,
    mta: null,
    queue: null,
    thresholds: { warn: 75, crit: 100 },
    findings: [],
    durationMs: 1,
  };
}
const report = (hosts: HostReport[]): ScanReport => ({
  version: 1,
  startedAt: '2026-11-30T05:00:00.000Z',
  finishedAt: '2026-11-30T05:00:01.000Z',
  hosts,
  summary: summarizeFleet(hosts),
});

/** The guideline's reading of a range: does `value` raise an alert? ("10" → outside 0..10, "~:10" → above 10, …) */
function alerts(range: string, value: number): boolean {
  if (range === '') return false;
  const inside = range.startsWith('@');
  const body = inside ? range.slice(1) : range;
  const [a, b] = body.includes(':') ? body.split(':') : ['0', body];
  const lo = a === '~' ? -Infinity : Number(a);
  const hi = b === '' ? Infinity : Number(b);
  const outside = value < lo || value > hi;
  return inside ? !outside : outside;
}

describe('-w/-c: the guideline range examples', () => {
  it.each([
    ['10', 10],
    ['~:10', 10],
    ['0:10', 10],
    ['0', 0],
    [' 75 ', 75],
  ])('"%s" alerts above %i, as the guideline reads it', (text, n) => {
    expect(parseQueueThreshold('-w/--warning', text)).toBe(n);
    // Agreement with the guideline's own semantics at the edges.
    expect(alerts(text.trim(), n)).toBe(false);
    expect(alerts(text.trim(), n + 1)).toBe(true);
  });

  it.each([
    ['10:', /it alerts below 10, on a small or empty queue/],
    ['10:20', /it alerts below 10 too, on a small or empty queue/],
    ['@10:20', /@ alerts inside the range/],
    ['@10', /@ alerts inside the range/],
    ['~:', /it never alerts/],
    ['', /expected a queue size N/],
    [':', /expected a queue size N/],
    ['1.5', /a queue size is a whole number of messages, 0 or more/],
    ['-5', /a queue size is a whole number/],
    ['1e3', /expected a queue size N/],
    ['ten', /expected a queue size N \(alert above N\) or a range ~:N or 0:N, got "ten"/],
  ])('"%s" is refused, saying why', (text, why) => {
    expect(() => parseQueueThreshold('-c/--critical', text)).toThrow(why);
    expect(() => parseQueueThreshold('-c/--critical', text)).toThrow(/^-c\/--critical: /);
  });
});

describe('queue-size alerts above its thresholds (the old rule alerted at them)', () => {
  it.each([
    [75, null],
    [76, 'warning'],
    [100, 'warning'],
    [101, 'critical'],
    [0, null],
  ])('%i queued with warn 75, crit 100: %s', (total, severity) => {
    expect(queueSizeFinding(q(total), { warn: 75, crit: 100 })?.severity ?? null).toBe(severity);
  });

  it('warn = crit: straight to critical above it', () => {
    expect(queueSizeFinding(q(10), { warn: 10, crit: 10 })).toBeNull();
    expect(queueSizeFinding(q(11), { warn: 10, crit: 10 })).toMatchObject({
      severity: 'critical',
      message: '11 messages queued (critical above 10)',
    });
  });

  it('every host state agrees with its own perfdata warn;crit read as the guideline reads them', () => {
    const hosts = [0, 74, 75, 76, 99, 100, 101, 500].flatMap((n, i) => [
      scanned(`a${i}`, n),
      scanned(`b${i}`, n, 0, 0),
      scanned(`c${i}`, n, 99, 100),
    ]);
    const out = parsePluginOutput(renderNagios(report(hosts), { perfdata: { kind: 'all' } }));
    for (const h of hosts) {
      const p = out.perfdata.find((x) => x.label === h.name)!;
      const state = alerts(p.crit, p.value) ? 'critical' : alerts(p.warn, p.value) ? 'warning' : null;
      expect(state, `${h.name}=${p.value};${p.warn};${p.crit}`).toBe(h.findings[0]?.severity ?? null);
    }
  });
});

describe('perfdata', () => {
  const fleet = report([
    scanned('mx1', 339),
    scanned('mx2', 80),
    scanned('mx3', 3),
    failed('mx4', 'host did not finish within 45s'),
    scanned('mx5', 90),
  ]);

  it('fleet totals with stable labels, then the N worst hosts, worst first', () => {
    const out = parsePluginOutput(renderNagios(fleet, { perfdata: { kind: 'worst', n: 2 } }));
    expect(out.perfdata.map((p) => `${p.label}=${p.value};${p.warn};${p.crit};${p.min};${p.max}`)).toEqual([
      'queued=512;;;0;',
      'queue_max=339;75;100;0;',
      'hosts_ok=1;;;0;5',
      'hosts_warning=2;;;0;5',
      'hosts_critical=1;;;0;5',
      'hosts_unknown=1;;;0;5',
      'mx1=339;75;100;0;',
      'mx5=90;75;100;0;',
    ]);
    expect(out.perfdata.every((p) => p.uom === '')).toBe(true); // counts of messages and hosts: no unit
  });

  it('all: every host that has a queue; worst:0: the totals only; the default: 10 worst', () => {
    expect(
      parsePluginOutput(renderNagios(fleet, { perfdata: { kind: 'all' } }))
        .perfdata.slice(6)
        .map((p) => p.label),
    ).toEqual(['mx1', 'mx5', 'mx2', 'mx3']);
    expect(parsePluginOutput(renderNagios(fleet, { perfdata: { kind: 'worst', n: 0 } })).perfdata).toHaveLength(6);
    const many = report(Array.from({ length: 30 }, (_, i) => scanned(`h${i}`, i)));
    expect(
      parsePluginOutput(renderNagios(many))
        .perfdata.slice(6)
        .map((p) => p.value),
    ).toEqual([29, 28, 27, 26, 25, 24, 23, 22, 21, 20]);
  });

  it('the biggest queue carries thresholds only when every host shares them', () => {
    const mixed = report([scanned('a', 5, 10, 20), scanned('b', 7)]);
    expect(parsePluginOutput(renderNagios(mixed)).perfdata[1]).toMatchObject({ label: 'queue_max', value: 7, warn: '', crit: '' });
  });

  it('labels: always quoted, a quote doubled, = and | replaced, never cut; the guideline parser reads them back', () => {
    expect(perfLabel("mx 1's")).toBe("'mx 1''s'");
    expect(perfLabel('a=b|c')).toBe("'a_b_c'");
    expect(perfLabel('evil\x1b[2J')).toBe("'evil^[[2J'");
    expect(parsePerfItem(`${perfLabel("mx 1's")}=5;75;100;0`).label).toBe("mx 1's");
    const long = 'x'.repeat(150);
    expect(parsePluginOutput(renderNagios(report([scanned(long, 1)]))).perfdata[6]!.label).toBe(long);
  });

  it('--perfdata values: all, worst:N; anything else refused', () => {
    expect(parsePerfdata('all')).toEqual({ kind: 'all' });
    expect(parsePerfdata('worst:0')).toEqual({ kind: 'worst', n: 0 });
    expect(parsePerfdata('worst:25')).toEqual({ kind: 'worst', n: 25 });
    for (const bad of ['worst', 'worst:', 'worst:-1', 'best:3', 'ALL', ''])
      expect(() => parsePerfdata(bad)).toThrow(/^--perfdata: expected all or worst:N/);
  });
});

describe('the 8 KB plugin output limit, whatever the fleet', () => {
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

  it('10,000 critical hosts, every one in the perfdata (--perfdata all): long text cut first, then host perfdata; state, counts and totals kept', () => {
    const hosts = Array.from({ length: 10_000 }, (_, i) => scanned(`mx${i}.${'very-long-datacenter-name.'.repeat(4)}example.net`, 101 + i));
    const text = renderNagios(report(hosts), { perfdata: { kind: 'all' } });
    expect(bytes(text)).toBeLessThanOrEqual(MAX_OUTPUT_BYTES);
    const out = parsePluginOutput(text);
    expect(out.text).toMatch(
      /^MAILSWEEP CRITICAL - 10000 critical, 0 warning, 0 unknown of 10000 hosts: mx9999\.very-long-[^,]+… \(122 chars\) CRITICAL queue 10100, /,
    );
    expect(out.perfdata.slice(0, 6).map((p) => p.label)).toEqual(FLEET_PERFDATA_LABELS);
    // Per-host perfdata first in the budget, the worst kept: the biggest queues, biggest first.
    const kept = out.perfdata.slice(6).map((p) => p.value);
    expect(kept.length).toBeGreaterThan(30);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 10_100 - i));
    expect(out.longText.at(-2)).toMatch(/^… 10000 more host\(s\) not shown \(plugin output limit\)$/);
    expect(out.longText.at(-1)).toBe(`perfdata: ${kept.length} of 10000 hosts (plugin output limit)`);
  });

  it('10,000 hosts not scanned with long hostile reasons, default perfdata: long text as far as it fits, then a count', () => {
    const hosts = Array.from({ length: 10_000 }, (_, i) => failed(`mx${i}`, `no answer \x1b[2J${'é'.repeat(400)}\u202e|`));
    const text = renderNagios(report(hosts));
    expect(bytes(text)).toBeLessThanOrEqual(MAX_OUTPUT_BYTES);
    const out = parsePluginOutput(text);
    expect(out.text).toMatch(/^MAILSWEEP UNKNOWN - 0 critical, 0 warning, 10000 unknown of 10000 hosts: mx0 UNKNOWN timeout, /);
    expect(out.text).toContain(', … (9990 more)');
    const shown = out.longText.slice(0, -1);
    expect(shown.length).toBeGreaterThan(3);
    for (const l of shown) expect(l).toMatch(/^mx\d+: UNKNOWN - timeout: no answer \^\[\[2Jé+… \(\d+ chars\)$/);
    expect(out.longText.at(-1)).toBe(`… ${10_000 - shown.length} more host(s) not shown (plugin output limit)`);
  });

  it('a 20,000-character host name and auth id: the status line stays bounded, the label that cannot fit is left out', () => {
    const huge = `mx-${'ü'.repeat(20_000)}`;
    const h = scanned(huge, 500);
    h.suspects = [
      {
        authId: 'a'.repeat(20_000),
        messages: 5,
        recipients: 5,
        queued: 5,
        senderDomains: {},
        clientIps: [],
        rules: ['user-volume'],
        score: 1,
        sampleIds: [],
      },
    ];
    const text = renderNagios(report([h, scanned('mx2', 80)]), { perfdata: { kind: 'all' } });
    expect(bytes(text)).toBeLessThanOrEqual(MAX_OUTPUT_BYTES);
    const out = parsePluginOutput(text);
    expect(out.text).toMatch(
      /^MAILSWEEP CRITICAL - 1 critical, 1 warning, 0 unknown of 2 hosts: mx-ü+… \(20003 chars\) CRITICAL queue 500, mx2 WARNING queue 80; top suspect a+… \(20000 chars\)/,
    );
    expect(out.perfdata.slice(6).map((p) => p.label)).toEqual(['mx2']);
    expect(out.longText.at(-1)).toBe('perfdata: 1 of 2 hosts (plugin output limit)');
  });
});
