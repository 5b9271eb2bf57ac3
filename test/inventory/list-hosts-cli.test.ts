// --list-hosts through the built CLI (npm test builds dist first): what a run would reach, from an
// Ansible project as Ansible would find it; --vars redacts secrets; nothing is contacted.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'mailsweep-listhosts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const write = (p: string, text: string): void => {
  mkdirSync(dirname(join(root, p)), { recursive: true });
  writeFileSync(join(root, p), text);
};
write('ansible.cfg', '[defaults]\ninventory = hosts\nremote_user = deploy\n');
write('hosts', '[exim]\nmx1.example.net\nmx2.example.net ansible_host=192.0.2.2\n\n[postfix]\nmx3.example.net\n');
write('extra.yml', 'all:\n  hosts:\n    mx4.example.net:\n      ansible_become_password: "{{ vault_sudo }}"\n      note: "\u202eevil"\n');
write('group_vars/exim.yml', 'queue_warn: 5\nmta: exim\n');
write('home/.ssh/config', 'Host mx3.example.net\n  HostName 192.0.2.3\n  Port 2203\n');
write('bad.yml', 'all:\n  hosts:\n    mx1:\n      quue_crit: 3\n');

const cli = resolve('dist/cli.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: join(root, 'home'), CI: 'true' },
  });

describe('mailsweep scan --list-hosts', () => {
  it("prints the hosts one per line and exits 0, from ansible.cfg's inventory (INI) with --limit", () => {
    const r = run('scan', '--list-hosts');
    expect([r.status, r.stdout, r.stderr]).toEqual([0, 'mx1.example.net\nmx2.example.net\nmx3.example.net\n', '']);
    expect(run('scan', '--list-hosts', '-l', 'exim').stdout).toBe('mx1.example.net\nmx2.example.net\n');
  });

  it('repeated -i merges; --vars shows resolved connection vars, group_vars and ssh config applied, secrets redacted', () => {
    const r = run('scan', '-i', 'hosts', '-i', 'extra.yml', '--list-hosts', '--vars', '-b');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
    expect(Object.keys(out)).toEqual(['mx1.example.net', 'mx2.example.net', 'mx3.example.net', 'mx4.example.net']);
    expect(out['mx1.example.net']).toMatchObject({ address: 'mx1.example.net', user: 'deploy', become: true, mta: 'exim', queueWarn: 5 });
    expect(out['mx3.example.net']).toMatchObject({ address: '192.0.2.3', port: 2203 });
    expect(r.stdout).not.toContain('vault_sudo');
    expect((out['mx4.example.net']!.vars as Record<string, unknown>).ansible_become_password).toBe('[redacted]');
    expect(r.stdout).not.toContain('\u202e');
    expect(r.stdout).toContain('\\u202eevil');
  });

  it('a misspelled key is exit 3 with file, line and the key meant; --vars alone is a usage error', () => {
    const r = run('scan', '-i', 'bad.yml', '--list-hosts');
    expect(r.status).toBe(3);
    expect(r.stderr).toBe('mailsweep: error: bad.yml:4: hosts.mx1.quue_crit: unknown key "quue_crit": did you mean queue_crit?\n');
    const v = run('scan', '--vars');
    expect([v.status, v.stderr]).toEqual([3, 'mailsweep: error: --vars: only with --list-hosts\n']);
  });

  it('report takes the same inventory options', () => {
    const r = run('report', '--list-hosts', '-l', 'postfix', '--ssh-config', 'none');
    expect([r.status, r.stdout]).toEqual([0, 'mx3.example.net\n']);
  });
});
