// FAKE infrastructure (tests, and the fake WHM of `mailsweep demo --incident`): a throw-away
// self-signed certificate for 127.0.0.1/localhost. node:crypto cannot write X.509 certificates,
// so this runs `openssl req -x509` into a temp dir.

import { execFileSync } from 'node:child_process';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCert {
  key: string;
  cert: string;
}

export function makeSelfSignedCert(cn = '127.0.0.1'): SelfSignedCert {
  const dir = mkdtempSync(join(tmpdir(), 'mailsweep-fake-cert-'));
  try {
    openssl(dir, cn);
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An HTTPS server with a fresh self-signed certificate, listening on 127.0.0.1 at a free port. */
export async function startLoopbackHttps(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: https.Server; cert: string }> {
  const { key, cert } = makeSelfSignedCert();
  const server = https.createServer({ key, cert }, handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, cert };
}

function openssl(dir: string, cn: string): void {
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        `/CN=${cn}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the openssl command is not installed' : (e as Error).message;
    throw new Error(`cannot make a self-signed certificate (openssl req -x509): ${why}`);
  }
}
