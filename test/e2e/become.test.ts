// The unattended incident through `ansible_become` (admin + sudo -n) on a queue whose spam has
// quote-heavy envelope senders (issue #8): 300 more messages from the hijacked account, each sender
// 60 single quotes and a number. Put into the purge command with shell quoting, every ' becomes
// '"'"' and sudo's own re-quoting multiplies that again: far past Linux's 128 KiB per argument
// (E2BIG). With the request on stdin the command stays a few KB, and every one of them goes.
// Control characters cannot be reproduced here: exim 4.96 and sendmail 8.17 refuse them in
// MAIL FROM (501); that case is covered on the real /bin/sh by test/mta/purge-stdin.test.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentEnv, lab, type IncidentEnv } from './incident-env.js';
import { labHosts, ownCount, type LabHost } from './lab-host.js';

const TOKEN = 'WHMTOKEN-become-0123456789abcdef';
const BOB = 'bob@example.test';
const HOSTS = ['bookworm-exim', 'trixie-exim', 'bookworm-sendmail'];
const EXTRA = 300;

let hosts: LabHost[] = [];
let env: IncidentEnv;

function inHost(h: LabHost, cmd: string): string {
  return execFileSync('ip', ['netns', 'exec', h.namespace, 'chroot', h.root, '/bin/bash', '-c', cmd], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** bob's lab-only (fake) password, from the lab's settings that set it. */
function bobPassword(): string {
  const m = /\[bob@example\.test\]=(\S+?)[ )]/.exec(readFileSync(join('test', 'lab', 'lib', 'config.sh'), 'utf8'));
  if (!m) throw new Error('no lab password for bob in test/lab/lib/config.sh');
  return m[1]!;
}

/** EXTRA messages over SMTP AUTH as bob, sender "''…''<n>@x.invalid" (60 quotes), 4 senders at once. */
function injectQuoteHeavy(h: LabHost): void {
  writeFileSync(
    join(h.root, 'root', 'ms-quotes.sh'),
    `#!/bin/bash
q=$(printf '%060d' 0 | tr 0 "'")
send() { swaks --server 127.0.0.1 --port 25 --helo client.lab.test --from "\${q}$1@x.invalid" --to "user$1@contoso.example" \\
  --auth PLAIN --auth-user ${BOB} --auth-password "$MS_PW" --header 'Subject: quotes' --body 'x' --timeout 60 --silent 2 >/dev/null || echo "FAILED $1" >&2; }
for w in 0 1 2 3; do ( for ((i = w; i < ${EXTRA}; i += 4)); do send $i; done ) & done
wait
`,
  );
  const err = inHost(h, `MS_PW='${bobPassword()}' bash /root/ms-quotes.sh 2>&1; rm -f /root/ms-quotes.sh`);
  expect(err, h.name).toBe('');
}

/** Envelope senders in the spool (exim -H line 3 / sendmail qf S line), counted. */
function senders(h: LabHost): Record<string, number> {
  const cmd =
    h.mta === 'exim'
      ? `cd /var/spool/exim4/input && for f in *-H; do sed -n 3p "$f"; done`
      : `cd /var/spool/mqueue && grep -h '^S' qf* | sed 's/^S//'`;
  const out: Record<string, number> = {};
  for (const l of inHost(h, cmd).split('\n').filter(Boolean)) out[l] = (out[l] ?? 0) + 1;
  return out;
}

beforeAll(async () => {
  hosts = labHosts();
  env = await incidentEnv(hosts, TOKEN, { user: 'admin', become: true });
}, 120_000);

afterAll(async () => {
  await env?.close();
  await lab('reseed', ...HOSTS);
}, 900_000);

describe('unattended incident with ansible_become, 300 quote-heavy senders', () => {
  it.each(HOSTS)(
    "%s: all of the account's spam goes through sudo, nothing else",
    async (name) => {
      const h = hosts.find((x) => x.name === name)!;
      await lab('reseed', name);
      injectQuoteHeavy(h);
      for (const end = Date.now() + 60_000; ownCount(h) < h.expected.total + EXTRA && Date.now() < end;)
        await new Promise((r) => setTimeout(r, 500));
      expect(ownCount(h), name).toBe(h.expected.total + EXTRA);
      const quoted = Object.entries(senders(h)).filter(([s]) => s.includes("''''''''''"));
      expect(quoted.length, name).toBe(EXTRA);

      const r = await env.incident(name, ['--yes', '--auth-id', BOB]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr + r.stdout).not.toMatch(/Argument list too long|E2BIG/);
      expect(ownCount(h), name).toBe(h.expected.legit);
      const unrelated = h.expected.unrelatedBounces ?? 0;
      expect(senders(h), name).toEqual({
        ...Object.fromEntries(Object.entries(h.expected.legitByUser).map(([u, n]) => [`<${u}>`, n])),
        ...(unrelated ? { '<>': unrelated } : {}),
      });
    },
    600_000,
  );
});
