// Ansible's own documentation examples ("Organizing host and group variables", "Passing multiple
// inventory sources", "Inventory directory"), repeated -i, ansible.cfg and the ANSIBLE_* variables.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openInventory, type InventoryCliOptions } from '../../src/inventory/open.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { fleetLimits } from '../../src/commands/scan.js';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** A directory with these files (path → text); a trailing "!x" in the path makes it executable. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mailsweep-ansible-'));
  roots.push(root);
  for (const [p, text] of Object.entries(files)) {
    const exec = p.endsWith('!x');
    const file = join(root, exec ? p.slice(0, -2) : p);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    if (exec) chmodSync(file, 0o755);
  }
  return root;
}

const open = (root: string, o: InventoryCliOptions, env: NodeJS.ProcessEnv = {}) =>
  openInventory({ sshConfig: 'none', ...o }, { HOME: join(root, 'home'), ...env }, root);
const host = (hosts: HostSpec[], name: string): HostSpec => {
  const h = hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no host ${name}`);
  return h;
};
const error = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('Organizing host and group variables (Ansible docs)', () => {
  // /etc/ansible/group_vars/raleigh, group_vars/webservers, host_vars/foosball; raleigh as a directory.
  const root = tree({
    'hosts.yml': `all:
  hosts:
    mail.example.com:
  children:
    webservers:
      hosts:
        foo.example.com:
        bar.example.com:
    raleigh:
      vars: { ntp_server: inventory.example.com, queue_warn: 5 }
      hosts:
        foosball:
        bar.example.com:
`,
    'group_vars/webservers': 'ntp_server: web.example.com\nqueue_warn: 8\n',
    'group_vars/raleigh/db_settings': 'database_server: storage.example.org\n',
    'group_vars/raleigh/cluster_settings.yml': 'ntp_server: acme.example.org\n',
    'group_vars/raleigh.yml': 'ignored: a directory raleigh/ exists, so Ansible reads that alone\n',
    'group_vars/all.yml': 'queue_warn: 9\nqueue_crit: 90\n',
    'host_vars/foosball': 'ntp_server: foosball.example.org\n',
  });
  const { inventory } = open(root, { inventory: join(root, 'hosts.yml') });

  it('group_vars/NAME without extension, a NAME/ directory in file order, host_vars/NAME', () => {
    expect(host(inventory.hosts, 'foosball').vars).toMatchObject({
      ntp_server: 'foosball.example.org',
      database_server: 'storage.example.org',
    });
    expect(host(inventory.hosts, 'foo.example.com').vars.ntp_server).toBe('web.example.com');
    expect(host(inventory.hosts, 'foosball').vars.ignored).toBeUndefined();
  });

  it("group_vars files beat the inventory file's group vars; all < groups; same depth: by name", () => {
    // raleigh's inventory queue_warn 5 loses to group_vars/all.yml (9), as ansible-inventory shows.
    expect(host(inventory.hosts, 'foosball').queueWarn).toBe(9);
    // bar is in raleigh and webservers (same depth): webservers sorts last and wins.
    expect(host(inventory.hosts, 'bar.example.com').vars.ntp_server).toBe('web.example.com');
    expect(host(inventory.hosts, 'bar.example.com').queueWarn).toBe(8);
    expect(host(inventory.hosts, 'mail.example.com').queueCrit).toBe(90);
  });

  it('errors in a vars file name that file and line', () => {
    const bad = tree({ 'inv.yml': 'all:\n  hosts:\n    mx1:\n', 'group_vars/all/10.yml': 'a: 1\nqueue_crit: lots\n' });
    expect(error(() => open(bad, { inventory: join(bad, 'inv.yml') }))).toBe(
      `${join(bad, 'group_vars/all/10.yml')}:2: queue_crit: expected a non-negative integer, got "lots"`,
    );
    const secret = tree({ 'inv.yml': 'all:\n  hosts:\n    mx1:\n', 'host_vars/mx1.yml': 'ansible_become_password: hunter2\n' });
    const m = error(() => open(secret, { inventory: join(secret, 'inv.yml') }));
    expect(m).toMatch(/host_vars\/mx1\.yml:1: ansible_become_password: looks like a secret/);
    expect(m).not.toContain('hunter2');
  });

  it('a vault-encrypted vars file is passed over (its vars are secrets mailsweep never needs)', () => {
    const r = tree({
      'inv.yml': 'all:\n  hosts:\n    mx1:\n',
      'group_vars/all/vault.yml': '$ANSIBLE_VAULT;1.1;AES256\n6134\n',
      'group_vars/all/main.yml': 'queue_warn: 3\n',
    });
    expect(open(r, { inventory: join(r, 'inv.yml') }).inventory.hosts[0]!.queueWarn).toBe(3);
  });
});

describe('Inventory directory and several sources (Ansible docs)', () => {
  // inventory/ with a YAML file, an INI file with groups of groups, and files Ansible skips.
  const root = tree({
    'inventory/01-openstack.yml': 'all:\n  children:\n    webservers:\n      hosts:\n        web1.example.com:\n',
    'inventory/02-on-prem': '[webservers]\nweb2.example.com ansible_port=2222 http_port=8080\n\n[dbservers]\ndb1.example.com\n',
    'inventory/03-parent-groups': '[prod:children]\nwebservers\ndbservers\n\n[prod:vars]\nqueue_warn=7\nenv_name="production site"\n',
    'inventory/README.md': 'not an inventory\n',
    'inventory/old.ini': '[x]\nnot-read\n',
    'inventory/site.retry': 'web1.example.com\n',
    'inventory/.git/config': '[core]\n',
    'inventory/group_vars/prod.yml': 'queue_crit: 70\n',
    'more.yml':
      'all:\n  children:\n    webservers:\n      vars: { queue_warn: 11 }\n      hosts:\n        web3.example.com:\n        web1.example.com: { ansible_host: 192.0.2.1 }\n',
  });

  it('every inventory file in the directory, INI included; .md, .ini, .retry and hidden skipped', () => {
    const { inventory } = open(root, { inventory: join(root, 'inventory') });
    expect(inventory.hosts.map((h) => h.name)).toEqual(['web1.example.com', 'web2.example.com', 'db1.example.com']);
    const web2 = host(inventory.hosts, 'web2.example.com');
    expect([web2.port, web2.vars.http_port, web2.queueWarn, web2.queueCrit, web2.vars.env_name]).toEqual([
      2222,
      8080,
      7,
      70,
      'production site',
    ]);
    expect(web2.groups).toEqual(['all', 'prod', 'webservers']);
    expect(web2.source.file).toBe(join(root, 'inventory/02-on-prem'));
  });

  it('repeated -i merges in order: a later source adds hosts and overrides vars', () => {
    const { inventory } = open(root, { inventory: [join(root, 'inventory'), join(root, 'more.yml')] });
    expect(inventory.hosts.map((h) => h.name)).toEqual(['web1.example.com', 'web2.example.com', 'db1.example.com', 'web3.example.com']);
    expect(host(inventory.hosts, 'web1.example.com').address).toBe('192.0.2.1');
    // webservers' queue_warn 11 (inventory) is below prod's group_vars? no: prod is the parent; webservers is deeper and wins.
    expect(host(inventory.hosts, 'web3.example.com').queueWarn).toBe(11);
    // group_vars beside the first source apply to hosts from the second.
    expect(host(inventory.hosts, 'web3.example.com').queueCrit).toBe(70);
  });

  it('a "host1,host2," list, as ansible -i', () => {
    const { inventory } = open(root, { inventory: 'mx1.example.com,mx2.example.com:2200,' });
    expect(inventory.hosts.map((h) => [h.name, h.port, h.groups])).toEqual([
      ['mx1.example.com', 22, ['all', 'ungrouped']],
      ['mx2.example.com', 2200, ['all', 'ungrouped']],
    ]);
  });

  it('what mailsweep cannot read is named, never skipped', () => {
    const script = tree({ 'inv/02-dynamic.py!x': '#!/usr/bin/env python3\nprint("{}")\n' });
    expect(error(() => open(script, { inventory: join(script, 'inv') }))).toMatch(
      /02-dynamic\.py:1: a dynamic inventory script: mailsweep does not run it/,
    );
    const plugin = tree({ 'inv/aws_ec2.yml': 'plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n' });
    expect(error(() => open(plugin, { inventory: join(plugin, 'inv') }))).toMatch(/aws_ec2\.yml:1: an inventory plugin configuration/);
    expect(error(() => open(root, { inventory: join(root, 'nope') }))).toBe(
      `${join(root, 'nope')}: cannot read inventory: no such file or directory`,
    );
    const empty = tree({ 'inv/README.md': 'x\n', 'inv/group_vars/all.yml': 'a: 1\n' });
    expect(error(() => open(empty, { inventory: join(empty, 'inv') }))).toMatch(/inv: no inventory file in this directory/);
    const ini = tree({ hosts: '[web]\nweb1 ansible_port=22 broken\n' });
    expect(error(() => open(ini, { inventory: join(ini, 'hosts') }))).toBe(
      `${join(ini, 'hosts')}:2: host web1: expected key=value after the host name, got "broken"`,
    );
  });
});

describe('ansible.cfg and ANSIBLE_* variables', () => {
  const files = {
    'inv-cfg.yml': 'all:\n  hosts:\n    from-cfg:\n',
    'inv-env.yml': 'all:\n  hosts:\n    from-env:\n',
    'inv-ms.yml': 'all:\n  hosts:\n    from-mailsweep-env:\n',
    'inv-home.yml': 'all:\n  hosts:\n    from-home-cfg:\n',
    'ansible.cfg':
      '[defaults]\ninventory = inv-cfg.yml\nforks = 12\ntimeout = 4\nremote_user = cfguser\nprivate_key_file = keys/id\n\n[privilege_escalation]\nbecome = True\n',
    'home/.ansible.cfg': '[defaults]\ninventory = ../inv-home.yml\nforks = 3\n',
    'other/x.cfg': '[defaults]\ninventory = ../inv-home.yml\n',
  };
  const root = tree(files);
  const names = (env: NodeJS.ProcessEnv = {}, o: InventoryCliOptions = {}, cwd = root) =>
    openInventory({ sshConfig: 'none', ...o }, { HOME: join(root, 'home'), ...env }, cwd).inventory.hosts.map((h) => h.name);

  it('sources: -i, then $MAILSWEEP_INVENTORY, $ANSIBLE_INVENTORY, ./inventory.yaml, ansible.cfg', () => {
    expect(names({}, { inventory: join(root, 'inv-env.yml') })).toEqual(['from-env']);
    expect(names({ MAILSWEEP_INVENTORY: join(root, 'inv-ms.yml'), ANSIBLE_INVENTORY: join(root, 'inv-env.yml') })).toEqual([
      'from-mailsweep-env',
    ]);
    expect(names({ ANSIBLE_INVENTORY: `${join(root, 'inv-env.yml')},${join(root, 'inv-ms.yml')}` })).toEqual([
      'from-env',
      'from-mailsweep-env',
    ]);
    expect(names()).toEqual(['from-cfg']);
    // An existing mailsweep setup never changes: ./inventory.yaml still beats Ansible's settings.
    const both = tree({
      'ansible.cfg': '[defaults]\ninventory = a.yml\n',
      'a.yml': 'all:\n  hosts:\n    from-cfg:\n',
      'inventory.yaml': 'all:\n  hosts:\n    from-default:\n',
    });
    expect(open(both, {}).inventory.hosts.map((h) => h.name)).toEqual(['from-default']);
    // An explicit $ANSIBLE_INVENTORY beats a file found by looking around.
    expect(open(both, {}, { ANSIBLE_INVENTORY: join(both, 'a.yml') }).inventory.hosts.map((h) => h.name)).toEqual(['from-cfg']);
    // A named inventory that is missing is an error, never another inventory scanned instead.
    expect(() => open(both, {}, { MAILSWEEP_INVENTORY: join(both, 'typo.yaml') })).toThrow(
      /\$MAILSWEEP_INVENTORY: .*typo\.yaml: no such file/,
    );
  });

  it("the config file in Ansible's order: $ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg; paths relative to it", () => {
    expect(names({ ANSIBLE_CONFIG: join(root, 'other/x.cfg') })).toEqual(['from-home-cfg']);
    const elsewhere = join(root, 'home');
    expect(names({}, {}, elsewhere)).toEqual(['from-home-cfg']);
    const o = open(root, {});
    expect(o.settings.forks).toEqual({ value: 12, from: `${join(root, 'ansible.cfg')}:3: forks` });
    expect(o.settings.timeout?.value).toBe(4);
    expect(o.inventory.hosts[0]).toMatchObject({ user: 'cfguser', privateKeyFile: join(root, 'keys/id'), become: true });
  });

  it('./ansible.cfg in a world-writable directory is ignored, as Ansible does', () => {
    const w = tree({ 'ansible.cfg': '[defaults]\ninventory = a.yml\n', 'a.yml': 'all:\n  hosts:\n    planted:\n' });
    expect(open(w, {}).inventory.hosts.map((h) => h.name)).toEqual(['planted']);
    chmodSync(w, 0o777);
    expect(error(() => open(w, {}))).toMatch(/^no inventory: pass -i/);
    chmodSync(w, 0o700);
  });

  it('command line beats environment beats ansible.cfg; inventory vars beat them all, as in Ansible', () => {
    const env = { ANSIBLE_REMOTE_USER: 'envuser', ANSIBLE_FORKS: '20', ANSIBLE_PRIVATE_KEY_FILE: '/keys/env' };
    expect(open(root, {}, env).inventory.hosts[0]).toMatchObject({ user: 'envuser', privateKeyFile: '/keys/env' });
    expect(open(root, {}, env).settings.forks?.value).toBe(20);
    expect(open(root, { user: 'cli', privateKey: '/keys/cli' }, env).inventory.hosts[0]).toMatchObject({
      user: 'cli',
      privateKeyFile: '/keys/cli',
    });
    const own = tree({ 'i.yml': 'all:\n  vars: { ansible_user: invuser, ansible_become: false }\n  hosts:\n    mx1:\n' });
    expect(open(own, { inventory: join(own, 'i.yml'), user: 'cli', become: true }).inventory.hosts[0]).toMatchObject({
      user: 'invuser',
      become: false,
    });
  });

  it('bad values name the file and line', () => {
    const bad = tree({ 'ansible.cfg': '[defaults]\nforks = many\n', 'inventory.yaml': 'all:\n  hosts:\n    mx1:\n' });
    expect(error(() => open(bad, {}))).toBe(`${join(bad, 'ansible.cfg')}:2: forks: expected a whole number >= 1, got "many"`);
    expect(error(() => open(bad, {}, { ANSIBLE_FORKS: '0' }))).toBe('$ANSIBLE_FORKS: expected a whole number >= 1, got "0"');
    const syntax = tree({ 'ansible.cfg': '[defaults]\nthis is not ini\n', 'inventory.yaml': 'all:\n  hosts:\n    mx1:\n' });
    expect(error(() => open(syntax, {}))).toBe(
      `${join(syntax, 'ansible.cfg')}:2: expected "key = value" or "[section]", got "this is not ini"`,
    );
  });
});

describe('forks and connect timeout: flag, else ansible.cfg / ANSIBLE_*, else the default', () => {
  const cfg = { forks: { value: 12, from: 'ansible.cfg:3: forks' }, timeout: { value: 4, from: 'ansible.cfg:4: timeout' } };

  it('the flag wins; then the setting; then 50 and min(timeout, 10)', () => {
    expect(fleetLimits({ forks: '3', connectTimeout: '2' }, cfg, 30)).toEqual({ forks: 3, connectS: 2 });
    expect(fleetLimits({}, cfg, 30)).toEqual({ forks: 12, connectS: 4 });
    expect(fleetLimits({}, {}, 30)).toEqual({ forks: 50, connectS: 10 });
    expect(fleetLimits({}, {}, 5)).toEqual({ forks: 50, connectS: 5 });
  });

  it('an out-of-range setting names where it is written', () => {
    expect(() => fleetLimits({}, { forks: { value: 5000, from: 'ansible.cfg:3: forks' } }, 30)).toThrow(
      'ansible.cfg:3: forks: must be a whole number from 1 to 1000, got 5000',
    );
  });
});
