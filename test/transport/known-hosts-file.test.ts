// KnownHostsFile: the user's file and the system-wide one, accept-new appends, and an SSH handshake using both.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, startFakeHost, type RunningFakeHost } from '../../src/demo/fake-host.js';
import { ConfigError, TransportError } from '../../src/errors.js';
import { fingerprint, KnownHostsFile, parseKnownHosts, SYSTEM_KNOWN_HOSTS, verifyHostKey } from '../../src/transport/known-hosts.js';
import { SshTransport } from '../../src/transport/ssh.js';

const dir = mkdtempSync(join(tmpdir(), 'ms-khf-'));
let n = 0;
function file(text: string): string {
  const p = join(dir, `kh${n++}`);
  writeFileSync(p, text);
  return p;
}
function blob(type: string, body: Buffer): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, body]);
}
const keyA = blob('ssh-ed25519', Buffer.alloc(32, 1));
const keyB = blob('ssh-ed25519', Buffer.alloc(32, 2));
const line = (host: string, k: Buffer) => `${host} ssh-ed25519 ${k.toString('base64')}`;

describe('KnownHostsFile', () => {
  it('reads /etc/ssh/ssh_known_hosts by default, after the user file; null reads none', () => {
    expect(new KnownHostsFile(join(dir, 'x')).systemFile).toBe(SYSTEM_KNOWN_HOSTS);
    expect(SYSTEM_KNOWN_HOSTS).toBe('/etc/ssh/ssh_known_hosts');
    expect(new KnownHostsFile(join(dir, 'x'), { systemFile: null }).systemFile).toBeNull();
  });

  it('matches a host known only in the system file, and orders user lines before system lines', async () => {
    const sys = file(`# fleet\n${line('mx2', keyA)}\n${line('mx1', keyA)}\n`);
    const f = new KnownHostsFile(file(`${line('mx1', keyB)}\n`), { systemFile: sys });
    const index = await f.index();
    expect(verifyHostKey(index, ['mx2'], keyA)).toEqual({ kind: 'match' });
    expect(index.match(['mx1']).map((e) => [e.file, e.line])).toEqual([
      [f.path, 1],
      [sys, 3],
    ]);
    // Either file's line accepts (OpenSSH: any matching line wins over a mismatching one).
    expect(verifyHostKey(index, ['mx1'], keyA)).toEqual({ kind: 'match' });
    const v = verifyHostKey(index, ['mx1'], blob('ssh-ed25519', Buffer.alloc(32, 9)));
    expect(v).toMatchObject({ kind: 'changed', knownAt: [1, 3], knownIn: [f.path, sys] });
  });

  it('a key revoked in the system file is revoked for the user file too, naming the system file', async () => {
    const sys = file(`@revoked * ssh-ed25519 ${keyA.toString('base64')}\n`);
    const f = new KnownHostsFile(file(`${line('mx1', keyA)}\n`), { systemFile: sys });
    expect(verifyHostKey(await f.index(), ['mx1'], keyA)).toEqual({
      kind: 'revoked',
      fingerprint: fingerprint(keyA),
      keyType: 'ssh-ed25519',
      line: 1,
      file: sys,
    });
  });

  it('a missing user or system file is empty; an unreadable one is a ConfigError naming it', async () => {
    const f = new KnownHostsFile(join(dir, 'none'), { systemFile: join(dir, 'none-either') });
    expect(await f.load()).toEqual([]);
    const sysDir = join(dir, 'a-directory');
    mkdirSync(sysDir);
    const bad = new KnownHostsFile(file(''), { systemFile: sysDir });
    await expect(bad.index()).rejects.toThrow(ConfigError);
    await expect(bad.index()).rejects.toThrow(`cannot read system known_hosts ${sysDir}: EISDIR`);
    await expect(new KnownHostsFile(sysDir, { systemFile: null }).index()).rejects.toThrow(`cannot read known_hosts ${sysDir}`);
  });

  it('does not read the system file twice when it is also the user file', async () => {
    const p = file(`${line('mx1', keyA)}\n`);
    const v = verifyHostKey(await new KnownHostsFile(p, { systemFile: p }).index(), ['mx1'], keyB);
    expect(v).toMatchObject({ kind: 'changed', knownAt: [1] });
  });

  it('reads once for concurrent callers', async () => {
    const f = new KnownHostsFile(file(`${line('mx1', keyA)}\n`), { systemFile: null });
    const [a, b] = await Promise.all([f.index(), f.index()]);
    expect(a).toBe(b);
  });

  it('accept-new: the appended line is indexed with its real line number and found by matchSince', async () => {
    const f = new KnownHostsFile(file(`# c\n\n${line('mx1', keyA)}\n`), { systemFile: file(`${line('mx9', keyA)}\n`) });
    const index = await f.index();
    const seen = index.size;
    expect(index.match(['[10.0.0.7]:2222'])).toEqual([]);
    await f.add('[10.0.0.7]:2222', keyB);
    expect(index.matchSince(['[10.0.0.7]:2222'], seen)).toMatchObject([{ line: 4, file: f.path }]);
    expect(verifyHostKey(index, ['[10.0.0.7]:2222'], keyA)).toMatchObject({ kind: 'changed', knownAt: [4], knownIn: [f.path] });
    expect(parseKnownHosts(readFileSync(f.path, 'utf8'))[1]).toMatchObject({ patterns: '[10.0.0.7]:2222', line: 4 });
  });

  it('accept-new never joins a last line that lacks its newline', async () => {
    const p = file(line('mx1', keyA)); // no final newline
    const f = new KnownHostsFile(p, { systemFile: null });
    await f.add('mx2', keyB);
    expect(readFileSync(p, 'utf8')).toBe(`${line('mx1', keyA)}\n${line('mx2', keyB)}\n`);
    const index = await f.index();
    expect(verifyHostKey(index, ['mx1'], keyA)).toEqual({ kind: 'match' });
    expect(index.match(['mx2']).map((e) => e.line)).toEqual([2]);
  });
});

