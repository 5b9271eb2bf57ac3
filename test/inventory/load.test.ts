import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory, parseInventory } from '../../src/inventory/load.js';
import type { HostSpec, Inventory } from '../../src/inventory/types.js';

const fx = (name: string): string => `test/fixtures/inventory/${name}`;

function host(inv: Inventory, name: string): HostSpec {
  const h = inv.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no host ${name}`);
  return h;
}

describe('precedence and groups', async () => {
  const inv = await loadInventory(fx('precedence.yaml'));

  it('host vars beat every group', () => {
    expect(host(inv, 'mx2').vars.level).toBe('host');
  });

  it('a deeper group beats its parent, which beats all', () => {
    expect(host(inv, 'mx1').vars.level).toBe('eu_west');
    expect(host(inv, 'mx1').vars.only_all).toBe('a');
    expect(host(inv, 'lonely').vars.level).toBe('all');
  });

  it('same depth: alphabetical order, later wins', () => {
    // eu and zz are both depth 1; zz sorts last.
    expect(host(inv, 'mx1').vars.only_eu).toBe('zz');
    // eu_west and postfix are both depth 2; postfix sorts last — but mx3 is only in postfix.
    expect(host(inv, 'mx3').vars.level).toBe('postfix');
  });

  it('a host listed in two groups gets both groups and merged vars', () => {
    const mx1 = host(inv, 'mx1');
    expect(mx1.groups).toEqual(['all', 'eu', 'zz', 'eu_west']);
    expect(mx1.vars.extra).toBe('from-zz');
    expect(mx1.user).toBe('deploy');
    const mx2 = host(inv, 'mx2');
    expect(mx2.groups).toEqual(['all', 'eu', 'mta', 'eu_west', 'postfix']);
    expect([mx2.queueWarn, mx2.queueCrit]).toEqual([10, 20]);
    expect(mx2.source).toEqual({ file: fx('precedence.yaml'), line: 18 });
  });

  it('groups list hosts recursively, in inventory order', () => {
    expect(inv.hosts.map((h) => h.name)).toEqual(['mx1', 'mx2', 'mx3', 'lonely']);
    expect(inv.groups.all).toEqual(['mx1', 'mx2', 'mx3', 'lonely']);
    expect(inv.groups.eu).toEqual(['mx1', 'mx2']);
    expect(inv.groups.mta).toEqual(['mx2', 'mx3']);
    expect(inv.groups.ungrouped).toEqual(['lonely']);
    expect(host(inv, 'lonely').groups).toEqual(['all', 'ungrouped']);
  });

  it('defaults', () => {
    const h = host(inv, 'lonely');
    expect(h).toMatchObject({
      address: 'lonely',
      port: 22,
      connection: 'ssh',
      become: false,
      becomeUser: 'root',
      queueWarn: 75,
      queueCrit: 100,
    });
    expect(h.mta).toBeUndefined();
    expect(h.jump).toBeUndefined();
    expect(h.privateKeyFile).toBeUndefined();
  });

  it('ansible_group_priority reorders groups of the same depth', () => {
    const text = [
      'all:',
      '  children:',
      '    a: { vars: { v: a, ansible_group_priority: 10 }, hosts: { h: } }',
      '    b: { vars: { v: b }, hosts: { h: } }',
    ].join('\n');
    expect(parseInventory(text, 'i.yaml').hosts[0]?.vars.v).toBe('a');
  });

  it('a host listed twice merges its vars, later wins', () => {
    const text = ['all:', '  children:', '    g1: { hosts: { h: { a: 1, b: 1 } } }', '    g2: { hosts: { h: { b: 2 } } }'].join('\n');
    const h = parseInventory(text, 'i.yaml').hosts[0];
    expect(h?.vars).toMatchObject({ a: 1, b: 2 });
    expect(h?.source.line).toBe(3);
  });

  it('top-level groups other than all are children of all', () => {
    const inv2 = parseInventory('all:\n  vars: { queue_warn: 5 }\nmail:\n  hosts:\n    mx1:\n', 'i.yaml');
    expect(host(inv2, 'mx1').groups).toEqual(['all', 'mail']);
    expect(host(inv2, 'mx1').queueWarn).toBe(5);
  });
});

describe('a real-world Ansible inventory loads unchanged', async () => {
  const file = fx('real-world.yaml');
  const inv = await loadInventory(file);

  it('finds every host, ranges and host:port included', () => {
    expect(inv.hosts.map((h) => h.name)).toEqual([
      'mx01.example.org',
      'mx02.example.org',
      'mx03.example.org',
      'relay-a',
      '2001:db8::25',
      'www1.example.org',
      'localhost',
      'standalone.example.org',
    ]);
    expect(host(inv, 'mx03.example.org').port).toBe(2222);
    expect(host(inv, 'mx03.example.org').vars.ansible_python_interpreter).toBe('/usr/bin/python3');
    expect(host(inv, 'mx03.example.org').vars.ntp_servers).toEqual([]);
    expect(host(inv, 'mx03.example.org').source.line).toBe(24);
    expect(inv.groups.mailservers).toHaveLength(5);
    expect(inv.groups.monitoring).toEqual([]);
  });

  it('reads legacy and YAML 1.1 spellings as Ansible does', () => {
    const mx = host(inv, 'mx01.example.org');
    expect(mx.user).toBe('admin');
    expect(mx.become).toBe(true);
    expect(mx.vars.enabled).toBe(true);
    expect(host(inv, 'www1.example.org').vars.y).toBe('literal-y-key');
  });

  it('keeps unknown ansible_* and other vars, vault values opaque', () => {
    const mx = host(inv, 'mx01.example.org');
    expect(mx.vars.ansible_ssh_pipelining).toBe(true);
    expect(mx.vars.ansible_become_method).toBe('sudo');
    expect(mx.vars.db_password).toBe('{{ vault_db_password }}');
    expect(String(mx.vars.vault_db_password)).toBe('[vault]');
    expect(host(inv, 'localhost').vars.ansible_python_interpreter).toBe('{{ ansible_playbook_python }}');
  });

  it('resolves {{ var }} references in the fields it reads', () => {
    const relay = host(inv, 'relay-a');
    expect(relay.address).toBe('relay-a.example.org');
    expect(relay.port).toBe(2200);
    expect(relay.privateKeyFile).toBe(resolve('test/fixtures/inventory/keys/relay.pem'));
  });

  it('takes the jump host from ProxyCommand "ssh -W"', () => {
    expect(host(inv, 'mx01.example.org').jump).toEqual({ host: 'gw.example.org', port: 2022, user: 'bastion' });
  });

  it('IPv6 hosts and local connections', () => {
    expect(host(inv, '2001:db8::25').address).toBe('2001:db8::25');
    expect(host(inv, 'localhost').connection).toBe('local');
    expect(host(inv, 'standalone.example.org').groups).toEqual(['all', 'ungrouped']);
  });
});

describe('JSON inventories', () => {
  it('the YAML shape written as JSON', async () => {
    const inv = await loadInventory(fx('real-world.json'));
    expect(inv.hosts.map((h) => [h.name, h.address, h.user, h.mta, h.queueWarn])).toEqual([
      ['mx1.example.com', '198.51.100.1', 'ops', 'postfix', 40],
      ['mx2.example.com', 'mx2.example.com', 'ops', 'postfix', 40],
    ]);
  });

  it('ansible-inventory --list output (_meta.hostvars, lists of names)', async () => {
    const inv = await loadInventory(fx('list-form.json'));
    expect(inv.hosts.map((h) => [h.name, h.address, h.port, h.mta, h.queueWarn])).toEqual([
      ['mx1.example.com', '198.51.100.1', 22, 'exim', 5],
      ['mx2.example.com', 'mx2.example.com', 2222, undefined, 5],
    ]);
    expect(host(inv, 'mx1.example.com').source.line).toBe(21);
    expect(inv.groups.mail).toEqual(['mx1.example.com', 'mx2.example.com']);
  });
});

describe('connection fields', () => {
  const one = (vars: string): HostSpec => {
    const h = parseInventory(`all:\n  hosts:\n    mx1:\n${vars}`, '/etc/mailsweep/inventory.yaml').hosts[0];
    if (!h) throw new Error('no host');
    return h;
  };

  it('key paths: ~ is home, relative is relative to the inventory file', () => {
    expect(one('      ansible_ssh_private_key_file: ~/.ssh/id_ed25519\n').privateKeyFile).toBe(resolve(homedir(), '.ssh/id_ed25519'));
    expect(one('      ansible_ssh_private_key_file: keys/mx.pem\n').privateKeyFile).toBe('/etc/mailsweep/keys/mx.pem');
    expect(one('      ansible_private_key_file: /k\n').privateKeyFile).toBe('/k');
  });

  it.each([
    ['true', true],
    ['yes', true],
    ['"yes"', true],
    ['"True"', true],
    ['1', true],
    ['no', false],
    ['"false"', false],
    ['off', false],
  ])('ansible_become: %s', (v, expected) => {
    expect(one(`      ansible_become: ${v}\n      ansible_become_user: postfix\n`)).toMatchObject({
      become: expected,
      becomeUser: 'postfix',
    });
  });

  it.each([
    ['ssh', 'ssh'],
    ['paramiko', 'ssh'],
    ['smart', 'ssh'],
    ['ansible.builtin.ssh', 'ssh'],
    ['local', 'local'],
  ])('ansible_connection: %s', (v, expected) => {
    expect(one(`      ansible_connection: ${v}\n`).connection).toBe(expected);
  });

  it('mta is case-insensitive; auto means detect', () => {
    expect(one('      mta: Postfix\n').mta).toBe('postfix');
    expect(one('      mta: auto\n').mta).toBeUndefined();
  });

  it('numeric strings for ports and thresholds', () => {
    expect(one('      ansible_port: "2222"\n      queue_warn: "10"\n      queue_crit: 10\n')).toMatchObject({
      port: 2222,
      queueWarn: 10,
      queueCrit: 10,
    });
  });

  it.each([
    ['mailsweep_jump: ops@bastion:2222', { host: 'bastion', port: 2222, user: 'ops' }],
    ['mailsweep_jump: bastion', { host: 'bastion', port: 22, user: 'mail' }],
    ['mailsweep_jump: "ops@[2001:db8::1]:2200"', { host: '2001:db8::1', port: 2200, user: 'ops' }],
    ['ansible_ssh_common_args: -o ProxyJump=ops@gw:2200', { host: 'gw', port: 2200, user: 'ops' }],
    ['ansible_ssh_common_args: "-o \'ProxyJump ops@gw\'"', { host: 'gw', port: 22, user: 'ops' }],
    ['ansible_ssh_common_args: -J ssh://ops@gw:2201', { host: 'gw', port: 2201, user: 'ops' }],
    ['ansible_ssh_extra_args: -Jgw', { host: 'gw', port: 22, user: 'mail' }],
    [
      `ansible_ssh_common_args: '-o ProxyCommand="ssh -i ~/.ssh/b -l jump -W %h:%p bastion.example"'`,
      { host: 'bastion.example', port: 22, user: 'jump', privateKeyFile: resolve(homedir(), '.ssh/b') },
    ],
  ])('%s', (line, jump) => {
    expect(one(`      ansible_user: mail\n      ${line}\n`).jump).toEqual(jump);
  });

  it('mailsweep_jump overrides ssh args; none means direct', () => {
    expect(one('      ansible_ssh_common_args: -J gw\n      mailsweep_jump: none\n').jump).toBeUndefined();
    expect(one('      ansible_ssh_common_args: -o ProxyJump=none\n').jump).toBeUndefined();
    expect(one('      mailsweep_jump: j@gw\n      mailsweep_jump_key_file: keys/gw\n').jump).toEqual({
      host: 'gw',
      port: 22,
      user: 'j',
      privateKeyFile: '/etc/mailsweep/keys/gw',
    });
  });

  it('ansible_host may reference other vars and magic vars', () => {
    const text = [
      'all:',
      '  vars:',
      '    dc: dc1',
      '    ansible_host: "{{ inventory_hostname_short }}.{{ dc }}.internal"',
      '  hosts:',
      '    mx1.example.com:',
    ].join('\n');
    expect(parseInventory(text, 'i.yaml').hosts[0]?.address).toBe('mx1.dc1.internal');
  });
});

describe('the shipped example', () => {
  it('loads, with per-group thresholds, a jump host and become', async () => {
    const inv = await loadInventory('inventory.example.yaml');
    expect(inv.hosts.length).toBeGreaterThan(5);
    const relay = host(inv, 'relay1.dc2.example.net');
    expect(relay).toMatchObject({ mta: 'qmail', queueWarn: 50, queueCrit: 80, become: false, user: 'root' });
    expect(relay.jump).toMatchObject({ host: 'bastion.dc2.example.net', port: 2222, user: 'jump' });
    expect(host(inv, 'cp1.dc1.example.net').vars.cpanel_token_env).toBe('WHM_TOKEN_DC1');
    expect(host(inv, 'mx1.dc1.example.net')).toMatchObject({ become: true, becomeUser: 'root', user: 'mailsweep' });
  });
});

describe('hosts with connection plugins mailsweep does not have', () => {
  it('still load (the inventory works unchanged) and are marked unsupported', async () => {
    const inv = await loadInventory(fx('winrm.yaml'));
    expect(inv.hosts[0]).toMatchObject({ name: 'win1', connection: 'unsupported' });
    expect(inv.hosts[0]!.vars.ansible_connection).toBe('winrm');
  });
});
