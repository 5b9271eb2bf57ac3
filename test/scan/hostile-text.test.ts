// A spammer chooses the auth id (the hijacked mailbox's login is whatever they make it look like
// in the spool and log), the forged sender domains and the recipients. Served by fake SSH hosts that
// replay a real exim server's recording with those strings made hostile, the real `mailsweep scan`
// (CLI entry, separate process) must never write a control, escape or bidi character of theirs, in
// any format, in the report (stdout) or the progress (stderr), with or without a terminal.
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPLAY_KEYS } from '../../src/demo/replay.js';
import { startFakeFleet, type FakeFleet, type FleetHostEntry } from '../../src/demo/fleet.js';
import type { ScanReport } from '../../src/scan/types.js';
import { parsePluginOutput } from './plugin-output.js';

const run = promisify(execFile);
const REC = 'test/fixtures/lab/bookworm-exim';

const OSC8 = '\x1b]8;;http://evil.test\x07';
/** No ':' (exim's log splits A=authenticator:id on it) and no blank (the listings split on them). */
const AUTH = 'bob\x1b[2J\x07\r\x00\u009b31m\u202eevil\u2066|[bank](http//evil.test)<b>x</b>`c`\u200b@example.test';
const DOMAIN = `promo${OSC8}deals\u202e[click](http://evil.test)<script>x</script>\x1b[5m.invalid`;
const RCPT = 'user906\x1b[31m\u202e\u2067\x00\x7f@northwind.example';
const FAIL = `exim: spool read error ${OSC8}\x1b[2J\x07\r\u009b0m\u202eRTL\u2069\x00 done`;

/** Every character a terminal, a pager or a bidi renderer acts on. CR/LF/tab aside for the TTY check. */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b]/u;
function forbidden(s: string): string | null {
  const m = FORBIDDEN.exec(s);
  return m
    ? `U+${m[0].codePointAt(0)!.toString(16).padStart(4, '0')} at ${m.index}: …${JSON.stringify(s.slice(Math.max(0, m.index - 40), m.index + 20))}…`
    : null;
}

let dir: string;
let fleet: FakeFleet;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ms-hostile-'));
  // The real recording, with the spammer's strings in the spool headers, the listing and the log.
  const hostile = (s: string) =>
    s.split('bob@example.test').join(AUTH).split('parcel-notice.invalid').join(DOMAIN).split('user906@northwind.example').join(RCPT);
  const rec = join(dir, 'rec');
  mkdirSync(rec);
  for (const f of ['detect.out', 'queue.out', 'log.out']) writeFileSync(join(rec, f), hostile(readFileSync(join(REC, f), 'utf8')));
  const detect = { match: REPLAY_KEYS.detect, file: join(rec, 'detect.out') };
  const hosts: FleetHostEntry[] = [
    {
      name: 'evil',
      mode: 'normal',
      tools: [],
      replay: [detect, { match: REPLAY_KEYS.log, file: join(rec, 'log.out') }, { match: REPLAY_KEYS.queue, file: join(rec, 'queue.out') }],
    },
    // The queue command fails and prints the spammer's text: it ends up in the host's reason.
    { name: 'evilfail', mode: 'normal', tools: [], replay: [detect, { match: REPLAY_KEYS.queue, text: `${FAIL}\n`, code: 1 }] },
    // The queue command "succeeds" with nothing but that text: "not understood", quoting it.
    { name: 'evilgarbled', mode: 'normal', tools: [], replay: [detect, { match: REPLAY_KEYS.queue, text: `${FAIL}\n${FAIL}\n` }] },
    // Random bytes for every command, and random bytes instead of an SSH banner.
    { name: 'noise', mode: 'garbage-output', tools: [] },
    { name: 'babble', mode: 'garbage-banner', tools: [] },
  ];
  fleet = await startFakeFleet(join(dir, 'fleet'), hosts);
}, 60_000);
afterAll(() => fleet?.close());

function args(format: string, extra: string[] = []): string[] {
  return [
    '--import',
    'tsx',
    'src/cli.ts',
    'scan',
    '-i',
    fleet.inventoryPath,
    '--known-hosts',
    fleet.knownHostsPath,
    '--no-history',
    '-t',
    '30',
    '--connect-timeout',
    '15',
    '--format',
    format,
    ...extra,
  ];
}

