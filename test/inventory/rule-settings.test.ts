// Detection-rule settings (user_volume_limit, baseline_*, local_domains …) are checked when the
// inventory loads: a bad value is a ConfigError at its own file:line, exit 3, before any SSH.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadInventory, parseInventory } from '../../src/inventory/load.js';
import { ruleSettings } from '../../src/rules/settings.js';

const dir = 'test/fixtures/inventory/errors';

async function messageOf(name: string): Promise<string> {
  const err = await loadInventory(join(dir, name)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).message;
}

const cases: [string, string][] = [
  // Host level: the host's own line 9, not the group's user_volume_limit: 800 on line 5.
  ['bad-rule-host.yaml', '9: hosts.mx1.user_volume_limit: expected a whole number of messages per day, at least 1, got "lots"'],
  // A nested group's vars.
  ['bad-rule-group.yaml', '8: groups.dc1_edge.vars.baseline_percent: expected a whole number percentage, at least 100, got 90'],
  // `all`.
  ['bad-rule-all.yaml', '5: groups.all.vars.auth_policy: expected a boolean (true/false, yes/no), got "maybe"'],
  // Inside a mapping: the entry that is wrong.
  [
    'bad-rule-nested.yaml',
    '3: groups.all.vars.sender_allow.bob@example.test: expected a mapping of account or domain to a list of sender domains (e.g. "bob@example.com: [example.org]"), got "example.org"',
  ],
  // A group no host uses yet is still checked where it is written.
  ['bad-rule-unused-group.yaml', '6: groups.later.vars.many_ips: expected a whole number of client IPs, at least 2, got 1'],
  // A "{{ var }}" reference is resolved for the host, then checked at the line that uses it.
  ['bad-rule-template.yaml', '6: hosts.mx1.mass_recipients: expected a whole number of recipients, at least 2, got "plenty"'],
];

describe('bad rule settings are found when the inventory loads', () => {
  it.each(cases)('%s', async (name, expected) => {
    expect(await messageOf(name)).toBe(`${join(dir, name)}:${expected}`);
  });

  it.each([
    ['user_volume_limit', '0', 'at least 1, got 0'],
    ['user_volume_limit', '""', 'got ""'],
    ['user_volume_limit', '', 'got null'],
    ['user_volume_limit', '[]', 'got a list'],
    ['user_volume_limit', '12.5', 'got 12.5'],
    ['baseline_floor', '-1', 'at least 0, got -1'],
    ['mass_recipients', '1', 'at least 2, got 1'],
    ['local_domains', 'example.test', 'expected a list of domain names (e.g. [example.com, example.org]), got "example.test"'],
    ['local_domains', '[bob@example.test]', 'local_domains[0]: expected a list of domain names'],
    ['auth_policy', '2', 'got 2'],
  ])('%s: %s', (key, value, says) => {
    const text = `all:\n  hosts:\n    mx1:\n      ${key}: ${value}\n`;
    expect(() => parseInventory(text, 'inv.yaml')).toThrow(ConfigError);
    expect(() => parseInventory(text, 'inv.yaml')).toThrow(`inv.yaml:4: hosts.mx1.${key}`);
    expect(() => parseInventory(text, 'inv.yaml')).toThrow(says);
  });
});

describe('good rule settings still load, and the scan reads them', () => {
  it('every key at all, group and host level; strings of digits, yes/no, lists, mappings, references', async () => {
    const inv = await loadInventory('test/fixtures/inventory/rule-settings.yaml');
    const mx1 = inv.hosts.find((h) => h.name === 'mx1')!;
    expect(ruleSettings(mx1.vars)).toEqual({
      user_volume_limit: 250, // host's "{{ day_limit }}", resolved at load
      sender_mismatch_min: 2,
      sender_allow: { 'carol@shop.test': ['shop-outlet.test'], 'example.test': ['example.org', 'example.net'] },
      baseline_days: 5,
      baseline_percent: 200,
      baseline_floor: 0,
      baseline_ceiling: 400,
      mass_recipients: 50,
      backscatter_min: 3,
      many_ips: 8,
      auth_burst_failures: 10,
      auth_burst_seconds: 300,
      auth_policy: false,
      local_domains: ['example.test', 'shop.test'],
    });
    const mx2 = inv.hosts.find((h) => h.name === 'mx2')!;
    expect(ruleSettings(mx2.vars)).toMatchObject({ user_volume_limit: 800, baseline_days: 10, mass_recipients: 20, auth_policy: false });
  });

  it('defaults when nothing is set, and a defensive check at scan time for hosts built elsewhere', () => {
    expect(ruleSettings({})).toMatchObject({
      user_volume_limit: 500,
      many_ips: 5,
      auth_burst_failures: 5,
      auth_burst_seconds: 600,
      auth_policy: true,
      local_domains: [],
      sender_allow: {},
    });
    expect(() => ruleSettings({ auth_burst_failures: 1 }, 'inv.yaml:4: mx1')).toThrow(
      'inv.yaml:4: mx1: auth_burst_failures: expected a whole number of failed logins, at least 2',
    );
    // Defaults are copies: one host's settings never leak into another's.
    ruleSettings({}).local_domains.push('x.test');
    expect(ruleSettings({}).local_domains).toEqual([]);
    expect(() => ruleSettings({ user_volume_limit: 'lots' }, 'inv.yaml:3: mx1')).toThrow(
      'inv.yaml:3: mx1: user_volume_limit: expected a whole number of messages per day, at least 1',
    );
  });
});

describe('through the CLI', () => {
  it('exit 3 with file:line and field, before any host is contacted', () => {
    const file = join(dir, 'bad-rule-host.yaml');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'scan', '-i', file, '--no-history', '--format', 'nagios'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, CI: 'true' },
    });
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toBe(
      `mailsweep: error: ${file}:9: hosts.mx1.user_volume_limit: expected a whole number of messages per day, at least 1, got "lots"\n`,
    );
    expect(r.stdout).toBe('');
  });
});
