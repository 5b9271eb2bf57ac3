// Per-account client IPs with their counts and first/last seen: the evidence bundle's "who sent it
// from where", and the IPs a custom step (a firewall block) gets, most active first.
import { describe, expect, it } from 'vitest';
import { AuthAggregator, MAX_IPS_PER_USER } from '../../src/logs/aggregate.js';
import type { Submission } from '../../src/logs/types.js';

const sub = (authId: string, clientIp: string | undefined, time: number | null, unconfirmed = false): Submission => ({
  time,
  authId,
  ...(clientIp ? { clientIp } : {}),
  sender: 'x@y.test',
  source: 'exim-arrival',
  ...(unconfirmed ? { unconfirmed } : {}),
});

describe('per-IP counts of an account', () => {
  it('counts messages and logins per IP, with first and last seen; clientIps stays the same list', () => {
    const agg = new AuthAggregator();
    agg.add(sub('bob@x.test', '203.0.113.9', 200));
    agg.add(sub('bob@x.test', '203.0.113.9', 100));
    agg.add(sub('bob@x.test', '198.51.100.1', 150, true)); // a login with no message
    agg.add(sub('bob@x.test', '203.0.113.9', null));
    agg.add(sub('bob@x.test', undefined, 300));
    agg.add(sub('eve@x.test', '203.0.113.9', 50));
    const bob = agg.result().find((u) => u.authId === 'bob@x.test')!;
    expect(bob.clientIps).toEqual(['203.0.113.9', '198.51.100.1']);
    expect(bob.ipStats).toEqual([
      { ip: '203.0.113.9', count: 3, firstSeen: 100, lastSeen: 200 },
      { ip: '198.51.100.1', count: 1, firstSeen: 150, lastSeen: 150 },
    ]);
    expect(agg.result().find((u) => u.authId === 'eve@x.test')!.ipStats).toEqual([
      { ip: '203.0.113.9', count: 1, firstSeen: 50, lastSeen: 50 },
    ]);
  });

  it('stays bounded: past MAX_IPS_PER_USER new IPs are not counted, and the list says it is truncated', () => {
    const agg = new AuthAggregator();
    for (let i = 0; i < MAX_IPS_PER_USER + 5; i++) agg.add(sub('bob@x.test', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, i));
    agg.add(sub('bob@x.test', '10.0.0.0', 1e9));
    const bob = agg.result()[0]!;
    expect(bob.ipStats).toHaveLength(MAX_IPS_PER_USER);
    expect(bob.clientIpsTruncated).toBe(true);
    expect(bob.ipStats![0]).toEqual({ ip: '10.0.0.0', count: 2, firstSeen: 0, lastSeen: 1e9 });
  });
});