/** Run to the end without blocking this process (it serves the fake hosts); any exit code. */
async function capture(file: string, argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(file, argv, { env, timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof x.code !== 'number') throw e;
    return { code: x.code, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

/** The real CLI without a terminal (cron, CI, a pipe): plain progress lines on stderr. */
function scan(format: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, CI: 'true' };
  delete env.NO_COLOR;
  return capture(process.execPath, args(format, extra), env);
}

describe('scan of hosts serving hostile text, through the real CLI and real SSH', () => {
  let outs: Record<'table' | 'markdown' | 'nagios' | 'json', { code: number; stdout: string; stderr: string }>;
  beforeAll(async () => {
    const [table, markdown, nagios, json] = await Promise.all([
      scan('table'),
      scan('markdown'),
      scan('nagios'),
      scan('json', ['--messages']),
    ]);
    outs = { table: table!, markdown: markdown!, nagios: nagios!, json: json! };
  }, 120_000);

  it('the hostile text did reach the scan (the test is not vacuous): the JSON holds it byte for byte', () => {
    const r = JSON.parse(outs.json.stdout) as ScanReport;
    const evil = r.hosts.find((h) => h.name === 'evil')!;
    expect(evil.status, evil.reason).toBe('ok');
    expect(evil.suspects![0]!.authId).toBe(AUTH);
    expect(Object.keys(evil.suspects![0]!.senderDomains)).toContain(DOMAIN.toLowerCase());
    expect(evil.messages!.some((m) => m.recipients.includes(RCPT))).toBe(true);
    expect(evil.messages!.some((m) => m.sender.endsWith(`@${DOMAIN}`))).toBe(true);
    expect(r.hosts.find((h) => h.name === 'evilfail')).toMatchObject({ status: 'error' });
    expect(r.hosts.find((h) => h.name === 'evilgarbled')).toMatchObject({ status: 'error' });
    expect(r.summary.exitCode).toBe(2);
    for (const f of ['table', 'markdown', 'nagios', 'json'] as const) expect(outs[f].code, `${f}: ${outs[f].stderr}`).toBe(2);
  });

  it.each(['table', 'markdown', 'nagios', 'json'] as const)('%s: no control, escape, C1 or bidi character on stdout or stderr', (f) => {
    expect(forbidden(outs[f].stdout)).toBeNull();
    expect(forbidden(outs[f].stderr)).toBeNull();
  });

  it('table: the account, the domains and the failure text are shown, made visible', () => {
    const out = outs.table.stdout;
    expect(out).toContain('bob^[[2J^G^M^@<U+009B>31m<U+202E>evil<U+2066>|[bank]');
    expect(out).toContain('promo^[]8;;http://evil.test^Gdeals<U+202E>[click]');
    expect(out).toMatch(
      /evilfail +ERROR .*exim queue command failed \(exit 1\): exim: spool read error \^\[\]8;;http:\/\/evil\.test\^G\^\[\[2J\^G\^M<U\+009B>0m<U\+202E>RTL<U\+2069>\^@ done/,
    );
    expect(out).toMatch(/evilgarbled +ERROR .*not understood/);
  });

  it('markdown: server text makes no link, image, HTML or code, and no extra table cell', () => {
    const out = outs.markdown.stdout;
    expect(out).not.toMatch(/(?<!\\)[[<`]/);
    expect(out).toContain(
      'bob^\\[\\[2J^G^M^@\\<U+009B\\>31m\\<U+202E\\>evil\\<U+2066\\>\\|\\[bank\\](http//evil.test)\\<b\\>x\\</b\\>\\`c\\`',
    );
    for (const l of out.split('\n').filter((x) => x.startsWith('| ') && !x.startsWith('| Host'))) {
      const cells = l.split(/(?<!\\)\|/).length - 2;
      expect([7, 8], l).toContain(cells);
    }
  });

  it('nagios: a status line, the top suspect made visible, perfdata after the one `|`, long text without one', () => {
    const out = outs.nagios.stdout;
    const parsed = parsePluginOutput(out);
    expect(out.split('|')).toHaveLength(2);
    expect(parsed.text).toMatch(/^MAILSWEEP CRITICAL - /);
    expect(parsed.text).toContain('top suspect bob^[[2J^G^M^@<U+009B>31m<U+202E>evil<U+2066>?[bank]');
    expect(parsed.perfdata.find((p) => p.label === 'evil')).toMatchObject({ value: 339, warn: '75', crit: '100', min: '0' });
    for (const l of parsed.longText) expect(l).toMatch(/^[^:]+: (CRITICAL|WARNING|UNKNOWN) - /);
  });

  it('json: server strings only as \\u escapes, and it parses back to the exact bytes', () => {
    const out = outs.json.stdout;
    expect(out).toContain('\\u001b[2J\\u0007\\r\\u0000\\u009b31m\\u202eevil\\u2066');
    expect(out).toContain('user906\\u001b[31m\\u202e\\u2067\\u0000\\u007f@northwind.example');
    const r = JSON.parse(out) as ScanReport;
    // Sentences for people are printable even inside the JSON (jq -r prints them as they are).
    const evilfail = r.hosts.find((h) => h.name === 'evilfail')!;
    expect(evilfail.reason).toContain('exim: spool read error ^[]8;;http://evil.test^G');
    expect(r.hosts.find((h) => h.name === 'evil')!.findings.some((f) => f.message.startsWith('bob^[[2J^G^M^@<U+009B>'))).toBe(true);
  });

  it('progress without a terminal: one plain line per host, the failure text made visible', () => {
    const err = outs.table.stderr;
    expect(err).toMatch(/^\[evil\] CRITICAL queue=339$/m);
    expect(err).toMatch(
      /^\[evilfail\] ERROR exim queue command failed \(exit 1\): exim: spool read error \^\[\]8;;http:\/\/evil\.test\^G/m,
    );
    expect(err).toMatch(/^\[noise\] ERROR /m);
    expect(err).toMatch(/^\[babble\] [A-Z-]+ /m);
  });
});

describe('scan on a terminal (live progress view), through script(1)', () => {
  it('writes none of the server’s escape, bell, NUL, C1 or bidi characters', async () => {
    const cmd = [process.execPath, ...args('table')].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const env = { ...process.env, TERM: 'xterm-256color' };
    delete env.CI;
    delete env.NO_COLOR;
    // script gives the command a pseudo-terminal: progress renders live, the table is coloured.
    const r = await capture('script', ['-qfec', `stty cols 200 rows 50; exec ${cmd}`, '/dev/null'], env);
    expect(r.code, `script(1) from util-linux runs this test: ${r.stderr}`).toBe(2);
    const out = r.stdout;
    expect(out).toContain('Scanned 5 host(s)');
    expect(out).toContain('bob^[[2J^G^M^@<U+009B>31m<U+202E>evil');
    // The terminal's own output legitimately holds ESC (colours, cursor moves) and CR (the pty's
    // \n → \r\n): look for what only the server could have put there.
    for (const seq of [
      '\x1b[2J',
      '\x1b]8;;',
      '\x1b[5m',
      '\x1b[31m\u202e',
      '\x07',
      '\x00',
      '\x7f',
      '\u009b',
      '\u202e',
      '\u2066',
      '\u2067',
      '\u2069',
      '\u200b',
    ])
      expect(out.includes(seq), JSON.stringify(seq)).toBe(false);
  }, 120_000);
});

describe('mailsweep parse on hostile saved output', () => {
  it('queue JSON: exact bytes back, no raw C1 or bidi character in the text', () => {
    const listing = ` 1m   538 1xVOHG-0007YW-1g <alert1@${DOMAIN}>\n          ${RCPT}\n\n`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'parse', '--mta', 'exim', '--kind', 'queue'], {
      input: listing,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(forbidden(r.stdout)).toBeNull();
    const j = JSON.parse(r.stdout) as { messages: { sender: string; recipients: string[] }[] };
    expect(j.messages[0]).toMatchObject({ sender: `alert1@${DOMAIN}`, recipients: [RCPT] });
  });

  it('log JSON: the auth id comes back exact, the text holds it only escaped', () => {
    const line = `2026-11-23 07:15:50 1xVOHG-0007YW-1g <= a@${DOMAIN} H=(client.lab.test) [127.0.0.1] P=esmtpa A=plain_server:${AUTH} S=538 id=x@y\n`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'parse', '--mta', 'exim', '--kind', 'log'], {
      input: line,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(forbidden(r.stdout)).toBeNull();
    expect((JSON.parse(r.stdout) as { users: { authId: string }[] }).users[0]!.authId).toBe(AUTH);
  });

  it('log: lines end at \\n only (a CR inside a line is text), and a CRLF file still reads', () => {
    const line = (id: string) =>
      `2026-11-23 07:15:50 1xVOHG-0007YW-1g <= a@x.test H=(c) [127.0.0.1] P=esmtpa A=plain_server:${id} S=538 id=x@y\r\n`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'parse', '--mta', 'exim', '--kind', 'log'], {
      input: line('carol@x.test') + line('mal\rlory@x.test'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { users: { authId: string }[]; summary: { lines: number } };
    expect(j.users.map((u) => u.authId).sort()).toEqual(['carol@x.test', 'mal\rlory@x.test']);
    expect(j.summary.lines).toBe(2);
  });
});
