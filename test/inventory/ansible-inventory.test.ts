// The "done when" of issue #13's Ansible part: an Ansible project directory (inventory directory
// with YAML and INI files, group_vars and host_vars as files and directories, group_vars beside
// the playbook, ansible.cfg) resolves to the same hosts and vars as the real `ansible-inventory`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openInventory } from '../../src/inventory/open.js';

const project = resolve('test/fixtures/inventory/ansible-project');
const home = mkdtempSync(join(tmpdir(), 'mailsweep-ansible-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// CI installs Debian's ansible-core (.ci/run); only a developer's machine without it skips.
const present = which('ansible-inventory');
if (!present && process.env.CI)
  throw new Error('ansible-inventory is not installed, and CI must run this test (.ci/run installs ansible-core)');

const env = { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: join(home, 'tmp') };

describe.skipIf(!present)('same hosts and vars as ansible-inventory --list', () => {
  // ansible.cfg in the project names the inventory directory; the project is the playbook dir.
  const out = execFileSync('ansible-inventory', ['--list', '--playbook-dir', project], { cwd: project, env, encoding: 'utf8' });
  const ansible = JSON.parse(out) as { _meta: { hostvars: Record<string, Record<string, unknown>> }; [g: string]: unknown };
  const ours = openInventory({ sshConfig: 'none' }, env, project);

  it('reads the inventory ansible.cfg names, and only what Ansible reads in the directory', () => {
    expect(ours.sources).toEqual([join(project, 'inventory')]);
    expect(ours.inventory.hosts.map((h) => h.name).sort()).toEqual(Object.keys(ansible._meta.hostvars).sort());
  });

  it('every host has exactly the vars Ansible gives it', () => {
    for (const h of ours.inventory.hosts)
      expect({ host: h.name, vars: h.vars }).toEqual({ host: h.name, vars: ansible._meta.hostvars[h.name] });
  });

  it('groups have the same members', () => {
    const members = (g: string): string[] => {
      const e = ansible[g] as { hosts?: string[]; children?: string[] } | undefined;
      return [...(e?.hosts ?? []), ...(e?.children ?? []).flatMap(members)];
    };
    for (const g of ['dc1', 'dc2', 'exim', 'postfix'])
      expect([...ours.inventory.groups[g]!].sort()).toEqual([...new Set(members(g))].sort());
  });

  it('the vars mailsweep acts on come out as Ansible resolved them', () => {
    const mx3 = ours.inventory.hosts.find((h) => h.name === 'mx3.dc1.example.net')!;
    expect([mx3.port, mx3.mta, mx3.queueWarn, mx3.queueCrit, mx3.user]).toEqual([2222, 'postfix', 30, 300, 'deploy']);
    const mx1 = ours.inventory.hosts.find((h) => h.name === 'mx1.dc2.example.net')!;
    // group_vars beside the playbook (the project dir) beat the inventory's own.
    expect([mx1.queueCrit, mx1.vars.level]).toEqual([77, 'dc2-play']);
    expect(ours.settings.forks?.value).toBe(7);
  });

  it("an INI inventory's corners: ranges, ungrouped hosts, comments, quoting, priorities, leading zeros", () => {
    const dir = resolve('test/fixtures/inventory/ansible-ini');
    const theirs = JSON.parse(
      execFileSync('ansible-inventory', ['--list', '-i', 'hosts'], { cwd: dir, env, encoding: 'utf8' }),
    ) as typeof ansible;
    const mine = openInventory({ inventory: join(dir, 'hosts'), sshConfig: 'none' }, env, dir).inventory;
    expect(mine.hosts.map((h) => h.name).sort()).toEqual(Object.keys(theirs._meta.hostvars).sort());
    for (const h of mine.hosts) expect({ host: h.name, vars: h.vars }).toEqual({ host: h.name, vars: theirs._meta.hostvars[h.name] });
    expect(mine.hosts.find((h) => h.name === 'mxa.example.net')).toMatchObject({ become: true, queueCrit: 250 });
  });
});
