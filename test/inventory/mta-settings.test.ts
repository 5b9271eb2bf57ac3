// The MTA settings (mail_log, queue_directory, spool_directory, config_directory, qmail_dir,
// mta_pid_file, qmail_smtpd_uids) are checked when the inventory loads and resolved once into the
// host context every command builder reads (src/mta/host.ts).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseInventory } from '../../src/inventory/load.js';
import { mtaHost } from '../../src/mta/host.js';
import { ADAPTERS } from '../../src/mta/index.js';

const inv = (key: string, value: string) => `all:\n  hosts:\n    mx1:\n      ${key}: ${value}\n`;

describe('MTA settings are checked when the inventory loads', () => {
  it.each([
    ['queue_directory', 'var/spool/postfix', 'expected an absolute path'],
    ['spool_directory', '""', 'expected an absolute path'],
    ['config_directory', '[/etc/postfix]', 'expected an absolute path'],
    ['qmail_dir', '"/var/qmail\\nrm -rf /"', 'expected an absolute path'],
    ['mail_log', 'mail.log', 'expected an absolute path or a list of them'],
    ['mail_log', '[/var/log/mail.log, maillog]', 'mail_log[1]: expected an absolute path or a list of them'],
    ['mta_pid_file', '42', 'expected an absolute path'],
    ['qmail_smtpd_uids', '[89, "007"]', 'qmail_smtpd_uids[1]: expected a list of numeric uids'],
    ['configDir', 'etc/postfix-out', 'expected an absolute path'],
  ])('%s: %s', (key, value, says) => {
    const text = inv(key, value);
    expect(() => parseInventory(text, 'inv.yaml')).toThrow(ConfigError);
    expect(() => parseInventory(text, 'inv.yaml')).toThrow(`inv.yaml:4: hosts.mx1.${key}`);
    expect(() => parseInventory(text, 'inv.yaml')).toThrow(says);
  });

  it('good values load and resolve into the host context, old spellings included', () => {
    const text = `all:\n  vars:\n    mail_log: /var/log/exim/main.log\n  hosts:\n    mx1:\n      configDir: /etc/postfix-out\n      qmail_dir: /srv/qmail/\n      qmail_smtpd_uids: "89, 1001"\n`;
    const h = parseInventory(text, 'inv.yaml').hosts[0]!;
    const ctx = mtaHost('/usr/sbin/postqueue', h.vars);
    expect(ctx).toMatchObject({
      binary: '/usr/sbin/postqueue',
      mailLog: ['/var/log/exim/main.log'],
      configDirectory: '/etc/postfix-out',
      qmailDir: '/srv/qmail',
      qmailSmtpdUids: ['89', '1001'],
      problems: [],
    });
    expect(Object.isFrozen(ctx)).toBe(true);
  });
});

describe('each adapter builds its commands from the one host context', () => {
  const ctx = mtaHost('/opt/mta x/sbin/tool', {
    config_directory: '/etc/post fix',
    queue_directory: '/q d',
    spool_directory: '/s d',
    qmail_dir: '/qm',
    mail_log: ['/l 1', '/l 2'],
  });

  it('postfix: every tool from the binary directory, with -c on each', () => {
    const cmds = [
      ADAPTERS.postfix.queue(ctx).command,
      ADAPTERS.postfix.attributedQueue(ctx).command,
      ADAPTERS.postfix.ops.restart(ctx).command,
      ADAPTERS.postfix.headersCommand(ctx, 'ABCDEF123')!,
    ];
    // The tools and -c DIR are script settings (scripts/tool.sh runs each tool with -c DIR; the
    // stub tests in test/mta/postfix.test.ts and attribution.test.ts check the argv they get).
    for (const c of cmds.slice(0, 3)) expect(c).toContain("MS_CONFIG_DIR='/etc/post fix'");
    expect(cmds[0]).toContain("MS_POSTQUEUE='/opt/mta x/sbin/postqueue'");
    expect(cmds[1]).toContain("MS_POSTCAT='/opt/mta x/sbin/postcat'");
    expect(cmds[1]).toContain("MS_QD='/q d'");
    expect(cmds[2]).toContain("MS_POSTFIX='/opt/mta x/sbin/postfix'");
    expect(cmds[3]).toBe("'/opt/mta x/sbin/postcat' -c '/etc/post fix' -h -q ABCDEF123");
  });

  it('exim and sendmail read the spool, queue and log settings; headers only for their own id shapes', () => {
    expect(ADAPTERS.exim.attributedQueue(ctx).command).toContain("\nMS_SPOOL='/s d'\n");
    expect(ADAPTERS.sendmail.attributedQueue(ctx).command).toContain("MS_LOGS='/l 1\n/l 2'");
    expect(ADAPTERS.sendmail.headersCommand(ctx, '6AN4loPM020741')).toContain("'/q d/qf6AN4loPM020741'");
    for (const [mta, id] of [
      ['exim', '1xVLyY-0005n4-1b;id'],
      ['postfix', '$(id)'],
      ['sendmail', '../../etc/passwd'],
      ['qmail', '1234'],
    ] as const)
      expect(ADAPTERS[mta].headersCommand(ctx, id)).toBeNull();
  });

  it('a context built in code with a bad value leaves it out and says so', () => {
    const h = mtaHost(undefined, { queue_directory: 'relative', qmail_smtpd_uids: ['$(id)'] });
    expect(h.queueDirectory).toBeUndefined();
    expect(h.problems).toEqual([expect.stringMatching(/^queue_directory: /), expect.stringMatching(/^qmail_smtpd_uids: /)]);
  });
});
