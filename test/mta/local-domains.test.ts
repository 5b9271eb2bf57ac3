// The host's own domains from the MTA's configuration: list syntax per MTA, lookups listed in a
// second round trip (run here through the real /bin/sh), and "unknown" whenever a list cannot be
// enumerated — then no domain is proven foreign.
import { ADAPTERS } from '../../src/mta/index.js';
import { mtaHost } from '../../src/mta/host.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyFetched,
  fetchListsCommand,
  fetchListsStdin,
  isLocalDomain,
  localDomainsCommand,
  parseConfiguredLists,
  provenForeign,
  readLocalDomains,
} from '../../src/mta/local-domains.js';

const end = '__MAILSWEEP_LD__ end';
const sh = (cmd: string, stdin = '') => {
  try {
    return { stdout: execFileSync('/bin/sh', ['-c', cmd], { input: stdin }).toString(), code: 0 };
  } catch (e) {
    const x = e as { stdout?: Buffer; status?: number };
    return { stdout: x.stdout?.toString() ?? '', code: x.status ?? 1 };
  }
};

describe('exim', () => {
  it('Debian: @, localhost and literal domains', () => {
    const out = [
      '__MAILSWEEP_LD__ exim',
      'primary_hostname = mx1.example.net',
      'domainlist local_domains = @:localhost:example.test:shop.test',
      'domainlist relay_to_domains = ',
      end,
    ].join('\n');
    const { ld, fetch } = parseConfiguredLists(ADAPTERS.exim.localDomains, out);
    expect([...ld.exact].sort()).toEqual(['example.test', 'localhost', 'mx1.example.net', 'shop.test']);
    expect(fetch).toEqual([]);
    expect(ld.unknown).toEqual([]);
    expect(provenForeign(ld, 'far.invalid')).toBe(true);
    expect(provenForeign(ld, 'Example.TEST')).toBe(false);
  });

  it('cPanel: lsearch and dsearch lookups are fetched, wildcards become suffixes, regexes make it unknown', () => {
    const out = [
      '__MAILSWEEP_LD__ exim',
      'primary_hostname = server.host.invalid',
      'domainlist local_domains = <; @ ; lsearch;;/etc/localdomains ; dsearch;;/etc/exim/virtual ; *.hosted.example ; /etc/exim/more-domains',
      'domainlist relay_to_domains = lsearch;/etc/secondarymx',
      '__MAILSWEEP_LD__ file /etc/localdomains',
      'customer-one.example',
      'customer-two.example',
      '__MAILSWEEP_LD__ file /etc/virtualdomains',
      'customer-one.example: cust1',
      '# comment',
      end,
    ].join('\n');
    const lists = parseConfiguredLists(ADAPTERS.exim.localDomains, out);
    expect(lists.fetch).toEqual([
      { how: 'keys', path: '/etc/localdomains' },
      { how: 'dir', path: '/etc/exim/virtual' },
      { how: 'items', path: '/etc/exim/more-domains' },
      { how: 'keys', path: '/etc/secondarymx' },
    ]);
    expect(lists.ld.exact.has('customer-two.example')).toBe(true);
    expect(isLocalDomain(lists.ld, 'mail.hosted.example')).toBe(true);
    expect(isLocalDomain(lists.ld, 'hosted.example')).toBe(false);
    const withRegex = parseConfiguredLists(ADAPTERS.exim.localDomains, out.replace('*.hosted.example', '^.*\\.example$'));
    expect(withRegex.ld.unknown).toEqual(['^.*\\.example$']);
    expect(provenForeign(withRegex.ld, 'far.invalid')).toBe(false);
  });

  it('an exim that does not report its lists leaves foreignness unknown', () => {
    const { ld } = parseConfiguredLists(ADAPTERS.exim.localDomains, ['__MAILSWEEP_LD__ exim', 'exim: permission denied', end].join('\n'));
    expect(ld.unknown.length).toBeGreaterThan(0);
    expect(provenForeign(ld, 'far.invalid')).toBe(false);
  });

  it('cut-off output (no end marker) is unknown, never "nothing is local"', () => {
    const { ld } = parseConfiguredLists(ADAPTERS.exim.localDomains, '__MAILSWEEP_LD__ exim\nprimary_hostname = a.b\n');
    expect(provenForeign(ld, 'far.invalid')).toBe(false);
  });
});