describe('SshTransport with the system-wide known_hosts', () => {
  const client = generateKeyPair();
  const keyFile = join(dir, 'id_ed25519');
  let h: RunningFakeHost;
  beforeAll(async () => {
    writeFileSync(keyFile, client.private, { mode: 0o600 });
    h = await startFakeHost(
      { name: 'sys', mode: 'normal', tools: [{ name: 'greet', cases: { '*': { text: 'hi\n' } } }] },
      { workDir: dir, hostKey: generateKeyPair(), clientPublicKey: client.public },
    );
  });
  afterAll(() => h.close());
  const connect = (kh: KnownHostsFile) =>
    new SshTransport({
      host: '127.0.0.1',
      port: h.port,
      user: 'root',
      privateKeyFile: keyFile,
      knownHosts: kh,
      agentSocket: '',
      connectTimeoutMs: 2000,
    });

  it('connects strictly to a host known only in the system file', async () => {
    const t = connect(new KnownHostsFile(file(''), { systemFile: file(`[127.0.0.1]:${h.port} ${h.hostKey}\n`) }));
    expect((await t.exec('greet')).stdout).toBe('hi\n');
    await t.close();
  });

  it('refuses a key the system file revokes, and names that file and line', async () => {
    const sys = file(`# revoked\n@revoked [127.0.0.1]:${h.port} ${h.hostKey}\n`);
    const t = connect(new KnownHostsFile(file(`[127.0.0.1]:${h.port} ${h.hostKey}\n`), { systemFile: sys }));
    const e = await t.exec('true').then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).message).toContain(`REVOKED (${sys}:2)`);
    await t.close();
  });

  it('a changed key names the lines in both files', async () => {
    const other = generateKeyPair();
    const user = file(`[127.0.0.1]:${h.port} ${other.public.split(' ').slice(0, 2).join(' ')}\n`);
    const sys = file(`\n[127.0.0.1]:${h.port} ${other.public.split(' ').slice(0, 2).join(' ')}\n`);
    const e = await connect(new KnownHostsFile(user, { systemFile: sys }))
      .exec('true')
      .then(
        () => null,
        (x: unknown) => x,
      );
    expect((e as TransportError).kind).toBe('hostkey-changed');
    expect((e as TransportError).message).toContain(`${user} line 1; ${sys} line 2 has another`);
  });
});
