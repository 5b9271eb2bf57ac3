// ssh2 / socket errors translated at the edge into TransportError (one kind per scan status word).
import { TransportError } from '../errors.js';

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EPIPE',
  'EADDRNOTAVAIL',
]);

/** Translate an ssh2 / socket error at the edge (as Ansible's paramiko plugin does). */
export function classifySshError(err: unknown, where: string, timeoutMs: number): TransportError {
  if (err instanceof TransportError) return err;
  const e = err as { level?: string; code?: string; message?: string };
  const msg = e?.message ?? String(err);
  if (e?.level === 'client-authentication') return new TransportError('auth-failed', `${where}: authentication failed (${msg})`);
  if (e?.level === 'client-timeout' || /timed out/i.test(msg))
    return new TransportError('timeout', `${where}: no SSH handshake within ${Math.round(timeoutMs / 1000)}s`);
  if (e?.code && UNREACHABLE_CODES.has(e.code))
    return new TransportError('unreachable', `${where}: ${e.code} ${msg.replace(/^.*?:\s*/, '')}`.trim());
  if (/handshake failed|protocol|ident|Bad packet length|unsupported/i.test(msg))
    return new TransportError('error', `${where}: SSH protocol error (${msg})`);
  return new TransportError('error', `${where}: ${msg}`);
}
