// FAKE infrastructure (tests, and the fake WHM of `mailsweep demo --incident`): a throw-away
// self-signed certificate for 127.0.0.1/localhost. node:crypto cannot write X.509 certificates,
// so this runs `openssl req -x509` into a temp dir.

import { execFileSync } from 'node:child_process';
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
