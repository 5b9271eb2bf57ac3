import { describe, expect, it } from 'vitest';
import { bareIp } from '../../src/logs/line.js';

describe('bareIp: one client, one spelling', () => {
  it('canonicalises IPv6 as sendmail, exim and postfix log it', () => {
    // sendmail 8.17 (lab, Debian 12) logs ::1 as relay=[IPv6:0:0:0:0:0:0:0:1]
    expect(bareIp('IPv6:0:0:0:0:0:0:0:1')).toBe('::1');
    expect(bareIp('::1')).toBe('::1');
    expect(bareIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(bareIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
  });
  it('maps IPv4-mapped IPv6 to the IPv4 it is', () => {
    expect(bareIp('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(bareIp('IPv6:0:0:0:0:0:ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(bareIp('::FFFF:C000:0201')).toBe('192.0.2.1');
  });
  it('keeps zones, plain IPv4, and refuses what is not an address', () => {
    expect(bareIp('fe80::1%eth0')).toBe('fe80::1%eth0');
    expect(bareIp('203.0.113.7')).toBe('203.0.113.7');
    expect(bareIp('2001:db8::1::2')).toBeUndefined();
    expect(bareIp('::1]; rm -rf /')).toBeUndefined();
    expect(bareIp('host.example')).toBeUndefined();
  });
});
