// The SSH transport against real SSH servers (ssh2 Server on loopback, commands run by /bin/sh).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, startFakeHost, type KeyPair, type RunningFakeHost } from '../../src/demo/fake-host.js';
import { TransportError } from '../../src/errors.js';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';
import { forgetCommands, SshTransport } from '../../src/transport/ssh.js';

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

  it('the changed-key hint names the known_hosts file used and [host]:port off port 22, under the name that is stale', async () => {
    const h = hosts.rekeyed!;
    const kh = knownHosts([`[127.0.0.1]:${h.port} ${hosts.normal!.hostKey}`]);
    const e = await failure(transport(h, kh).exec('true'));
    expect(e.message).toContain(`remove the old line (ssh-keygen -f ${kh.path} -R '[127.0.0.1]:${h.port}')`);
    // Known under its inventory name only: that is the entry to remove, not the address.
    const byName = knownHosts([`[mx1.example.test]:${h.port} ${hosts.normal!.hostKey}`]);
    const n = await failure(transport(h, byName, { name: 'mx1.example.test' }).exec('true'));
    expect(n.message).toMatch(new RegExp(`\\(ssh-keygen -f \\S+ -R '\\[mx1\\.example\\.test\\]:${h.port}'\\)$`));
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

describe('forgetCommands', () => {
  const changed = { kind: 'changed' as const, fingerprint: 'SHA256:x', keyType: 'ssh-ed25519' };
  const entry = (patterns: string, line: number, file?: string) => ({ patterns, keyType: 'ssh-ed25519', keyBase64: 'AAAA', line, file });

  it('port 22: the bare name, in the file that holds the stale line (the system-wide one here)', () => {
    const sys = '/etc/ssh/ssh_known_hosts';
    const entries: Record<string, ReturnType<typeof entry>[]> = { 'mx1.example.net': [entry('mx1.example.net', 2, sys)], '192.0.2.1': [] };
    expect(
      forgetCommands({ ...changed, knownAt: [2], knownIn: [sys] }, ['mx1.example.net', '192.0.2.1'], (n) => entries[n] ?? [], '/home/a/kh'),
    ).toBe('ssh-keygen -f /etc/ssh/ssh_known_hosts -R mx1.example.net');
  });

  it('both names stale: one command each; a file path with spaces is quoted', () => {
    const f = '/home/a b/known_hosts';
    const entries: Record<string, ReturnType<typeof entry>[]> = {
      '[mx1]:2222': [entry('[mx1]:2222', 1, f)],
      '[192.0.2.1]:2222': [entry('[192.0.2.1]:2222', 3, f)],
    };
    expect(
      forgetCommands({ ...changed, knownAt: [1, 3], knownIn: [f, f] }, ['[mx1]:2222', '[192.0.2.1]:2222'], (n) => entries[n] ?? [], f),
    ).toBe("ssh-keygen -f '/home/a b/known_hosts' -R '[mx1]:2222'; ssh-keygen -f '/home/a b/known_hosts' -R '[192.0.2.1]:2222'");
  });
});

// A passphrase-protected key is never unlocked by mailsweep (no passphrase is asked for or
// stored): without an agent the failure says so and what to do; with an agent holding it, it works.
describe('auth failures say what was tried and what to do', () => {
  const PASS = 'correct horse battery';
  const encKey = join(dir, 'id_enc');
  const plainCopy = join(dir, 'id_enc_plain');
  const sock = join(dir, 'agent.sock');
  const emptySock = join(dir, 'empty-agent.sock');
  const agents: ChildProcess[] = [];
  let encHost: RunningFakeHost;

  const startAgent = async (path: string) => {
    const a = spawn('ssh-agent', ['-D', '-a', path], { stdio: 'ignore' });
    agents.push(a);
    for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 20));
  };

  beforeAll(async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASS, '-f', encKey]);
    copyFileSync(encKey, plainCopy);
    execFileSync('ssh-keygen', ['-q', '-p', '-P', PASS, '-N', '', '-f', plainCopy]);
    const pub = execFileSync('ssh-keygen', ['-y', '-f', plainCopy], { encoding: 'utf8' });
    encHost = await startFakeHost({ name: 'enc', mode: 'normal', tools: [] }, { workDir: dir, hostKey, clientPublicKey: pub });
    await startAgent(sock);
    await startAgent(emptySock);
    execFileSync('ssh-add', ['-q', plainCopy], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
  });
  afterAll(async () => {
    for (const a of agents) if (a.pid) process.kill(a.pid);
    await encHost?.close();
  });

  it('an encrypted key and no agent: refused before connecting, naming the key and the way out', async () => {
    const before = encHost.connections();
    const e = await failure(transport(encHost, knownHosts([line(encHost)]), { privateKeyFile: encKey, agentSocket: '' }).exec('true'));
    expect(e.kind).toBe('auth-failed');
    expect(e.message).toBe(
      `root@127.0.0.1:${encHost.port}: key ${encKey} is encrypted (passphrase) and no ssh-agent is running ($SSH_AUTH_SOCK unset): ` +
        `start one and load the key (eval "$(ssh-agent)"; ssh-add ${encKey}), then run mailsweep from that shell; ` +
        'or set ansible_ssh_private_key_file to a key without a passphrase',
    );
    expect(encHost.connections()).toBe(before);
    expect(e.message).not.toContain(PASS);
  });

  it('the same key loaded in an agent logs in', async () => {
    const t = transport(encHost, knownHosts([line(encHost)]), { privateKeyFile: encKey, agentSocket: sock });
    expect((await t.exec('echo in')).stdout).toBe('in\n');
    await t.close();
  });

  it('an agent without the key: the failure lists agent, key files and password, and asks whether the key is loaded', async () => {
    const e = await failure(
      transport(encHost, knownHosts([line(encHost)]), { privateKeyFile: encKey, agentSocket: emptySock }).exec('true'),
    );
    expect(e.kind).toBe('auth-failed');
    expect(e.message).toContain(
      `; tried as root: ssh-agent yes ($SSH_AUTH_SOCK); key files: ${encKey} (encrypted: only through the agent); password: no (mailsweep logs in with keys only)`,
    );
    expect(e.message).toMatch(/is it loaded in the agent \(ssh-add -l; ssh-add \S+\)\?$/);
  });

  it('a key the server refuses: what was tried, and no hint about passphrases', async () => {
    const h = hosts['auth-reject']!;
    const e = await failure(transport(h, knownHosts([line(h)])).exec('true'));
    expect(e.message).toMatch(
      new RegExp(
        `authentication failed \\(.*\\); tried as root: ssh-agent no \\(\\$SSH_AUTH_SOCK unset\\); key files: ${keyFile.replace(/[/.-]/g, (c) => `\\${c}`)}; password: no`,
      ),
    );
    expect(e.message).not.toContain('encrypted');
  });
});
