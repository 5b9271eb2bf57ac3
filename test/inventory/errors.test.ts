import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadInventory, parseInventory } from '../../src/inventory/load.js';

const dir = 'test/fixtures/inventory/errors';

async function messageOf(name: string): Promise<string> {
  const err = await loadInventory(join(dir, name)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).message;
}

// Each fixture, and the exact "file:line: path: message" it must produce.
const cases: [string, string][] = [
  ['bad-port.yaml', '12: hosts.mx1.ansible_port: expected an integer 1-65535, got "abc"'],
  ['syntax.yaml', '4: YAML syntax error: Missing closing "quote'],
  ['empty.yaml', '1: the inventory is empty; expected a mapping that starts with "all:" (with hosts, vars, children)'],
  ['top-list.yaml', '1: expected a mapping of group names at the top level (normally "all:"), got a list'],
  [
    'hosts-list.yaml',
    '4: all.children.mail.hosts: expected a mapping of host names to their variables, got a list; ' +
      'write each host as a key ending in a colon ("mx1.example.com:"), not as a list item ("- mx1.example.com")',
  ],
  ['duplicate-key.yaml', '6: duplicate key "mx1" (first at line 3); YAML keeps only one of them'],
  ['no-name.yaml', '4: all.hosts: a host has no name or address'],
  ['empty-address.yaml', '4: hosts.mx1.ansible_host: expected a host name or IP address, got null'],
  [
    'user-at-host.yaml',
    '4: hosts.mx1.ansible_host: "root@192.0.2.1" is not a host name or IP address (set the login with ansible_user, not user@host)',
  ],
  ['host-space.yaml', '3: all.hosts."mx1 mx2": a host name cannot contain spaces (did you forget a colon?)'],
  ['bad-range.yaml', '3: all.hosts.mx[10:01]: host range [10:01] runs backwards'],
  ['bad-mta.yaml', '5: groups.dc1.vars.mta: expected one of sendmail, exim, postfix, qmail or auto, got "exchange"'],
  ['bad-become.yaml', '3: groups.all.vars.ansible_become: expected a boolean (true/false, yes/no), got "maybe"'],
  ['negative-warn.yaml', '4: hosts.mx1.queue_warn: expected a non-negative integer, got -5'],
  [
    'crit-below-warn.yaml',
    '8: hosts.mx1.queue_crit: 150 is below queue_warn 200 (groups.all.vars.queue_warn, line 3) for host mx1; queue_crit must be >= queue_warn',
  ],
  [
    'warn-above-default-crit.yaml',
    '5: groups.dc1.vars.queue_warn: 500 is above queue_crit 100 (the default) for host mx1; queue_crit must be >= queue_warn',
  ],
  [
    'group-typo.yaml',
    '4: all.children.dc1.host: unexpected key: a group has only "hosts:", "vars:" and "children:" (if "host" is a host put it under "hosts:", if it is a group under "children:")',
  ],
  [
    'children-list.yaml',
    '2: all.children: expected a mapping of group names to groups, got a list; write each child group as a key ending in a colon ("dc1:")',
  ],
  ['vars-list.yaml', '2: all.vars: expected a mapping of variable names to values, got a list'],
  [
    'host-scalar.yaml',
    '3: hosts.mx1: expected a mapping of host variables or nothing, got a string "10.0.0.1" (to give an address write "mx1: { ansible_host: 10.0.0.1 }")',
  ],
  ['loop.yaml', '8: groups.b.children.a: group loop: a → b → a'],
  [
    'ini.yaml',
    '1: this looks like an INI inventory in a file named as YAML/JSON (Ansible reads such files only as YAML): rename it without the extension, or convert it with "ansible-inventory -i FILE --list -y > inventory.yaml"',
  ],
  [
    'bad-jump.yaml',
    '3: groups.all.vars.ansible_ssh_common_args: ProxyCommand "nc -X connect -x proxy:3128 %h %p" is not supported (only "ssh -W %h:%p user@bastion"); set mailsweep_jump: user@host:port, or mailsweep_jump: none',
  ],
  [
    'bad-template.yaml',
    `4: hosts.mx1.ansible_host: only plain "{{ variable }}" references are supported here, got "{{ inventory_hostname | regex_replace('mx', 'smtp') }}"`,
  ],
  ['undefined-var.yaml', '4: hosts.mx1.ansible_host: template uses undefined variable "dc_domain"'],
];

