// Shared by the e2e suites: the lab's hosts (.lab/hosts.json) and the MTA's own queue count.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const LAB = resolve(process.env.MAILSWEEP_LAB_DIR ?? '.lab');
export const CLI = resolve('dist/cli.js');

export interface LabHost {
  name: string;
  address: string;
  mta: 'exim' | 'postfix' | 'sendmail';
  suite: string;
  namespace: string;
  root: string;
  hostKeyEd25519: string;
  expected: {
    total: number;
    legit: number;
    legitByUser: Record<string, number>;
    spam: number;
    backscatter: number;
    backscatterFrozen: number;
    /** Every queued bounce: the account's backscatter plus unrelated ones (absent in older recordings). */
    bounces?: number;
    bouncesFrozen?: number;
    /** Foreign bounces not caused by the spam run: the incident must leave them. */
    unrelatedBounces?: number;
    compromisedAuthId: string;
    legitUsers: string[];
  };
}

/** The lab must be up: this suite fails (never skips) without it. */
export function labHosts(): LabHost[] {
  if (!existsSync(join(LAB, 'hosts.json'))) throw new Error(`lab is not up: ${LAB}/hosts.json missing (run test/lab/lab up)`);
  return (JSON.parse(readFileSync(join(LAB, 'hosts.json'), 'utf8')) as { hosts: LabHost[] }).hosts;
}

/** Ask the MTA itself, inside the lab host, not through mailsweep. */
export function ownCount(h: LabHost): number {
  const cmd = { exim: 'exim -bpc', postfix: 'postqueue -p | tail -n 1', sendmail: 'mailq' }[h.mta];
  const out = execFileSync('ip', ['netns', 'exec', h.namespace, 'chroot', h.root, '/bin/sh', '-c', cmd], { encoding: 'utf8' });
  if (h.mta === 'exim') return Number(out.trim());
  if (h.mta === 'postfix') return /Mail queue is empty/.test(out) ? 0 : Number(/in (\d+) Requests?\./.exec(out)![1]);
  // Debian prints an MSP and an MTA section, each with its own "Total requests:".
  const totals = [...out.matchAll(/Total requests: (\d+)/g)];
  const dirs = [...out.matchAll(/\((\d+) requests?\)/g)];
  return (totals.length ? totals : dirs).reduce((n, m) => n + Number(m[1]), 0);
}
