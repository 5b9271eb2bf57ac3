// Client private keys, read and parsed once per run and per file (a sweep signs one login per host
// with the same key). Signing uses a crypto KeyObject made once: ssh2 signs from the PEM text,
// which makes OpenSSL parse the key again for every login (~0.35 ms of CPU each for ed25519).
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import ssh2, { type ParsedKey } from 'ssh2';
import { TransportError } from '../errors.js';

/** The digest each key type signs with when ssh2 names none (the key type's own). */
const DEFAULT_DIGEST: Record<string, string | null> = {
  'ssh-ed25519': null,
  'ecdsa-sha2-nistp256': 'sha256',
  'ecdsa-sha2-nistp384': 'sha384',
  'ecdsa-sha2-nistp521': 'sha512',
  'ssh-rsa': 'sha1',
};

/** The parsed key with its `sign` made from a KeyObject; same signatures as ssh2's own. */
export function withFastSign(parsed: ParsedKey): ParsedKey {
  if (!(parsed.type in DEFAULT_DIGEST) || !parsed.isPrivateKey()) return parsed;
  let key: KeyObject;
  try {
    key = createPrivateKey(parsed.getPrivatePEM());
  } catch {
    return parsed; // ssh2 signs it its own way
  }
  const fallback = parsed.sign.bind(parsed);
  const digest = DEFAULT_DIGEST[parsed.type] ?? null;
  parsed.sign = (data: Buffer | string, algo?: string): Buffer => {
    try {
      return cryptoSign(typeof algo === 'string' && algo ? algo : digest, typeof data === 'string' ? Buffer.from(data) : data, key);
    } catch {
      return fallback(data, algo);
    }
  };
  return parsed;
}

const cache = new Map<string, Promise<Buffer | ParsedKey>>();

/**
 * The key in a file: parsed (with the fast signer) when ssh2 can parse it without a passphrase,
 * else the raw bytes (ssh2 then reports what is wrong with it, as before). Cached per path.
 */
export function loadPrivateKey(file: string): Promise<Buffer | ParsedKey> {
  let p = cache.get(file);
  if (!p) {
    p = readFile(file).then(
      (buf) => {
        const parsed = ssh2.utils.parseKey(buf);
        return parsed instanceof Error || Array.isArray(parsed) ? buf : withFastSign(parsed);
      },
      (e: unknown) => {
        cache.delete(file); // a key put in place later is read then
        throw new TransportError('auth-failed', `cannot read private key ${file}: ${(e as Error).message}`);
      },
    );
    cache.set(file, p);
  }
  return p;
}

/** A key file ssh2 cannot use without its passphrase (mailsweep never asks for one). */
export function isEncryptedKey(key: Buffer | ParsedKey): boolean {
  if (!Buffer.isBuffer(key)) return false;
  const parsed = ssh2.utils.parseKey(key);
  return parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message);
}