describe('inventory errors name file, line and field', () => {
  it.each(cases)('%s', async (name, expected) => {
    expect(await messageOf(name)).toBe(`${join(dir, name)}:${expected}`);
  });
});

describe('secrets', () => {
  it.each([
    ['secret-token.yaml', '6: groups.dc1.vars.cpanel_token:', 'S3CRETVALUE123', 'cpanel_token_env: CPANEL_TOKEN or cpanel_token_file:'],
    ['secret-password.yaml', '5: hosts.mx1.ansible_ssh_pass:', 'hunter2', 'SSH keys'],
    ['secret-nested.yaml', '3: groups.all.vars.whm.api_secret:', 'DEADBEEF', 'api_secret_env'],
  ])('%s is rejected without echoing the value', async (name, where, value, hint) => {
    const msg = await messageOf(name);
    expect(msg.startsWith(`${join(dir, name)}:${where} looks like a secret`)).toBe(true);
    expect(msg).toContain('secrets belong in the environment or a file');
    expect(msg).toContain(hint);
    expect(msg).not.toContain(value);
  });

  it('accepts vault values, templates, *_env / *_file names, and empty values', () => {
    const inv = parseInventory(
      [
        'all:',
        '  vars:',
        '    cpanel_token_env: WHM_TOKEN_DC1',
        '    cpanel_token_file: /etc/mailsweep/whm.token',
        '    ansible_become_pass: "{{ vault_become_pass }}"',
        '    vault_become_pass: !vault |',
        '      $ANSIBLE_VAULT;1.1;AES256',
        '      3132',
        '    smtp_password: ""',
        '    use_token: true',
        '  hosts:',
        '    mx1:',
      ].join('\n'),
      'inventory.yaml',
    );
    expect(inv.hosts[0]?.vars.cpanel_token_env).toBe('WHM_TOKEN_DC1');
    expect(String(inv.hosts[0]?.vars.vault_become_pass)).toBe('[vault]');
    expect(JSON.stringify(inv.hosts[0]?.vars)).not.toContain('3132');
  });
});

describe('other load errors', () => {
  it('a missing file', async () => {
    await expect(loadInventory(join(dir, 'nope.yaml'))).rejects.toThrow(`${join(dir, 'nope.yaml')}: cannot read inventory: no such file`);
  });

  it('names the file as given', () => {
    expect(() => parseInventory('all:\n  hosts:\n    mx1: { ansible_port: 0 }\n', 'inventory.yaml')).toThrow(
      'inventory.yaml:3: hosts.mx1.ansible_port: expected an integer 1-65535, got 0',
    );
  });

  it('checks a group var even when every host overrides it', () => {
    expect(() => parseInventory('all:\n  vars:\n    ansible_port: 70000\n  hosts:\n    mx1: { ansible_port: 22 }\n', 'i.yaml')).toThrow(
      'i.yaml:3: groups.all.vars.ansible_port: expected an integer 1-65535, got 70000',
    );
  });

  it('checks a templated value once resolved, at the line that wrote it', () => {
    const text = 'all:\n  vars:\n    ssh_port: nope\n  hosts:\n    mx1:\n      ansible_port: "{{ ssh_port }}"\n';
    expect(() => parseInventory(text, 'i.yaml')).toThrow('i.yaml:6: hosts.mx1.ansible_port: expected an integer 1-65535, got "nope"');
  });

  it('a multi-hop ProxyJump', () => {
    const text = 'all:\n  hosts:\n    mx1:\n      ansible_ssh_common_args: "-J a@b,c@d"\n';
    expect(() => parseInventory(text, 'i.yaml')).toThrow(
      'i.yaml:4: hosts.mx1.ansible_ssh_common_args: several jump hosts (ProxyJump a@b,c@d) are not supported; set mailsweep_jump to one',
    );
  });

  it('a bad mailsweep_jump', () => {
    expect(() => parseInventory('all:\n  hosts:\n    mx1:\n      mailsweep_jump: "a@b:99999"\n', 'i.yaml')).toThrow(
      'i.yaml:4: hosts.mx1.mailsweep_jump: jump host port must be 1-65535, got 99999',
    );
  });
});