describe('postfix', () => {
  it('expanded lists; hash tables fetched with postmap; SQL tables unknown; relay_domains cover subdomains', () => {
    const out = [
      '__MAILSWEEP_LD__ postfix',
      'mydestination = mx.example.net, localhost.example.net, localhost, /etc/postfix/local-domains',
      'virtual_mailbox_domains = hash:/etc/postfix/vmailbox_domains',
      'virtual_alias_domains = ',
      'relay_domains = backup.example',
      end,
    ].join('\n');
    const lists = parseConfiguredLists(ADAPTERS.postfix.localDomains, out);
    expect(lists.fetch).toEqual([
      { how: 'items', path: '/etc/postfix/local-domains', subdomains: false },
      { how: 'postmap', path: 'hash:/etc/postfix/vmailbox_domains', subdomains: false },
    ]);
    expect(isLocalDomain(lists.ld, 'sub.backup.example')).toBe(true);
    expect(lists.ld.unknown).toEqual([]);
    const sql = parseConfiguredLists(
      ADAPTERS.postfix.localDomains,
      out.replace('hash:/etc/postfix/vmailbox_domains', 'proxy:mysql:/etc/postfix/mysql-domains.cf'),
    );
    expect(sql.ld.unknown).toEqual(['proxy:mysql:/etc/postfix/mysql-domains.cf']);
  });

  it('without postconf -x (old postfix), $myhostname and $mydomain are expanded from their values', () => {
    const out = [
      '__MAILSWEEP_LD__ postfix',
      'mydestination = $myhostname, localhost.$mydomain',
      'myhostname = mx.old.example',
      'mydomain = old.example',
      end,
    ].join('\n');
    expect([...parseConfiguredLists(ADAPTERS.postfix.localDomains, out).ld.exact].sort()).toEqual([
      'localhost.old.example',
      'mx.old.example',
    ]);
  });
});

describe('sendmail', () => {
  it('class w and R from sendmail -bt, address literals left out', () => {
    const out = [
      '__MAILSWEEP_LD__ sendmail',
      'ADDRESS TEST MODE (ruleset 3 NOT automatically invoked)',
      'Enter <ruleset> <address>',
      '> [192.0.2.7]',
      'shop.test',
      'localhost',
      'mx3',
      '> relay-only.example',
      '> ',
      end,
    ].join('\n');
    const { ld } = parseConfiguredLists(ADAPTERS.sendmail.localDomains, out);
    expect([...ld.exact].sort()).toEqual(['localhost', 'mx3', 'relay-only.example', 'shop.test']);
    expect(ld.unknown).toEqual([]);
  });

  it('a failed sendmail -bt is unknown', () => {
    const { ld } = parseConfiguredLists(
      ADAPTERS.sendmail.localDomains,
      ['__MAILSWEEP_LD__ sendmail', 'sh: sendmail: not found', end].join('\n'),
    );
    expect(ld.unknown.length).toBe(1);
  });
});

