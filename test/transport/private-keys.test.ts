// The cached key's KeyObject signer must give signatures ssh2's own verifier (and OpenSSH's key) accepts.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils, type ParsedKey } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPrivateKey, withFastSign } from '../../src/transport/private-keys.js';
import { TransportError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ms-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let made = 0;
function keygen(type: string, bits?: number, passphrase = ''): string {
  const file = join(dir, `${type}-${bits ?? 0}-${passphrase ? 'enc' : 'plain'}-${++made}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', passphrase, '-f', file]);
  return file;
}

const parse = (file: string) => utils.parseKey(readFileSync(file)) as ParsedKey;

describe('client keys signed from a KeyObject', () => {
  it.each([
    ['ed25519', undefined, [undefined]],
    ['ecdsa', 256, [undefined]],
    ['ecdsa', 384, [undefined]],
    ['ecdsa', 521, [undefined]],
    ['rsa', 2048, [undefined, 'sha256', 'sha512']],
  ] as const)('%s %s: the signature verifies with the key and equals ssh2 own where deterministic', (type, bits, algos) => {
    const file = keygen(type, bits);
    const data = Buffer.from('session id and userauth request');
    for (const algo of algos) {
      const fast = withFastSign(parse(file));
      const sig = fast.sign(data, algo);
      expect(sig).toBeInstanceOf(Buffer);
      // Verified by a separately parsed copy, with ssh2's own verify (PEM path).
      expect(parse(file).verify(data, sig, algo)).toBe(true);
      // ed25519 and RSA PKCS#1 signatures are deterministic: byte-identical to ssh2's own.
      if (type !== 'ecdsa') expect(sig.equals(parse(file).sign(data, algo))).toBe(true);
      // A wrong digest does not verify: the algo argument is really used.
      if (algo) expect(parse(file).verify(data, sig, algo === 'sha256' ? 'sha512' : 'sha256')).toBe(false);
    }
  });

  it('one read and parse per file per run; an unreadable file is an auth failure naming it, and is read again later', async () => {
    const file = keygen('ed25519', undefined);
    const a = await loadPrivateKey(file);
    const b = await loadPrivateKey(file);
    expect(a).toBe(b);
    const missing = join(dir, 'later');
    await expect(loadPrivateKey(missing)).rejects.toThrow(TransportError);
    await expect(loadPrivateKey(missing)).rejects.toThrow(/cannot read private key .*later/);
    writeFileSync(missing, readFileSync(file));
    chmodSync(missing, 0o600);
    expect(await loadPrivateKey(missing)).not.toBeInstanceOf(Buffer);
  });

  it('a passphrase-protected key stays raw bytes (ssh2 then reports it), never a guess', async () => {
    const file = keygen('ed25519', undefined, 'secret passphrase');
    expect(await loadPrivateKey(file)).toBeInstanceOf(Buffer);
  });
});
