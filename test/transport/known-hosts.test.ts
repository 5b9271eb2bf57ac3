import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprint, hostLookupName, KnownHostsFile, parseKnownHosts, verifyHostKey } from '../../src/transport/known-hosts.js';

/** A wire-format key blob: string type, then key bytes. */
function blob(type: string, body: Buffer): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  const blen = Buffer.alloc(4);
  blen.writeUInt32BE(body.length);
  return Buffer.concat([len, t, blen, body]);
}

const keyA = blob('ssh-ed25519', Buffer.alloc(32, 1));
const keyB = blob('ssh-ed25519', Buffer.alloc(32, 2));
const rsa = blob('ssh-rsa', Buffer.alloc(64, 3));
const line = (host: string, k: Buffer, type = 'ssh-ed25519') => `${host} ${type} ${k.toString('base64')}`;

function hashed(name: string): string {
  const salt = randomBytes(20);
  const h = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${h}`;
}

describe('known_hosts', () => {
  it('matches plain, [host]:port, comma lists and wildcards', () => {
    const e = parseKnownHosts(
      [line('mx1.example.com,192.0.2.10', keyA), line('[10.0.0.5]:2222', keyA), line('*.dc2.example', keyA)].join('\n'),
    );
    expect(verifyHostKey(e, ['mx1.example.com'], keyA)).toEqual({ kind: 'match' });
    expect(verifyHostKey(e, ['192.0.2.10'], keyA)).toEqual({ kind: 'match' });
    expect(verifyHostKey(e, [hostLookupName('10.0.0.5', 2222)], keyA)).toEqual({ kind: 'match' });
    expect(verifyHostKey(e, [hostLookupName('10.0.0.5', 22)], keyA).kind).toBe('unknown');
    expect(verifyHostKey(e, ['mx9.dc2.example'], keyA)).toEqual({ kind: 'match' });
  });

  it('matches hashed entries (HashKnownHosts yes)', () => {
    const e = parseKnownHosts(line(hashed('[mx2.example.com]:2200'), keyA));
    expect(verifyHostKey(e, ['[mx2.example.com]:2200'], keyA)).toEqual({ kind: 'match' });
    expect(verifyHostKey(e, ['mx2.example.com'], keyA).kind).toBe('unknown');
  });

  it('reports a changed key with the line numbers and the new fingerprint', () => {
    const e = parseKnownHosts(['# comment', line('mx1', keyA)].join('\n'));
    const v = verifyHostKey(e, ['mx1'], keyB);
    expect(v).toEqual({ kind: 'changed', fingerprint: fingerprint(keyB), keyType: 'ssh-ed25519', knownAt: [2] });
  });

  it('treats a host known only under another key type as changed, not unknown', () => {
    const e = parseKnownHosts(line('mx1', rsa, 'ssh-rsa'));
    expect(verifyHostKey(e, ['mx1'], keyA).kind).toBe('changed');
  });

  it('refuses @revoked keys and honours !negation', () => {
    const e = parseKnownHosts([`@revoked * ssh-ed25519 ${keyB.toString('base64')}`, line('*.example,!bad.example', keyA)].join('\n'));
    expect(verifyHostKey(e, ['mx.example'], keyB).kind).toBe('revoked');
    expect(verifyHostKey(e, ['bad.example'], keyA).kind).toBe('unknown');
  });

  it('fingerprints like ssh-keygen -l (SHA256, unpadded base64)', () => {
    expect(fingerprint(keyA)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('accept-new appends a line that then matches, serializing concurrent writes', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ms-kh-')), 'sub', 'known_hosts');
    const f = new KnownHostsFile(path);
    await Promise.all([f.add('[127.0.0.1]:2201', keyA), f.add('[127.0.0.1]:2202', keyB)]);
    const text = readFileSync(path, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(2);
    const e = parseKnownHosts(text);
    expect(verifyHostKey(e, ['[127.0.0.1]:2202'], keyB)).toEqual({ kind: 'match' });
    expect(verifyHostKey(await f.load(), ['[127.0.0.1]:2201'], keyA)).toEqual({ kind: 'match' });
  });
});