describe('qmail', () => {
  it('locals, virtualdomains (domain:prefix, .suffix), rcpthosts; a catch-all virtual domain is unknown', () => {
    const out = [
      '__MAILSWEEP_LD__ file /var/qmail/control/me',
      'mx4.example.net',
      '__MAILSWEEP_LD__ file /var/qmail/control/locals',
      'localhost',
      'mx4.example.net',
      '__MAILSWEEP_LD__ file /var/qmail/control/virtualdomains',
      'customer.example:customer.example',
      '.wild.example:wild',
      '__MAILSWEEP_LD__ file /var/qmail/control/rcpthosts',
      'customer.example',
      'backup.example',
      end,
    ].join('\n');
    const { ld } = parseConfiguredLists(ADAPTERS.qmail.localDomains, out);
    expect(ld.exact.has('backup.example')).toBe(true);
    expect(isLocalDomain(ld, 'a.wild.example')).toBe(true);
    expect(ld.unknown).toEqual([]);
    expect(parseConfiguredLists(ADAPTERS.qmail.localDomains, out.replace('.wild.example:wild', ':alias-catchall')).ld.unknown.length).toBe(
      1,
    );
  });

  it('the command reads the control files through the real shell', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-ld-'));
    mkdirSync(join(dir, 'control'));
    writeFileSync(join(dir, 'control', 'locals'), 'localhost\nmx.q.example\n');
    writeFileSync(join(dir, 'control', 'rcpthosts'), 'hosted.example\n');
    const { ld } = parseConfiguredLists(
      ADAPTERS.qmail.localDomains,
      sh(localDomainsCommand(ADAPTERS.qmail.localDomains, mtaHost(undefined, { qmail_dir: dir }))).stdout,
    );
    expect([...ld.exact].sort()).toEqual(['hosted.example', 'localhost', 'mx.q.example']);
  });
});

describe("second round trip: the lists' files, through the real shell, paths on stdin", () => {
  it('reads lookup files, list files and directories; an unreadable one is unknown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-ldf-'));
    writeFileSync(join(dir, 'localdomains'), 'one.example\n# comment\ntwo.example: user2\n');
    writeFileSync(join(dir, 'list with space'), 'three.example # trailing comment\n*.four.example\n');
    mkdirSync(join(dir, 'virtual'));
    writeFileSync(join(dir, 'virtual', 'five.example'), '');
    const cfg = [
      '__MAILSWEEP_LD__ exim',
      `domainlist local_domains = lsearch;${dir}/localdomains : ${dir}/list with space : dsearch;${dir}/virtual : lsearch;${dir}/missing`,
      end,
    ].join('\n');
    const lists = parseConfiguredLists(ADAPTERS.exim.localDomains, cfg);
    const r = sh(fetchListsCommand(), fetchListsStdin(lists.fetch));
    const ld = applyFetched(lists, r.stdout);
    expect([...ld.exact].sort()).toEqual(['five.example', 'one.example', 'three.example', 'two.example']);
    expect(isLocalDomain(ld, 'x.four.example')).toBe(true);
    expect(ld.unknown).toEqual([expect.stringContaining(`${dir}/missing: cannot be read`)]);
  });

  it('a hostile path in the configuration stays a path (stdin, not the command line)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-ldh-'));
    const evil = `${dir}/x$(touch pwned)'\`touch pwned\`;"`;
    writeFileSync(evil, 'six.example\n');
    const ld = await readLocalDomains(ADAPTERS.exim.localDomains, mtaHost(), {
      exec: async (command, stdin) =>
        command.includes('-bP')
          ? { stdout: ['__MAILSWEEP_LD__ exim', `domainlist local_domains = <| ${evil}`, end].join('\n'), code: 0 }
          : sh(command, stdin),
    });
    expect([...ld.exact]).toEqual(['six.example']);
    expect(sh(`ls`).stdout).not.toContain('pwned');
  });
});

describe('recorded from the real lab (test/lab): every MTA reports the two seeded domains', () => {
  it.each([
    ['bookworm-exim', 'exim'],
    ['trixie-exim', 'exim'],
    ['bookworm-postfix', 'postfix'],
    ['bookworm-sendmail', 'sendmail'],
  ] as const)('%s', async (dir, mta) => {
    const { readFileSync } = await import('node:fs');
    const out = readFileSync(join('test/fixtures/lab', dir, 'local-domains.out'), 'utf8');
    const { ld, fetch } = parseConfiguredLists(ADAPTERS[mta].localDomains, out);
    expect(fetch).toEqual([]);
    expect(ld.unknown).toEqual([]);
    for (const d of ['example.test', 'shop.test', 'localhost']) expect(ld.exact.has(d), d).toBe(true);
    expect(
      [...ld.exact].some((d) => d.endsWith('.lab.test')),
      'the host name',
    ).toBe(true);
    expect(provenForeign(ld, 'lottery-win.invalid')).toBe(true);
  });
});
