// The SSH transport against real SSH servers (ssh2 Server on loopback, commands run by /bin/sh).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, startFakeHost, type KeyPair, type RunningFakeHost } from '../../src/demo/fake-host.js';
import { TransportError } from '../../src/errors.js';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';
import { SshTransport } from '../../src/transport/ssh.js';

const dir = mkdtempSync(join(tmpdir(), 'ms-ssh-'));
const client: KeyPair = generateKeyPair();
const hostKey: KeyPair = generateKeyPair();
const otherKey: KeyPair = generateKeyPair();
const keyFile = join(dir, 'id_ed25519');
writeFileSync(keyFile, client.private, { mode: 0o600 });
const hosts: Record<string, RunningFakeHost> = {};

async function start(name: string, mode: Parameters<typeof startFakeHost>[0]['mode'], key = hostKey) {
  hosts[name] = await startFakeHost(
    { name, mode, tools: [{ name: 'greet', cases: { '*': { text: 'hello from the stub\n' } } }] },
    { workDir: dir, hostKey: key, clientPublicKey: client.public },
  );
  return hosts[name]!;
}

function knownHosts(lines: string[]): KnownHostsFile {
  const p = join(mkdtempSync(join(dir, 'kh-')), 'known_hosts');
  writeFileSync(p, lines.join('\n') + '\n');
  return new KnownHostsFile(p);
}

function transport(h: RunningFakeHost, kh: KnownHostsFile, extra: Partial<ConstructorParameters<typeof SshTransport>[0]> = {}) {
  return new SshTransport({
    host: '127.0.0.1',
    port: h.port,
    user: 'root',
    privateKeyFile: keyFile,
    knownHosts: kh,
    agentSocket: '',
    connectTimeoutMs: 2000,
    ...extra,
  });
}

async function failure(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TransportError);
    return e as TransportError;
  }
  throw new Error('expected a TransportError');
}

beforeAll(async () => {
  await start('normal', 'normal');
  await start('rekeyed', 'normal', otherKey);
  await start('dead', 'dead');
  await start('hang-handshake', 'hang-handshake');
  await start('hang-command', 'hang-command');
  await start('auth-reject', 'auth-reject');
  await start('garbage-banner', 'garbage-banner');
});
afterAll(async () => {
  await Promise.all(Object.values(hosts).map((h) => h.close()));
});

const line = (h: RunningFakeHost) => `[127.0.0.1]:${h.port} ${h.hostKey}`;

describe('SshTransport', () => {
  it('runs commands through the real shell and reuses one connection', async () => {
    const h = hosts.normal!;
    const before = h.connections();
    const t = transport(h, knownHosts([line(h)]));
    const a = await t.exec('greet; echo err >&2; exit 3');
    expect(a).toMatchObject({ code: 3, stdout: 'hello from the stub\n', stderr: 'err\n' });
    const b = await t.exec('cat', { stdin: 'piped input' });
    expect(b.stdout).toBe('piped input');
    await t.exec('true');
    expect(h.connections() - before).toBe(1);
    await t.close();
  });

  it('refuses an unknown host key, naming the fingerprint and how to accept it', async () => {
    const t = transport(hosts.normal!, knownHosts([]));
    const e = await failure(t.exec('true'));
    expect(e.kind).toBe('hostkey-unknown');
    expect(e.message).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
    expect(e.message).toContain('--accept-new-hostkeys');
  });

  it('with accept-new records the key, and the next strict connection matches it', async () => {
    const kh = knownHosts([]);
    const t = transport(hosts.normal!, kh, { hostKeyPolicy: 'accept-new' });
    expect((await t.exec('greet')).stdout).toContain('hello');
    await t.close();
    expect(readFileSync(kh.path, 'utf8')).toContain(`[127.0.0.1]:${hosts.normal!.port} ssh-ed25519 `);
    const strict = transport(hosts.normal!, new KnownHostsFile(kh.path));
    expect((await strict.exec('greet')).code).toBe(0);
    await strict.close();
  });

  it('refuses a changed host key loudly, even with accept-new', async () => {
    const h = hosts.rekeyed!;
    const stale = `[127.0.0.1]:${h.port} ${hosts.normal!.hostKey}`;
    const e = await failure(transport(h, knownHosts(['# old key', stale]), { hostKeyPolicy: 'accept-new' }).exec('true'));
    expect(e.kind).toBe('hostkey-changed');
    expect(e.message).toContain('HOST KEY CHANGED');
    expect(e.message).toContain('line 2');
  });

  it('classifies refused, silent, rejecting and garbage servers', async () => {
    const kh = (h: RunningFakeHost) => knownHosts([line(h)]);
    expect((await failure(transport(hosts.dead!, kh(hosts.dead!)).exec('true'))).kind).toBe('unreachable');
    const t0 = Date.now();
    expect((await failure(transport(hosts['hang-handshake']!, kh(hosts['hang-handshake']!)).exec('true'))).kind).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(6000);
    expect((await failure(transport(hosts['auth-reject']!, kh(hosts['auth-reject']!)).exec('true'))).kind).toBe('auth-failed');
    const g = await failure(transport(hosts['garbage-banner']!, kh(hosts['garbage-banner']!)).exec('true'));
    expect(['error', 'unreachable', 'timeout']).toContain(g.kind);
  });

  it('abandons a command that does not finish within its timeout', async () => {
    const h = hosts['hang-command']!;
    const t = transport(h, knownHosts([line(h)]));
    const e = await failure(t.exec('greet', { timeoutMs: 500 }));
    expect(e.kind).toBe('timeout');
    await t.close();
  });

  it('reaches a host through a jump host, verifying both keys', async () => {
    const jump = hosts.normal!;
    const target = hosts.rekeyed!;
    const kh = knownHosts([line(jump), `[127.0.0.1]:${target.port} ${target.hostKey}`]);
    const before = jump.connections();
    const t = transport(target, kh, { jump: { host: '127.0.0.1', port: jump.port, user: 'root', privateKeyFile: keyFile } });
    expect((await t.exec('greet')).stdout).toBe('hello from the stub\n');
    expect(jump.connections() - before).toBe(1);
    await t.close();
  });

  it('wraps commands in non-interactive sudo when become is set', async () => {
    const h = hosts.normal!;
    // A stub `sudo` on the fake host's PATH shows the exact argv it received.
    const t = transport(h, knownHosts([line(h)]), { user: 'admin', become: true, becomeUser: 'root' });
    const r = await t.exec('printf \'%s\' "$0"', {});
    // No real sudo on the fake host: the wrapped command fails with 127 and names sudo.
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/sudo/);
    await t.close();
  });
});
