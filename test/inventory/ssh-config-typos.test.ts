// ~/.ssh/config host aliases (through the ssh-config parser), and misspelled inventory keys.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openInventory, type InventoryCliOptions } from '../../src/inventory/open.js';
import { parseInventory } from '../../src/inventory/load.js';
import { likelyTypo } from '../../src/inventory/typos.js';
import { editDistance } from '../../src/text/suggest.js';

const root = mkdtempSync(join(tmpdir(), 'mailsweep-sshcfg-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const write = (p: string, text: string): string => {
  const f = join(root, p);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, text);
  return f;
};
const key = write('keys/mx', 'not a real key\n');
const bastionKey = write('keys/bastion', 'not a real key\n');
write('home/.ssh/config.d/10-lab.conf', 'Host included\n  HostName 192.0.2.77\n  User labuser\n');
write('home/.ssh/config.d/.hidden.conf', 'Host included\n  HostName 192.0.2.66\n');
const sshConfig = write(
  'home/.ssh/config',
  `# aliases as an admin writes them
Include config.d/*.conf ~/.ssh/missing.conf
Host mx1
  HostName 192.0.2.10
  User admin
  Port 2201
  IdentityFile ${join(root, 'keys/missing')}
  IdentityFile ${key}
  ProxyJump bastion

Host bastion
  HostName 198.51.100.1
  User jumper
  Port 2022
  IdentityFile ${bastionKey}

Host *.internal
  HostName %h.example.net
  ProxyJump none

Match exec "touch ${join(root, 'pwned')}"
  User pwned

Host *
  User fallback
`,
);
const inv = write(
  'inv.yml',
  `all:
  hosts:
    mx1:
    mx1-explicit:
      ansible_host: mx1
      ansible_user: root
      ansible_port: 22
      ansible_ssh_private_key_file: /keys/inv
    db.internal:
    plain.example.org:
      mailsweep_jump: ops@203.0.113.5
    included:
`,
);
const open = (o: InventoryCliOptions = {}) => openInventory({ inventory: inv, ...o }, { HOME: join(root, 'home') }, root).inventory.hosts;

describe('~/.ssh/config', () => {
  it('a Host alias gives HostName, User, Port, the first IdentityFile that exists, and ProxyJump (itself an alias)', () => {
    expect(open()[0]).toMatchObject({
      name: 'mx1',
      address: '192.0.2.10',
      user: 'admin',
      port: 2201,
      privateKeyFile: key,
      jump: { host: '198.51.100.1', port: 2022, user: 'jumper', privateKeyFile: bastionKey },
    });
  });

  it('inventory vars beat the ssh config, as the -o options Ansible passes beat the file; ansible_host is the alias looked up', () => {
    expect(open()[1]).toMatchObject({ address: '192.0.2.10', user: 'root', port: 22, privateKeyFile: '/keys/inv' });
  });

  it('%h in HostName, ProxyJump none, Host * for the rest; Match exec is never run', () => {
    const hosts = open();
    expect(hosts[2]).toMatchObject({ address: 'db.internal.example.net', user: 'fallback' });
    expect(hosts[2]!.jump).toBeUndefined();
    expect(hosts[3]).toMatchObject({ address: 'plain.example.org', user: 'fallback', jump: { host: '203.0.113.5', user: 'ops' } });
    expect(hosts.some((h) => h.user === 'pwned')).toBe(false);
    expect(existsSync(join(root, 'pwned'))).toBe(false);
  });

  it('Include, relative to ~/.ssh, with globs (hidden files and missing ones passed over)', () => {
    expect(open()[4]).toMatchObject({ name: 'included', address: '192.0.2.77', user: 'labuser' });
  });

  it('-u beats the ssh config User (Ansible passes it as -o User=)', () => {
    expect(open({ user: 'cli' })[0]!.user).toBe('cli');
  });

  it('--ssh-config FILE or none; a missing file named on the command line is an error', () => {
    expect(open({ sshConfig: 'none' })[0]).toMatchObject({ address: 'mx1', user: 'root', port: 22 });
    const other = write('other.conf', 'Host mx1\n  HostName 192.0.2.99\n');
    expect(open({ sshConfig: other })[0]!.address).toBe('192.0.2.99');
    expect(() => open({ sshConfig: join(root, 'nope') })).toThrow(`${join(root, 'nope')}: cannot read ssh config: ENOENT`);
  });
});

describe('misspelled keys', () => {
  const msg = (text: string): string => {
    try {
      parseInventory(text, 'inv.yaml');
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  it('a key one or two edits from a known one is an error naming file, line and the key meant', () => {
    expect(msg('all:\n  vars:\n    quue_crit: 5\n  hosts:\n    mx1:\n')).toBe(
      'inv.yaml:3: groups.all.vars.quue_crit: unknown key "quue_crit": did you mean queue_crit?',
    );
    expect(msg('all:\n  hosts:\n    mx1:\n      ansible_hots: 10.0.0.1\n')).toBe(
      'inv.yaml:4: hosts.mx1.ansible_hots: unknown key "ansible_hots": did you mean ansible_host?',
    );
    expect(msg('all:\n  hosts:\n    mx1:\n      Queue_Warn: 3\n')).toMatch(/did you mean queue_warn\?/);
    expect(msg('all:\n  hosts:\n    mx1:\n      mail_logs: /var/log/x\n')).toMatch(/did you mean mail_log\?/);
    expect(msg('all:\n  hosts:\n    mx1:\n      notify_smtp_hots: smtp\n')).toMatch(/did you mean notify_smtp_host\?/);
  });

  it("other unknown keys stay allowed: they are the playbooks' own vars, and Ansible's", () => {
    const ok = [
      'ntp_server: x',
      'http_port: 80',
      'env: prod',
      'mx: 1',
      'os: debian',
      'ansible_python_interpreter: /usr/bin/python3',
      'ansible_become_method: sudo',
      'ansible_ssh_pipelining: true',
      'ansible_winrm_transport: ntlm',
      'ansible_perl_interpreter: /usr/bin/perl',
      'queue_threshold_note: x',
      'mta_version: 4.96',
      'mtu: 1500',
      'mail_to: ops@example.net',
      'notify_cc: boss@example.net',
    ];
    for (const line of ok) expect(msg(`all:\n  hosts:\n    mx1:\n      ${line}\n`), line).toBe('no error');
  });

  it('edit distance counts a swap of neighbours as one', () => {
    expect(editDistance('ansible_hots', 'ansible_host')).toBe(1);
    expect(editDistance('quue_crit', 'queue_crit')).toBe(1);
    expect(editDistance('abcdef', 'uvwxyz', 2)).toBe(3);
    expect(likelyTypo('mat', ['mta'])).toBe('mta');
    expect(likelyTypo('mtu', ['mta'])).toBeUndefined();
    expect(likelyTypo('mail_to', ['mail_log'])).toBeUndefined();
    expect(likelyTypo('db', ['mta'])).toBeUndefined();
  });
});
