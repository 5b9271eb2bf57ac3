// --list-hosts: the hosts a run would reach, one per line, or (--vars) each one's resolved
// connection and vars as JSON, with anything secret-looking redacted.

import { printable } from '../text/printable.js';
import type { HostSpec } from './types.js';
import { isSecretName } from './vars.js';

function redact(v: unknown, key: string): unknown {
  if (isSecretName(key) && v !== null && v !== undefined && v !== '') return '[redacted]';
  if (Array.isArray(v)) return v.map((x) => redact(x, ''));
  if (v !== null && typeof v === 'object' && !(v instanceof Date) && v.constructor === Object)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x, k)]));
  return v;
}

// JSON escapes C0 controls itself; C1 controls and bidi overrides could still reorder a terminal line.
const UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function listHosts(hosts: HostSpec[], withVars: boolean): string {
  if (!withVars) return hosts.map((h) => `${printable(h.name)}\n`).join('');
  const out: Record<string, unknown> = {};
  for (const h of hosts) {
    out[h.name] = redact(
      {
        address: h.address,
        port: h.port,
        user: h.user,
        ...(h.privateKeyFile ? { privateKeyFile: h.privateKeyFile } : {}),
        connection: h.connection,
        become: h.become,
        becomeUser: h.becomeUser,
        ...(h.jump ? { jump: h.jump } : {}),
        ...(h.mta ? { mta: h.mta } : {}),
        queueWarn: h.queueWarn,
        queueCrit: h.queueCrit,
        groups: h.groups,
        source: h.source,
        vars: h.vars,
      },
      '',
    );
  }
  return `${JSON.stringify(out, null, 2).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}
