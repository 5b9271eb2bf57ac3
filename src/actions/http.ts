// A small HTTPS client on node:https (fetch/undici cannot take a per-request CA without the
// undici package): per-client TLS agent honouring `ca`, verification on unless `insecure`,
// a hard overall timeout, and errors classified into ApiError kinds with redacted messages.

import https from 'node:https';
import tls from 'node:tls';
import { ApiError, type ApiService } from '../errors.js';

export interface TlsOptions {
  /** Extra trusted CA certificate(s), PEM. Added to (not replacing) Node's default roots. */
  ca?: Buffer | string;
  /** Skip certificate verification. Only when explicitly requested. */
  insecure?: boolean;
}

export function makeAgent(opts: TlsOptions): https.Agent {
  const options: https.AgentOptions = { keepAlive: false, rejectUnauthorized: opts.insecure !== true };
  if (opts.ca !== undefined) {
    // `ca` replaces Node's default roots; keep them so a public certificate still verifies.
    options.ca = [...tls.rootCertificates, typeof opts.ca === 'string' ? opts.ca : opts.ca.toString('utf8')];
  }
  return new https.Agent(options);
}

export interface HttpRequest {
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  agent: https.Agent;
  timeoutMs: number;
  service: ApiService;
  call: string;
  /** Redacts messages built from low-level errors (they should not contain secrets anyway). */
  redact: (s: string) => string;
}

export interface HttpResponse {
  status: number;
  contentType: string;
  body: string;
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

export function isTlsErrorCode(code: string | undefined): boolean {
  if (code === undefined) return false;
  return TLS_CODES.has(code) || /^ERR_(TLS|SSL)_/.test(code) || /CERT|SELF_SIGNED/.test(code);
}

/** Classify a socket/TLS failure (not an HTTP status) into an ApiError. */
export function networkError(
  err: unknown,
  where: { service: ApiService; call: string; target: string; timeoutMs: number },
  redact: (s: string) => string,
): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { code?: string; message?: string };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const msg = redact(String(e?.message ?? err));
  const base = { service: where.service, call: where.call, ...(code ? { code } : {}) };
  if (isTlsErrorCode(code))
    return new ApiError(
      'tls',
      `${where.call}: TLS certificate of ${where.target} is not trusted (${code}: ${msg}); ` +
        `give its CA certificate (ca) or, only if you must, insecure: true`,
      base,
    );
  return new ApiError('network', `${where.call}: cannot reach ${where.target} (${code ?? 'error'}: ${msg})`, base);
}

export function httpsRequest(req: HttpRequest): Promise<HttpResponse> {
  const target = `${req.url.protocol}//${req.url.host}`;
  const where = { service: req.service, call: req.call, target, timeoutMs: req.timeoutMs };
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(req.body));
    const r = https.request(req.url, { method: req.method, headers, agent: req.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => finish(() => reject(networkError(err, where, req.redact))));
      res.on('end', () =>
        finish(() =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        ),
      );
    });
    const timer = setTimeout(() => {
      finish(() =>
        reject(
          new ApiError('network', `${req.call}: no answer from ${target} within ${req.timeoutMs} ms (timed out)`, {
            service: req.service,
            call: req.call,
            code: 'ETIMEDOUT',
            timedOut: true,
          }),
        ),
      );
      r.destroy();
    }, req.timeoutMs);
    r.on('error', (err) => finish(() => reject(networkError(err, where, req.redact))));
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

/** A short, redacted excerpt of a response body for error messages. */
export function excerpt(body: string, redact: (s: string) => string, max = 200): string {
  const one = body.replace(/\s+/g, ' ').trim();
  return redact(one.length > max ? `${one.slice(0, max)}…` : one);
}
